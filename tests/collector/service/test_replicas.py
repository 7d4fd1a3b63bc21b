"""Stateless replicas: several collectors, each with its own spool, write one dataset."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import s3fs
from callscope.collector.service import SpoolError
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.collector.service.conftest import StartService
from tests.collector.service.helpers import make_spans, parquet_files, query, span_ids


def test_two_replicas_write_one_dataset(start_service: StartService, data_dir: Path) -> None:
    replicas = [start_service(), start_service()]
    writer_ids = {writer for replica in replicas for writer in replica.writer_ids}
    assert len(writer_ids) == 2
    sent: set[str] = set()
    for number, replica in enumerate(replicas):
        exporter = OTLPSpanExporter(endpoint=f"http://127.0.0.1:{replica.http_port}/v1/traces", timeout=10)
        for _ in range(3):
            spans = make_spans(40 + number, service=f"replica-{number}")
            assert exporter.export(spans) is SpanExportResult.SUCCESS
            sent |= span_ids(spans)
        exporter.shutdown()
    for replica in replicas:
        replica.stop()
    assert query(data_dir, "calls", "SELECT service_name, count(*) FROM t GROUP BY 1 ORDER BY 1") == [
        ("replica-0", 120),
        ("replica-1", 123),
    ]
    assert {row[0] for row in query(data_dir, "calls", "SELECT span_id FROM t")} == sent
    prefixes = {path.name.rsplit("-", 1)[0] for path in parquet_files(data_dir, "calls")}
    assert prefixes == writer_ids


def test_replicas_cannot_share_a_spool(start_service: StartService, tmp_path: Path) -> None:
    start_service(spool_dir=str(tmp_path / "shared"))
    with pytest.raises(SpoolError, match="give each replica its own --spool"):
        start_service(spool_dir=str(tmp_path / "shared"))


@pytest.fixture
def s3_bucket(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A moto S3 server on a free loopback port with an empty bucket; yields s3fs options."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        endpoint = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(endpoint, timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "moto did not start"
                time.sleep(0.1)
        options = {"endpoint_url": endpoint, "key": "test", "secret": "test"}
        s3fs.S3FileSystem(**options).mkdir("callscope-test")
        yield options
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
def test_replicas_write_one_dataset_on_object_storage(
    start_service: StartService, s3_bucket: dict[str, str]
) -> None:
    data = "s3://callscope-test/team"
    replicas = [start_service(data=data, storage_options=s3_bucket) for _ in range(2)]
    sent: set[str] = set()
    for replica in replicas:
        exporter = OTLPSpanExporter(endpoint=f"http://127.0.0.1:{replica.http_port}/v1/traces", timeout=10)
        spans = make_spans(60)
        assert exporter.export(spans) is SpanExportResult.SUCCESS
        sent |= span_ids(spans)
        exporter.shutdown()
    for replica in replicas:
        replica.stop()
    filesystem = s3fs.S3FileSystem(**s3_bucket)
    keys = filesystem.glob("callscope-test/team/calls/date=*/*.parquet")
    assert len({key.rsplit("/", 1)[1].rsplit("-", 1)[0] for key in keys}) == 2  # one writer id per replica
    connection = duckdb.connect()
    connection.register_filesystem(filesystem)
    rows = connection.execute(
        f"SELECT span_id FROM read_parquet('{data}/calls/**/*.parquet', hive_partitioning=true)"
    ).fetchall()
    connection.close()
    assert sorted(row[0] for row in rows) == sorted(sent)
