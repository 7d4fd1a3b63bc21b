"""The same queries over an S3 prefix (moto's server on 127.0.0.1, read through s3fs: no httpfs)."""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from callscope.analytics import DatasetError, RefusedQuery, connect, run_user_sql

from tests.analytics.builders import at, call, table_of
from tests.analytics.known import ALL, WINDOW

pytestmark = pytest.mark.slow

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A moto S3 server with a bucket holding the known call log under ``logs/``."""
    server = shutil.which("moto_server") or str(Path(sys.executable).parent / "moto_server")
    port = _free_port()
    env = {**os.environ, **CREDENTIALS}
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [server, "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=out, env=env
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"moto_server did not start: {log.read_text()}") from None
                time.sleep(0.05)
        with pytest.MonkeyPatch.context() as patch:
            for key, value in CREDENTIALS.items():
                patch.setenv(key, value)
            import s3fs

            options = {"endpoint_url": f"http://127.0.0.1:{port}", "key": "test", "secret": "test"}
            fs = s3fs.S3FileSystem(**options)
            fs.mkdir("calls-bucket")
            for day in ("2026-03-01", "2026-03-02"):
                rows = [row for row in ALL if row["start_time"].strftime("%Y-%m-%d") == day]
                _put(fs, f"calls-bucket/logs/calls/date={day}/part-0.parquet", table_of("calls", rows))
            _put(fs, "calls-bucket/elsewhere/secret.parquet", pa.table({"secret": ["hunter2"]}))
            yield {"fs": fs, "options": options, "port": port}
    finally:
        process.terminate()
        process.wait(timeout=10)


def _put(fs: Any, key: str, table: pa.Table) -> None:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    fs.pipe_file(key, buffer.getvalue())


def test_queries_over_s3_match_local(s3: dict[str, Any]) -> None:
    with connect("s3://calls-bucket/logs", storage_options=s3["options"]) as analytics:
        assert analytics.dataset.remote
        row = analytics.run_query("overview", WINDOW).first()
        assert row is not None
        assert (row["calls"], row["prev_calls"]) == (13, 2)
        assert round(row["cost_usd"], 2) == 1.90
        costs = {r["key"]: r["cost_usd"] for r in analytics.run_query("cost_by", WINDOW).rows()}
        assert costs["gpt-4o"] == pytest.approx(1.75)


def test_new_objects_are_seen_after_a_refresh(s3: dict[str, Any]) -> None:
    with connect("s3://calls-bucket/logs", storage_options=s3["options"], refresh_interval=0) as analytics:
        before = analytics.run_query("overview").one()["calls"]
        _put(
            s3["fs"],
            "calls-bucket/logs/calls/date=2026-03-03/late.parquet",
            table_of("calls", [call(start_time=at(days=1), cost_usd=3.0)]),
        )
        try:
            assert analytics.run_query("overview").one()["calls"] == before + 1
        finally:
            s3["fs"].rm("calls-bucket/logs/calls/date=2026-03-03/late.parquet")


def test_user_sql_cannot_leave_the_prefix(s3: dict[str, Any]) -> None:
    with connect("s3://calls-bucket/logs", storage_options=s3["options"]) as analytics:
        assert run_user_sql(analytics, "SELECT count(*) AS n FROM calls").rows() == [{"n": 15}]
        for sql in (
            "SELECT * FROM read_parquet('s3://calls-bucket/elsewhere/secret.parquet')",
            "SELECT * FROM glob('s3://calls-bucket/*')",
            "SELECT * FROM read_csv('/etc/passwd')",
        ):
            with pytest.raises(RefusedQuery):
                run_user_sql(analytics, sql)
        with pytest.raises(RefusedQuery):
            run_user_sql(analytics, "COPY calls TO 's3://calls-bucket/logs/stolen.csv'")
    assert not s3["fs"].exists("calls-bucket/logs/stolen.csv")


def test_an_empty_prefix_is_an_empty_dataset_and_a_missing_one_an_error(s3: dict[str, Any]) -> None:
    with connect("s3://calls-bucket/nothing-here", storage_options=s3["options"]) as analytics:
        assert not analytics.has_calls
        assert analytics.run_query("overview").one()["calls"] == 0
    with pytest.raises(DatasetError, match="no dataset at"):
        connect("s3://calls-bucket/nothing-here", storage_options=s3["options"], must_exist=True)
