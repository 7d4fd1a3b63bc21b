"""When the dataset cannot be written: readiness turns 503, acknowledged spans wait in the spool, nothing
is lost, and writing resumes by itself (fault injection: a writer whose flushes fail on demand)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from callscope.collector.errors import StorageError
from callscope.collector.service import CollectorService, PipelineLimits
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.collector.service.conftest import StartService, inline
from tests.collector.service.helpers import get, make_spans, query, span_ids


class FlakyWriter:
    """The real writer, except that ``flush`` fails while :attr:`broken` is set (as S3 being down would)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.writer_id = inner.writer_id
        self.broken = threading.Event()

    def add_values(self, rows: Iterable[Any]) -> int:
        result: int = self.inner.add_values(rows)
        return result

    def flush(self) -> list[str]:
        if self.broken.is_set():
            raise StorageError("cannot write s3://bucket/calls/...: connection refused")
        result: list[str] = self.inner.flush()
        return result

    def close(self) -> list[str]:
        result: list[str] = self.flush() + self.inner.close()
        return result


def flaky_service(start_service: StartService, **settings: Any) -> tuple[CollectorService, FlakyWriter]:
    service = start_service(limits=PipelineLimits(flush_interval_s=0.1), **settings)
    assert service.pipeline is not None
    flaky = FlakyWriter(inline(service).writer)
    inline(service).writer = flaky
    return service, flaky


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_failing_dataset_turns_unready_keeps_the_spool_and_recovers(
    start_service: StartService, data_dir: Path
) -> None:
    service, flaky = flaky_service(start_service)
    port = service.http_port
    assert port is not None
    flaky.broken.set()
    exporter = OTLPSpanExporter(endpoint=f"http://127.0.0.1:{port}/v1/traces", timeout=10)
    spans = make_spans(60)
    assert exporter.export(spans) is SpanExportResult.SUCCESS  # acknowledged: it is in the spool
    wait_for(lambda: service.metrics.write_errors.value() >= 2)
    ready = get(port, "/readyz")
    assert ready.status == 503
    assert b'"dataset_writes_ok": false' in ready.body
    assert get(port, "/healthz").status == 200  # alive, just not ready
    assert service.spool.size_bytes > 0

    flaky.broken.clear()
    wait_for(lambda: service.metrics.rows_written.value("calls") == 60)
    assert get(port, "/readyz").status == 200
    exporter.shutdown()
    service.stop()
    assert {row[0] for row in query(data_dir, "calls", "SELECT span_id FROM t")} == span_ids(spans)


def test_a_stop_while_the_dataset_fails_keeps_everything_for_the_next_start(
    start_service: StartService, data_dir: Path, tmp_path: Path
) -> None:
    spool = tmp_path / "kept-spool"
    service, flaky = flaky_service(start_service, spool_dir=str(spool), shutdown_timeout_s=1.0)
    flaky.broken.set()
    exporter = OTLPSpanExporter(endpoint=f"http://127.0.0.1:{service.http_port}/v1/traces", timeout=10)
    spans = make_spans(35)
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    exporter.shutdown()
    assert service.stop() is False  # gave up writing; the spool keeps the requests
    assert list(spool.glob("*.wal"))
    assert not (data_dir / "calls").exists()

    again = start_service(spool_dir=str(spool))  # the dataset works again
    assert again.replayed is not None
    assert again.replayed.requests == 1
    again.stop()
    assert {row[0] for row in query(data_dir, "calls", "SELECT span_id FROM t")} == span_ids(spans)
    assert list(spool.glob("*.wal")) == []


class BrokenWriter(FlakyWriter):
    """A writer that fails in an unexpected way (a bug): the writer thread stops."""

    def add_values(self, rows: Iterable[Any]) -> int:
        raise RuntimeError("bug in the writer")


def test_a_dead_writer_thread_fails_liveness_and_a_restart_replays(
    start_service: StartService, data_dir: Path, tmp_path: Path
) -> None:
    spool = tmp_path / "kept-spool"
    service = start_service(spool_dir=str(spool), shutdown_timeout_s=1.0)
    assert service.pipeline is not None
    inline(service).writer = BrokenWriter(inline(service).writer)
    port = service.http_port
    assert port is not None
    exporter = OTLPSpanExporter(endpoint=f"http://127.0.0.1:{port}/v1/traces", timeout=3)
    spans = make_spans(20)
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    pipeline = service.pipeline
    wait_for(lambda: pipeline.fatal is not None)
    assert get(port, "/healthz").status == 503  # an orchestrator restarts it
    assert get(port, "/readyz").status == 503
    assert exporter.export(make_spans(5)) is SpanExportResult.FAILURE  # 503: retried elsewhere, not lost
    exporter.shutdown()
    assert service.stop() is False

    again = start_service(spool_dir=str(spool))
    assert again.replayed is not None
    assert again.replayed.requests == 1
    again.stop()
    assert {row[0] for row in query(data_dir, "calls", "SELECT span_id FROM t")} == span_ids(spans)
