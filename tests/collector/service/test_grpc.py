"""OTLP/gRPC: the real Python gRPC exporter in, plain DuckDB out; auth and bad input get gRPC codes."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.collector.service.conftest import StartService
from tests.collector.service.helpers import get, make_spans, otlp_body, query, raw_export, span_ids


def exporter(port: int, compression: grpc.Compression | None = None, **kwargs: object) -> OTLPSpanExporter:
    return OTLPSpanExporter(
        endpoint=f"127.0.0.1:{port}",
        insecure=True,
        compression=compression,
        timeout=10,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("compression", [None, grpc.Compression.Gzip])
def test_exporter_spans_land_in_parquet(
    start_service: StartService, data_dir: Path, compression: grpc.Compression | None
) -> None:
    service = start_service()
    assert service.grpc_port is not None
    calls = make_spans(80, service="search")
    sender = exporter(service.grpc_port, compression)
    assert sender.export(calls[:40]) is SpanExportResult.SUCCESS
    assert sender.export(calls[40:]) is SpanExportResult.SUCCESS
    assert sender.export(make_spans(7, genai=False)) is SpanExportResult.SUCCESS
    sender.shutdown()
    service.stop()
    rows = query(
        data_dir, "calls", "SELECT span_id, service_name, input_tokens, output_tokens FROM t ORDER BY 3"
    )
    assert {row[0] for row in rows} == span_ids(calls)
    assert [row[1:] for row in rows] == [("search", 100 + i, 10 + i) for i in range(80)]
    assert query(data_dir, "spans", "SELECT count(*) FROM t") == [(7,)]


def test_token_is_required_when_set(start_service: StartService, data_dir: Path) -> None:
    service = start_service(token="s3cret")
    port = service.grpc_port
    assert port is not None
    body = otlp_body(make_spans(3))
    for metadata in ((), (("authorization", "Bearer nope"),)):
        with pytest.raises(grpc.RpcError) as caught:
            raw_export(port, body, metadata)
        assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
        assert "bearer token" in caught.value.details()
    answer = raw_export(port, body, (("authorization", "Bearer s3cret"),))
    assert ExportTraceServiceResponse.FromString(answer) == ExportTraceServiceResponse()
    sender = exporter(port, headers=(("authorization", "Bearer s3cret"),))
    assert sender.export(make_spans(5)) is SpanExportResult.SUCCESS
    sender.shutdown()
    service.stop()
    assert query(data_dir, "calls", "SELECT count(*) FROM t") == [(8,)]


def test_bad_input_gets_invalid_argument_and_the_server_keeps_serving(
    start_service: StartService, data_dir: Path
) -> None:
    service = start_service(max_request_bytes=64 * 1024)
    port = service.grpc_port
    assert port is not None
    with pytest.raises(grpc.RpcError) as malformed:
        raw_export(port, b"\xff\xff\xff garbage")
    assert malformed.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "not a protobuf ExportTraceServiceRequest" in malformed.value.details()

    with pytest.raises(grpc.RpcError) as too_big:
        raw_export(port, b"\x0a" + b"\x00" * (64 * 1024 + 10))
    assert too_big.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED

    request = ExportTraceServiceRequest.FromString(otlp_body(make_spans(3)))
    request.resource_spans[0].scope_spans[0].spans[0].span_id = b""
    response = ExportTraceServiceResponse.FromString(raw_export(port, request.SerializeToString()))
    assert response.partial_success.rejected_spans == 1

    assert raw_export(port, otlp_body(make_spans(4))) == b""
    assert service.http_port is not None
    metrics = get(service.http_port, "/metrics").body.decode()
    assert 'callscope_collector_requests_total{transport="grpc",outcome="bad_request"} 1' in metrics
    service.stop()
    assert query(data_dir, "calls", "SELECT count(*) FROM t") == [(6,)]
