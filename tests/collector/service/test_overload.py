"""Overload: a full buffer answers 429 / UNAVAILABLE with a retry delay, and the exporters' retries deliver.

The dataset writer is held back by a gate (fault injection), so the buffer
fills deterministically instead of racing a fast writer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
from callscope.collector.service import CollectorService, PipelineLimits
from google.rpc.error_details_pb2 import RetryInfo
from google.rpc.status_pb2 import Status
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.collector.service.conftest import StartService, inline
from tests.collector.service.helpers import make_spans, otlp_body, post, query, raw_export, span_ids

MAX_REQUEST = 64 * 1024


class GatedWriter:
    """Delegates to the real writer, but ``add_values`` waits until the gate opens."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.writer_id = inner.writer_id
        self.gate = threading.Event()

    def add_values(self, rows: Iterable[Any]) -> int:
        assert self.gate.wait(30), "the test never opened the gate"
        result: int = self.inner.add_values(rows)
        return result

    def flush(self) -> list[str]:
        result: list[str] = self.inner.flush()
        return result

    def close(self) -> list[str]:
        self.gate.set()
        result: list[str] = self.inner.close()
        return result


def gated_service(start_service: StartService) -> tuple[CollectorService, GatedWriter]:
    limits = PipelineLimits(max_buffer_bytes=2 * MAX_REQUEST, flush_interval_s=0.2, retry_after_s=1.0)
    service = start_service(limits=limits, max_request_bytes=MAX_REQUEST)
    assert service.pipeline is not None
    gated = GatedWriter(inline(service).writer)
    inline(service).writer = gated
    return service, gated


def fill_until_refused(send: Callable[[bytes], bool], body: bytes) -> int:
    """Send ``body`` until the receiver refuses one; returns how many were accepted."""
    for accepted in range(20):
        if not send(body):
            return accepted
    raise AssertionError("the buffer never filled")


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_http_full_buffer_answers_429_with_retry_after_and_the_exporter_retries(
    start_service: StartService, data_dir: Path
) -> None:
    service, gated = gated_service(start_service)
    port = service.http_port
    assert port is not None
    filler = make_spans(40)
    body = otlp_body(filler)
    refused: list[Any] = []

    def send(payload: bytes) -> bool:
        answer = post(port, payload)
        if answer.status != 200:
            refused.append(answer)
        return answer.status == 200

    accepted = fill_until_refused(send, body)
    assert accepted >= 1
    answer = refused[0]
    assert answer.status == 429
    assert answer.headers["retry-after"] == "1"
    assert "buffer is full" in Status.FromString(answer.body).message
    assert service.pipeline is not None
    assert service.pipeline.buffered_bytes <= 2 * MAX_REQUEST  # memory stays bounded

    late = make_spans(30)
    exporter = HttpExporter(endpoint=f"http://127.0.0.1:{port}/v1/traces", timeout=20)
    overloaded_before = service.metrics.requests.value("http", "overloaded")
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(exporter.export, late)
        wait_for(lambda: service.metrics.requests.value("http", "overloaded") > overloaded_before)
        gated.gate.set()  # the writer catches up; the exporter's retry (after Retry-After) gets in
        assert result.result(timeout=30) is SpanExportResult.SUCCESS
    exporter.shutdown()
    service.stop()
    stored = {row[0] for row in query(data_dir, "calls", "SELECT span_id FROM t")}
    assert span_ids(late) <= stored
    assert query(data_dir, "calls", "SELECT count(*) FROM t") == [(40 * accepted + 30,)]


def test_grpc_full_buffer_answers_unavailable_with_retry_info_and_the_exporter_retries(
    start_service: StartService, data_dir: Path
) -> None:
    service, gated = gated_service(start_service)
    port = service.grpc_port
    assert port is not None
    body = otlp_body(make_spans(40))
    errors: list[grpc.RpcError] = []

    def send(payload: bytes) -> bool:
        try:
            raw_export(port, payload)
        except grpc.RpcError as err:
            errors.append(err)
            return False
        return True

    accepted = fill_until_refused(send, body)
    error = errors[0]
    assert error.code() is grpc.StatusCode.UNAVAILABLE
    trailers = dict(error.trailing_metadata())
    assert RetryInfo.FromString(trailers["google.rpc.retryinfo-bin"]).retry_delay.seconds == 1
    status = Status.FromString(trailers["grpc-status-details-bin"])
    assert status.code == grpc.StatusCode.UNAVAILABLE.value[0]
    retry_info = RetryInfo()
    assert status.details[0].Unpack(retry_info)
    assert retry_info.retry_delay.seconds == 1

    late = make_spans(25)
    exporter = GrpcExporter(endpoint=f"127.0.0.1:{port}", insecure=True, timeout=20)
    refused_before = service.metrics.requests.value("grpc", "overloaded")
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(exporter.export, late)
        wait_for(lambda: service.metrics.requests.value("grpc", "overloaded") > refused_before)
        gated.gate.set()
        assert result.result(timeout=30) is SpanExportResult.SUCCESS
    exporter.shutdown()
    service.stop()
    assert query(data_dir, "calls", "SELECT count(*) FROM t") == [(40 * accepted + 25,)]
