from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from callscope.analytics import Analytics, connect

from tests.analytics.builders import write_calls, write_table

OpenDataset = Callable[..., Analytics]


@pytest.fixture
def open_dataset(tmp_path: Path) -> Iterator[OpenDataset]:
    """``open_dataset(calls, spans=(), **connect_options)``: write the rows as Parquet and connect."""
    opened: list[Analytics] = []

    def _open(
        calls: Sequence[Mapping[str, Any]], spans: Sequence[Mapping[str, Any]] = (), **options: Any
    ) -> Analytics:
        root = tmp_path / f"data{len(opened)}"
        root.mkdir()
        if calls:
            write_calls(root, calls)
        if spans:
            write_table(root, "spans", spans)
        analytics = connect(str(root), **options)
        opened.append(analytics)
        return analytics

    yield _open
    for analytics in opened:
        analytics.close()
