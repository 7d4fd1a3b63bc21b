"""User SQL: only reads, only the dataset, within a time limit and a row cap."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from callscope.analytics import (
    Analytics,
    AnalyticsError,
    QueryError,
    QueryTimeout,
    RefusedQuery,
    check_user_sql,
    connect,
    run_user_sql,
)

from tests.analytics.builders import at, call, snapshot, write_calls


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Analytics, Path, Path]]:
    """A dataset under ``tmp/data`` and, beside it, a folder with a secret and another Parquet file.

    Shared by the module's tests: each checks afterwards that nothing changed.
    """
    tmp_path = tmp_path_factory.mktemp("sandbox")
    data = tmp_path / "data"
    write_calls(data, [call(start_time=at(), cost_usd=1.5, input_tokens=10)])
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text("password\nhunter2\n")
    pq.write_table(pa.table({"secret": ["hunter2"]}), outside / "other.parquet")
    with connect(str(data)) as analytics:
        yield analytics, data, outside


HOSTILE = [
    ("COPY calls TO '{out}/stolen.csv'", "COPY"),
    ("COPY (SELECT 1) TO '{data}/calls/date=2026-03-02/evil.parquet' (FORMAT parquet)", "COPY"),
    ("EXPORT DATABASE '{out}/export'", "EXPORT"),
    ("ATTACH '{out}/x.duckdb' AS x", "ATTACH"),
    ("DETACH memory", "DETACH"),
    ("INSTALL httpfs", "LOAD"),
    ("FORCE INSTALL httpfs", "LOAD"),
    ("LOAD httpfs", "LOAD"),
    ("LOAD '{out}/evil.duckdb_extension'", "LOAD"),
    ("SET enable_external_access = true", "SET"),
    ("SET threads = 1", "SET"),
    ("RESET lock_configuration", "SET"),
    ("USE temp", "SET"),
    ("PRAGMA enable_profiling", "PRAGMA"),
    ("CALL pragma_version()", "CALL"),
    ("CHECKPOINT", "CALL"),
    ("CREATE TABLE t AS SELECT * FROM calls", "CREATE"),
    ("CREATE OR REPLACE VIEW calls AS SELECT 1 AS x", "CREATE"),
    ("CREATE MACRO m(a) AS a", "CREATE"),
    ("CREATE SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')", "CREATE"),
    ("DROP VIEW calls", "DROP"),
    ("INSERT INTO prices (model) VALUES ('free')", "INSERT"),
    ("UPDATE prices SET input_mtok = 0", "UPDATE"),
    ("DELETE FROM prices", "DELETE"),
    ("ALTER VIEW calls RENAME TO c", "ALTER"),
    ("VACUUM", "VACUUM"),
    ("BEGIN TRANSACTION", "TRANSACTION"),
    ("PREPARE p AS SELECT 1", "PREPARE"),
    ("SELECT 1; DROP VIEW calls", "2 statements"),
    ("SELECT 1; SELECT 2", "2 statements"),
    ("EXPLAIN ANALYZE COPY (SELECT 1) TO '{out}/x.csv'", "EXPLAIN of anything but a SELECT"),
    ("EXPLAIN (FORMAT json) CREATE TABLE t AS SELECT 1", "EXPLAIN of anything but a SELECT"),
    ("UPDATE EXTENSIONS", "not allowed"),
    ("WITH gone AS (DELETE FROM prices RETURNING *) SELECT count(*) FROM gone", "tries to change data"),
    (
        "WITH x AS (INSERT INTO prices (model) VALUES ('free') RETURNING *) SELECT * FROM x",
        "tries to change data",
    ),
    ("WITH x AS (UPDATE prices SET input_mtok = 0 RETURNING *) SELECT * FROM x", "tries to change data"),
    ("WITH x AS (DELETE FROM _column_docs RETURNING *) SELECT * FROM x", "tries to change data"),
    ("EXPLAIN ANALYZE WITH x AS (DELETE FROM prices RETURNING *) SELECT * FROM x", "tries to change data"),
]

OUTSIDE_READS = [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_csv('{out}/secret.csv')",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM read_blob('{out}/secret.csv')",
    "SELECT * FROM read_parquet('{out}/other.parquet')",
    "SELECT * FROM read_parquet('{data}/../outside/other.parquet')",
    "SELECT * FROM '{out}/other.parquet'",
    "SELECT * FROM read_json_auto('/etc/hostname')",
    "SELECT * FROM sniff_csv('{out}/secret.csv')",
    "SELECT * FROM parquet_metadata('{out}/other.parquet')",
    "SELECT * FROM glob('/*')",
    "SELECT * FROM glob('{out}/*')",
]


def _unchanged(
    analytics: Analytics, data: Path, outside: Path, before: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    assert (snapshot(data), snapshot(outside)) == before
    assert run_user_sql(analytics, "SELECT count(*) AS n, sum(cost_usd) AS c FROM calls").rows() == [
        {"n": 1, "c": 1.5}
    ]
    settings = run_user_sql(
        analytics,
        "SELECT current_setting('enable_external_access') AS e, current_setting('lock_configuration') AS l",
    ).rows()
    assert settings == [{"e": False, "l": True}]
    assert run_user_sql(
        analytics, "SELECT count(*) AS n FROM prices WHERE input_mtok = 0 OR model = 'free'"
    ).rows() == [{"n": 0}]
    assert run_user_sql(analytics, "SELECT count(*) AS n FROM prices").one()["n"] == len(
        analytics.prices.rows()
    )
    assert run_user_sql(analytics, "SELECT count(*) AS n FROM _column_docs").one()["n"] > 50


@pytest.mark.parametrize(("sql", "reason"), HOSTILE)
def test_statements_that_do_more_than_read_are_refused(place, sql: str, reason: str) -> None:
    analytics, data, outside = place
    before = (snapshot(data), snapshot(outside))
    with pytest.raises(RefusedQuery, match=reason):
        run_user_sql(analytics, sql.format(out=outside, data=data))
    _unchanged(analytics, data, outside, before)


@pytest.mark.parametrize("sql", OUTSIDE_READS)
def test_reading_outside_the_dataset_is_refused(place, sql: str) -> None:
    analytics, data, outside = place
    before = (snapshot(data), snapshot(outside))
    with pytest.raises(RefusedQuery, match="outside the dataset"):
        run_user_sql(analytics, sql.format(out=outside, data=data))
    _unchanged(analytics, data, outside, before)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT getenv('HOME')",
        "SELECT * FROM query('COPY (SELECT 1) TO ''/tmp/callscope-should-not-exist.csv''')",
        "SELECT * FROM os",  # a Python variable: replacement scans are off
        "SELECT * FROM nonexistent_table",
    ],
)
def test_other_tricks_fail_and_change_nothing(place, sql: str) -> None:
    analytics, data, outside = place
    before = (snapshot(data), snapshot(outside))
    with pytest.raises(QueryError):
        run_user_sql(analytics, sql)
    assert not Path("/tmp/callscope-should-not-exist.csv").exists()
    _unchanged(analytics, data, outside, before)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT count(*) FROM calls",
        "  select 1 ;  ",
        "WITH x AS (SELECT 1 AS a) SELECT * FROM x",
        "VALUES (1, 'a'), (2, 'b')",
        "FROM calls SELECT span_id",
        "DESCRIBE calls",
        "SHOW TABLES",
        "SUMMARIZE calls",
        "EXPLAIN SELECT * FROM calls",
        "EXPLAIN ANALYZE SELECT count(*) FROM calls",
        "SELECT key, sum(cost_usd) FROM calls_by('model') GROUP BY key",
        "SELECT * FROM prices LIMIT 1",
        "SELECT * FROM spans",
        "SELECT count(*) FROM read_parquet('{data}/calls/**/*.parquet')",
        "-- a comment\nSELECT 1",
    ],
)
def test_reading_queries_run(place, sql: str) -> None:
    analytics, data, _ = place
    result = run_user_sql(analytics, sql.format(data=data))
    assert result.columns
    assert not result.truncated


def test_syntax_errors_and_empty_input(place) -> None:
    analytics, _, _ = place
    with pytest.raises(QueryError, match="syntax error"):
        run_user_sql(analytics, "SELEC 1")
    with pytest.raises(RefusedQuery, match="no SQL statement"):
        run_user_sql(analytics, "   ")
    with pytest.raises(RefusedQuery, match="no SQL statement"):
        check_user_sql("-- nothing")


def test_time_limit_interrupts_and_the_connection_survives(place) -> None:
    analytics, _, _ = place
    with pytest.raises(QueryTimeout, match=r"longer than 0\.3 s"):
        run_user_sql(analytics, "SELECT count(*) FROM range(100000000000) a, range(10) b", timeout=0.3)
    assert run_user_sql(analytics, "SELECT 42 AS x").rows() == [{"x": 42}]


def test_row_cap_truncates_with_a_flag(place) -> None:
    analytics, _, _ = place
    capped = run_user_sql(analytics, "SELECT * FROM range(25000) t(i)", max_rows=10_000)
    assert (len(capped), capped.truncated) == (10_000, True)
    assert capped.rows()[-1] == {"i": 9999}
    exact = run_user_sql(analytics, "SELECT * FROM range(100) t(i)", max_rows=100)
    assert (len(exact), exact.truncated) == (100, False)
    uncapped = run_user_sql(analytics, "SELECT * FROM range(25000) t(i)", max_rows=0)
    assert (len(uncapped), uncapped.truncated) == (25_000, False)
    # The cap streams: a practically endless result stops at the cap.
    endless = run_user_sql(analytics, "SELECT * FROM range(1000000000000) t(i)", max_rows=5, timeout=20)
    assert (len(endless), endless.truncated) == (5, True)


def test_errors_are_analytics_errors_with_one_line_messages(place) -> None:
    analytics, _, _ = place
    with pytest.raises(AnalyticsError) as caught:
        run_user_sql(analytics, "SELECT * FROM calls WHERE nope = 1")
    assert "nope" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert "LINE" not in str(caught.value)
