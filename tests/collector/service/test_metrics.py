"""``/metrics`` parses strictly and its numbers are exactly what was sent (and what Parquet holds)."""

from __future__ import annotations

import math
import time
from pathlib import Path

from callscope.collector.service import CollectorService
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.collector.service import promtext
from tests.collector.service.conftest import StartService
from tests.collector.service.helpers import get, make_spans, post, query


def scrape(service: CollectorService) -> dict[str, promtext.Family]:
    assert service.http_port is not None
    answer = get(service.http_port, "/metrics")
    assert answer.status == 200
    assert answer.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return promtext.parse(answer.body.decode())


def scrape_when(service: CollectorService, ready: str, expected: float) -> dict[str, promtext.Family]:
    """Scrape until the sum of samples of ``ready`` reaches ``expected`` (rows are written asynchronously)."""
    deadline = time.monotonic() + 30
    while True:
        families = scrape(service)
        if sum(families[ready].samples.values()) >= expected or time.monotonic() > deadline:
            return families
        time.sleep(0.05)


def test_metrics_count_calls_tokens_latency_and_ingest_exactly(
    start_service: StartService, data_dir: Path
) -> None:
    service = start_service()
    assert service.http_port is not None
    assert service.grpc_port is not None
    http = HttpExporter(endpoint=f"http://127.0.0.1:{service.http_port}/v1/traces", timeout=10)
    assert http.export(make_spans(20)) is SpanExportResult.SUCCESS
    assert http.export(make_spans(5, genai=False)) is SpanExportResult.SUCCESS
    grpc = GrpcExporter(endpoint=f"127.0.0.1:{service.grpc_port}", insecure=True, timeout=10)
    assert grpc.export(make_spans(10)) is SpanExportResult.SUCCESS
    assert post(service.http_port, b"\xff garbage").status == 400
    assert post(service.http_port, b"", path="/v1/metrics").status == 404
    http.shutdown()
    grpc.shutdown()

    m = scrape_when(service, "callscope_collector_rows_written_total", 35)
    labels = {"service": "checkout", "model": "gpt-4o-mini"}
    assert promtext.value(m, "callscope_calls_total", **labels, status="ok") == 16 + 8
    assert promtext.value(m, "callscope_calls_total", **labels, status="error") == 4 + 2
    input_tokens = sum(100 + i for i in range(20)) + sum(100 + i for i in range(10))
    output_tokens = sum(10 + i for i in range(20)) + sum(10 + i for i in range(10))
    assert promtext.value(m, "callscope_tokens_total", **labels, type="input") == input_tokens
    assert promtext.value(m, "callscope_tokens_total", **labels, type="output") == output_tokens
    duration = "callscope_call_duration_seconds"
    assert promtext.value(m, f"{duration}_count", **labels) == 30
    assert math.isclose(promtext.value(m, f"{duration}_sum", **labels), 30 * 0.25)
    assert promtext.value(m, f"{duration}_bucket", **labels, le="0.1") == 0
    assert promtext.value(m, f"{duration}_bucket", **labels, le="0.25") == 30

    assert promtext.value(m, "callscope_collector_requests_total", transport="http", outcome="ok") == 2
    assert promtext.value(m, "callscope_collector_requests_total", transport="grpc", outcome="ok") == 1
    assert (
        promtext.value(m, "callscope_collector_requests_total", transport="http", outcome="bad_request") == 1
    )
    assert promtext.value(m, "callscope_collector_requests_total", transport="http", outcome="not_found") == 1
    assert promtext.value(m, "callscope_collector_spans_accepted_total", transport="http") == 25
    assert promtext.value(m, "callscope_collector_spans_accepted_total", transport="grpc") == 10
    assert promtext.value(m, "callscope_collector_rows_written_total", table="calls") == 30
    assert promtext.value(m, "callscope_collector_rows_written_total", table="spans") == 5
    assert promtext.value(m, "callscope_collector_write_errors_total") == 0
    assert promtext.value(m, "callscope_collector_healthy") == 1
    assert promtext.value(m, "callscope_collector_buffer_limit_bytes") == 64 * 2**20
    cost = promtext.value(m, "callscope_cost_usd_total", **labels)

    service.stop()
    [(parquet_cost, rows)] = query(data_dir, "calls", "SELECT sum(cost_usd), count(*) FROM t")
    assert rows == 30
    assert cost > 0
    assert math.isclose(cost, parquet_cost, rel_tol=1e-9)  # /metrics agrees with the call log


def test_health_and_readiness(start_service: StartService) -> None:
    service = start_service()
    assert service.http_port is not None
    assert get(service.http_port, "/healthz").status == 200
    ready = get(service.http_port, "/readyz")
    assert ready.status == 200
    assert b'"status": "ready"' in ready.body
