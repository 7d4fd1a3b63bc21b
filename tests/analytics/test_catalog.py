"""The named queries as a whole: headers, parameters, docs, and that each one runs anywhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from callscope.analytics import DIMENSIONS, Analytics, Filters, connect, query_catalog
from callscope.analytics.querydocs import markdown

from callscope import analytics as analytics_package
from tests.analytics.builders import at, write_calls
from tests.analytics.known import ALL

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = {"span_id": "0000000000000001", "key": "feature", "target": "gpt-4o-mini"}


def test_every_query_has_a_summary_and_uses_exactly_its_parameters() -> None:
    queries = query_catalog()
    assert len(queries) >= 30
    for name, query in queries.items():
        assert query.summary, name
        used = set(re.findall(r"\$([a-z_]+)", query.sql))
        assert used == {param.name for param in query.params}, name
        for param in query.params:
            assert param.doc.endswith("."), (name, param.name)


@pytest.fixture(scope="module")
def empty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Analytics]:
    with connect(str(tmp_path_factory.mktemp("empty"))) as analytics:
        yield analytics


@pytest.mark.parametrize("name", sorted(query_catalog()))
def test_every_query_runs_on_an_empty_dataset(empty: Analytics, name: str) -> None:
    takes = {param.name for param in empty.query(name).params}
    params = {key: value for key, value in REQUIRED.items() if key in takes}
    result = empty.run_query(name, Filters(since="30d", services="api", tags={"feature": "x"}), **params)
    assert result.columns


def test_every_dimension_groups_the_known_log(tmp_path: Path) -> None:
    write_calls(tmp_path, ALL)
    with connect(str(tmp_path)) as analytics:
        for dimension in [*DIMENSIONS, "tag:feature", "tag:missing"]:
            rows = analytics.run_query("cost_by", by=dimension).rows()
            assert sum(row["calls"] for row in rows) == 15, dimension
            keys = [row["key"] for row in rows]
            if dimension in ("none", "tag:missing"):
                assert keys == [None]
            else:
                assert any(key is not None for key in keys), dimension


def test_queries_md_is_generated_from_the_code() -> None:
    committed = (ROOT / "docs" / "queries.md").read_text(encoding="utf-8")
    assert committed == markdown(), (
        "docs/queries.md is stale: python -m callscope.analytics.querydocs > docs/queries.md"
    )


def test_public_api_is_curated() -> None:
    exported = set(analytics_package.__all__)
    public = {name for name in vars(analytics_package) if not name.startswith("_")}
    modules = {name for name, value in vars(analytics_package).items() if type(value).__name__ == "module"}
    assert exported == public - modules - {"annotations"}
    assert {"connect", "Analytics", "Filters", "QueryResult", "run_user_sql", "AnalyticsError"} <= exported


def test_analytics_is_thread_safe(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    write_calls(tmp_path, ALL)
    with connect(str(tmp_path)) as analytics:

        def work(i: int) -> float:
            filters = Filters(since=at(-12), until=at(12), services="api" if i % 2 else None)
            return float(analytics.run_query("overview", filters).one()["cost_usd"])

        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(work, range(16)))
    assert results == [pytest.approx(1.9003 if i % 2 == 0 else 1.9) for i in range(16)]


def test_closing_deletes_the_scratch_folder(tmp_path: Path) -> None:
    analytics: Analytics = connect(str(tmp_path))
    scratch = Path(analytics._scratch)
    assert scratch.exists()
    analytics.close()
    assert not scratch.exists()
