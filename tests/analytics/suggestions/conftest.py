from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from callscope.analytics.suggestions import RuleContext, Thresholds

from tests.analytics.suggestions.dataset import Dataset

Open = Callable[..., RuleContext]


@pytest.fixture
def open_ctx(tmp_path: Path) -> Iterator[Open]:
    """``open_ctx(dataset, period_days=1.0, thresholds=None)``: the dataset as Parquet + DuckDB views."""
    opened: list[RuleContext] = []

    def _open(
        dataset: Dataset, *, period_days: float = 1.0, thresholds: Thresholds | None = None
    ) -> RuleContext:
        folder = tmp_path / f"data{len(opened)}"
        ctx = dataset.context(folder, period_days=period_days, thresholds=thresholds)
        opened.append(ctx)
        return ctx

    yield _open
    for ctx in opened:
        ctx.con.close()
