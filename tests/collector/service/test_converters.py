"""``--converters N``: conversion in worker processes, same dataset, same metrics, same durability."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from callscope.collector.service import PipelineLimits
from callscope.collector.service.converter import ProcessConverters
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.collector.service.conftest import StartService
from tests.collector.service.helpers import get, make_spans, parquet_files, query, span_ids


@pytest.mark.slow  # starting worker processes takes a few seconds
def test_worker_processes_write_every_span_once_and_count_them(
    start_service: StartService, data_dir: Path
) -> None:
    service = start_service(converters=2)
    assert service.pipeline is not None
    assert isinstance(service.pipeline.converter, ProcessConverters)
    assert [writer.rsplit("-", 1)[1] for writer in service.writer_ids] == ["c0", "c1"]
    sent: set[str] = set()
    http = HttpExporter(endpoint=f"http://127.0.0.1:{service.http_port}/v1/traces", timeout=10)
    grpc = GrpcExporter(endpoint=f"127.0.0.1:{service.grpc_port}", insecure=True, timeout=10)
    for exporter in (http, grpc, http, grpc):
        spans = make_spans(30)
        assert exporter.export(spans) is SpanExportResult.SUCCESS
        sent |= span_ids(spans)
    assert http.export(make_spans(4, genai=False)) is SpanExportResult.SUCCESS
    http.shutdown()
    grpc.shutdown()
    service.stop()

    assert {row[0] for row in query(data_dir, "calls", "SELECT span_id FROM t")} == sent
    assert query(data_dir, "calls", "SELECT count(*), sum(input_tokens) FROM t") == [
        (120, 4 * sum(100 + i for i in range(30)))
    ]
    assert query(data_dir, "spans", "SELECT count(*) FROM t") == [(4,)]
    prefixes = {path.name.rsplit("-", 1)[0] for path in parquet_files(data_dir, "calls")}
    assert prefixes == set(service.writer_ids)  # round-robin: both processes wrote
    metrics = service.metrics
    assert metrics.calls.value("checkout", "gpt-4o-mini", "ok") == 4 * 24
    assert metrics.calls.value("checkout", "gpt-4o-mini", "error") == 4 * 6
    assert metrics.rows_written.value("calls") == 120
    assert metrics.rows_written.value("spans") == 4


@pytest.mark.slow
def test_a_dead_worker_process_fails_liveness_and_a_restart_replays(
    start_service: StartService, data_dir: Path, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    service = start_service(
        converters=2, spool_dir=str(spool), limits=PipelineLimits(flush_interval_s=60), shutdown_timeout_s=2
    )
    assert service.pipeline is not None
    converter = service.pipeline.converter
    assert isinstance(converter, ProcessConverters)
    exporter = HttpExporter(endpoint=f"http://127.0.0.1:{service.http_port}/v1/traces", timeout=3)
    first = make_spans(25)
    assert exporter.export(first) is SpanExportResult.SUCCESS
    os.kill(converter._processes[1].pid, signal.SIGKILL)  # a worker dies (OOM killer, a segfault)
    second = make_spans(25)
    assert exporter.export(second) is SpanExportResult.SUCCESS  # spooled: acknowledged all the same
    third = make_spans(25)
    deadline = time.monotonic() + 20
    while service.pipeline.fatal is None:  # the next body for the dead worker reveals it
        exporter.export(third)
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert service.http_port is not None
    assert get(service.http_port, "/healthz").status == 503
    exporter.shutdown()
    assert service.stop() is False

    again = start_service(spool_dir=str(spool))
    again.stop()
    stored = {row[0] for row in query(data_dir, "calls", "SELECT span_id FROM t")}
    assert span_ids(first) | span_ids(second) <= stored
