"""The views over the files: missing, empty, growing and mixed-version datasets."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from callscope.analytics import DatasetError, connect
from callscope.collector.schema import DUCKDB_TYPES, TABLES

from tests.analytics.builders import at, call, table_of, write_calls, write_table


def _columns(analytics, table: str) -> dict[str, str]:
    rows = analytics.sql(f"DESCRIBE {table}").rows()
    return {row["column_name"]: row["column_type"] for row in rows}


def _expected_columns(table: str) -> dict[str, str]:
    expected = {column.name: DUCKDB_TYPES[column.kind] for column in TABLES[table]}
    return {**expected, "date": "DATE"}


@pytest.mark.parametrize("state", ["missing", "empty folder", "empty table folders"])
def test_no_files_gives_empty_typed_views(tmp_path: Path, state: str) -> None:
    root = tmp_path / "data"
    if state != "missing":
        root.mkdir()
    if state == "empty table folders":
        (root / "calls" / "date=2026-03-02").mkdir(parents=True)
    with connect(str(root)) as analytics:
        assert not analytics.has_calls
        for table in ("calls", "spans"):
            assert _columns(analytics, table) == _expected_columns(table)
            assert analytics.sql(f"SELECT count(*) AS n FROM {table}").rows() == [{"n": 0}]
        overview = analytics.run_query("overview").first()
        assert overview is not None
        assert overview["calls"] == 0
        assert overview["cost_usd"] == 0


def test_missing_dataset_is_an_error_only_when_it_must_exist(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no dataset at"):
        connect(str(tmp_path / "nope"), must_exist=True)
    connect(str(tmp_path / "nope")).close()


def test_a_file_is_not_a_dataset(tmp_path: Path) -> None:
    path = tmp_path / "file.txt"
    path.write_text("x")
    with pytest.raises(DatasetError, match="not a directory"):
        connect(str(path))


@pytest.mark.parametrize("url", ["nosuchproto://bucket/x", "s3://"])
def test_bad_urls_are_dataset_errors(url: str) -> None:
    with pytest.raises(DatasetError):
        connect(url)


def test_views_have_every_schema_column_and_the_partition_date(tmp_path: Path) -> None:
    write_calls(tmp_path, [call(start_time=at(), cost_usd=0.5)])
    with connect(str(tmp_path)) as analytics:
        assert _columns(analytics, "calls") == _expected_columns("calls")
        assert analytics.sql("SELECT date FROM calls").rows() == [{"date": date(2026, 3, 2)}]


def test_files_of_an_older_schema_still_read(tmp_path: Path) -> None:
    # An older writer without cache_write_tokens and tags; a newer one with an extra column.
    write_calls(
        tmp_path,
        [call(start_time=at(), input_tokens=10, cost_usd=0.25)],
        name="old",
        drop=["cache_write_tokens", "tags"],
    )
    newer = table_of(
        "calls",
        [call(start_time=at(1), input_tokens=20, cache_write_tokens=5, tags={"f": "x"}, cost_usd=0.5)],
    )
    newer = newer.append_column("future_column", pa.array(["hello"]))
    pq.write_table(newer, tmp_path / "calls" / "date=2026-03-02" / "new.parquet")
    with connect(str(tmp_path)) as analytics:
        columns = _columns(analytics, "calls")
        assert columns["cache_write_tokens"] == "BIGINT"
        assert columns["future_column"] == "VARCHAR"
        rows = analytics.sql(
            "SELECT input_tokens, cache_write_tokens, tags['f'] AS f, future_column "
            "FROM calls ORDER BY input_tokens"
        ).rows()
        assert rows == [
            {"input_tokens": 10, "cache_write_tokens": None, "f": None, "future_column": None},
            {"input_tokens": 20, "cache_write_tokens": 5, "f": "x", "future_column": "hello"},
        ]
        assert analytics.run_query("overview").one()["cost_usd"] == 0.75


def test_a_column_no_file_has_is_a_typed_null(tmp_path: Path) -> None:
    write_calls(tmp_path, [call(start_time=at(), cost_usd=1.0)], drop=["reasoning_tokens", "finish_reasons"])
    with connect(str(tmp_path)) as analytics:
        columns = _columns(analytics, "calls")
        assert (columns["reasoning_tokens"], columns["finish_reasons"]) == ("BIGINT", "VARCHAR[]")
        assert analytics.run_query("token_distribution").one()["reasoning_share"] is None


def test_a_column_stored_with_an_older_type_is_cast(tmp_path: Path) -> None:
    old = table_of("calls", [call(start_time=at(), input_tokens=7)])
    old = old.set_column(
        old.schema.get_field_index("input_tokens"), "input_tokens", pa.array([7], pa.int32())
    )
    (tmp_path / "calls" / "date=2026-03-02").mkdir(parents=True)
    pq.write_table(old, tmp_path / "calls" / "date=2026-03-02" / "old.parquet")
    with connect(str(tmp_path)) as analytics:
        assert _columns(analytics, "calls")["input_tokens"] == "BIGINT"
        assert analytics.sql("SELECT input_tokens FROM calls").rows() == [{"input_tokens": 7}]


def test_files_outside_date_folders_read_with_a_derived_date(tmp_path: Path) -> None:
    write_calls(tmp_path, [call(start_time=at(days=1), cost_usd=2.0)], hive=False)
    with connect(str(tmp_path)) as analytics:
        assert analytics.sql("SELECT date, cost_usd FROM calls").rows() == [
            {"date": date(2026, 3, 3), "cost_usd": 2.0}
        ]


def test_new_files_are_seen_without_reconnecting(tmp_path: Path) -> None:
    with connect(str(tmp_path)) as analytics:
        assert analytics.run_query("overview").one()["calls"] == 0
        write_calls(tmp_path, [call(start_time=at(), cost_usd=1.0)], name="a")
        assert analytics.run_query("overview").one()["calls"] == 1
        write_calls(tmp_path, [call(start_time=at(days=1), cost_usd=2.0)], name="b")
        overview = analytics.run_query("overview").one()
        assert (overview["calls"], overview["cost_usd"]) == (2, 3.0)
        shutil.rmtree(tmp_path / "calls")
        assert analytics.run_query("overview").one()["calls"] == 0


def test_a_new_file_with_another_schema_switches_to_union_by_name(tmp_path: Path) -> None:
    write_calls(tmp_path, [call(start_time=at(), input_tokens=1)], name="a")
    # No listing before each query: the query fails on the new file's schema, which makes
    # callscope look again and retry with union_by_name.
    with connect(str(tmp_path), refresh_interval=3600) as analytics:
        assert analytics.sql("SELECT sum(input_tokens) AS n FROM calls").rows() == [{"n": 1}]
        write_calls(tmp_path, [call(start_time=at(), input_tokens=2)], name="b", drop=["tags", "attributes"])
        rows = analytics.sql("SELECT sum(input_tokens) AS n, count(attributes) AS a FROM calls").rows()
        assert rows == [{"n": 3, "a": 0}]
        assert analytics.run_query("tag_keys").rows() == []


def test_temporary_files_being_written_are_not_read(tmp_path: Path) -> None:
    write_calls(tmp_path, [call(start_time=at(), cost_usd=1.0)])
    (tmp_path / "calls" / "date=2026-03-02" / ".part-1.parquet.123.tmp").write_bytes(b"PAR1 half a file")
    with connect(str(tmp_path)) as analytics:
        assert analytics.run_query("overview").one()["calls"] == 1


def test_spans_view(tmp_path: Path) -> None:
    from tests.analytics.builders import span

    write_table(tmp_path, "spans", [span(name="GET /x", start_time=at())])
    with connect(str(tmp_path)) as analytics:
        assert analytics.sql("SELECT name FROM spans").rows() == [{"name": "GET /x"}]
        assert not analytics.has_calls


def test_files_replaced_between_listing_and_query_are_retried(tmp_path: Path) -> None:
    write_calls(tmp_path, [call(start_time=at(), cost_usd=1.0)], name="small-1")
    write_calls(tmp_path, [call(start_time=at(1), cost_usd=2.0)], name="small-2")
    with connect(str(tmp_path), refresh_interval=3600) as analytics:  # no listing before each query
        assert analytics.run_query("overview").one()["calls"] == 2
        # A compaction: the two files become one with a new name.
        folder = tmp_path / "calls" / "date=2026-03-02"
        merged = pq.read_table(sorted(folder.glob("*.parquet")))
        for path in folder.glob("*.parquet"):
            path.unlink()
        pq.write_table(merged, folder / "compacted.parquet")
        overview = analytics.run_query("overview").one()
        assert (overview["calls"], overview["cost_usd"]) == (2, 3.0)


def test_paths_with_quotes_and_spaces(tmp_path: Path) -> None:
    root = tmp_path / "it's my data"
    write_calls(root, [call(start_time=at(), cost_usd=1.25)])
    with connect(str(root)) as analytics:
        assert analytics.run_query("overview").one()["cost_usd"] == 1.25
