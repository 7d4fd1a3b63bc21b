"""OTLP/HTTP: the real Python exporter in, plain DuckDB out; every bad input gets its OTLP answer."""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path

import pytest
from google.rpc.status_pb2 import Status
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.collector.service.conftest import StartService
from tests.collector.service.helpers import get, make_spans, otlp_body, post, query, span_ids


def exporter(
    port: int, compression: Compression = Compression.NoCompression, headers: dict[str, str] | None = None
) -> OTLPSpanExporter:
    return OTLPSpanExporter(
        endpoint=f"http://127.0.0.1:{port}/v1/traces", compression=compression, timeout=10, headers=headers
    )


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip, Compression.Deflate])
def test_exporter_spans_land_in_parquet_with_their_values(
    start_service: StartService, data_dir: Path, compression: Compression
) -> None:
    service = start_service()
    assert service.http_port is not None
    calls = make_spans(120, service="checkout")
    handlers = make_spans(30, genai=False, service="checkout")
    sender = exporter(service.http_port, compression)
    for batch in (calls[:50], calls[50:], handlers):
        assert sender.export(batch) is SpanExportResult.SUCCESS
    sender.shutdown()
    service.stop()

    rows = query(
        data_dir,
        "calls",
        "SELECT span_id, service_name, service_version, request_model, input_tokens, output_tokens, "
        "status, duration_ms, tags['feature'] FROM t ORDER BY input_tokens",
    )
    assert len(rows) == 120
    assert {row[0] for row in rows} == span_ids(calls)
    for i, row in enumerate(rows):
        assert row[1:] == (
            "checkout",
            "1.2.3",
            "gpt-4o-mini",
            100 + i,
            10 + i,
            "error" if i % 5 == 4 else "ok",
            250.0,
            "summarize",
        )
    assert query(data_dir, "spans", "SELECT count(*), min(name), min(kind) FROM t") == [
        (30, "GET /search", "server")
    ]


def test_json_requests_as_the_spec_writes_them(start_service: StartService, data_dir: Path) -> None:
    service = start_service()
    assert service.http_port is not None
    document = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "json-svc"}}]},
                "scopeSpans": [
                    {
                        "scope": {"name": "my.library", "version": "1.0.0"},
                        "spans": [
                            {
                                "traceId": "5B8EFFF798038103D269B633813FC60C",  # upper-case hex
                                "spanId": "EEE19B7EC3C1B174",
                                "parentSpanId": "EEE19B7EC3C1B173",
                                "name": "chat gpt-4o",
                                "startTimeUnixNano": "1544712660000000000",  # int64 as a string
                                "endTimeUnixNano": 1544712661500000000,  # ... or as a number
                                "kind": 3,
                                "attributes": [
                                    {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                                    {"key": "gen_ai.provider.name", "value": {"stringValue": "openai"}},
                                    {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
                                    {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "1200"}},
                                    {"key": "gen_ai.usage.output_tokens", "value": {"intValue": 34}},
                                ],
                                "status": {"code": 2, "message": "boom"},
                                "someFieldFromTheFuture": {"ignored": True},
                            }
                        ],
                    }
                ],
            }
        ]
    }
    answer = post(service.http_port, json.dumps(document).encode(), {"Content-Type": "application/json"})
    assert answer.status == 200, answer.body
    assert answer.headers["content-type"] == "application/json"
    assert json.loads(answer.body) == {}
    service.stop()
    assert query(
        data_dir,
        "calls",
        "SELECT trace_id, span_id, parent_span_id, service_name, request_model, input_tokens, output_tokens, "
        "duration_ms, status FROM t",
    ) == [
        (
            "5b8efff798038103d269b633813fc60c",
            "eee19b7ec3c1b174",
            "eee19b7ec3c1b173",
            "json-svc",
            "gpt-4o",
            1200,
            34,
            1500.0,
            "error",
        )
    ]


def test_partial_success_counts_spans_with_bad_ids(start_service: StartService, data_dir: Path) -> None:
    service = start_service()
    assert service.http_port is not None
    request = ExportTraceServiceRequest.FromString(otlp_body(make_spans(4)))
    spans = request.resource_spans[0].scope_spans[0].spans
    spans[1].trace_id = b"\x00" * 16
    spans[2].span_id = b"short"
    answer = post(service.http_port, request.SerializeToString())
    assert answer.status == 200
    response = ExportTraceServiceResponse.FromString(answer.body)
    assert response.partial_success.rejected_spans == 2
    assert "invalid trace_id" in response.partial_success.error_message
    service.stop()
    assert query(data_dir, "calls", "SELECT count(*) FROM t") == [(2,)]


def test_token_is_required_when_set(start_service: StartService, data_dir: Path) -> None:
    service = start_service(token="s3cret")
    assert service.http_port is not None
    spans = make_spans(10)
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "s3cret"},
        {"Authorization": "Basic s3cret"},
    ):
        answer = post(service.http_port, otlp_body(spans), headers)
        assert answer.status == 401
        assert answer.headers["www-authenticate"].startswith("Bearer")
        assert "bearer token" in Status.FromString(answer.body).message
    assert get(service.http_port, "/metrics").status == 401
    assert get(service.http_port, "/healthz").status == 200  # load balancers probe without credentials

    assert exporter(service.http_port).export(spans) is SpanExportResult.FAILURE
    authorized = exporter(service.http_port, headers={"Authorization": "Bearer s3cret"})
    assert authorized.export(spans) is SpanExportResult.SUCCESS
    assert get(service.http_port, "/metrics", {"Authorization": "Bearer s3cret"}).status == 200
    service.stop()
    assert query(data_dir, "calls", "SELECT count(*) FROM t") == [(10,)]


def test_bad_requests_get_clear_answers_and_the_server_keeps_serving(
    start_service: StartService, data_dir: Path
) -> None:
    service = start_service(max_request_bytes=64 * 1024)
    port = service.http_port
    assert port is not None
    good = otlp_body(make_spans(5))

    def message(answer_body: bytes, protobuf: bool = True) -> str:
        return Status.FromString(answer_body).message if protobuf else str(json.loads(answer_body)["message"])

    malformed = post(port, b"\xff\xff\xff garbage")
    assert malformed.status == 400
    assert "not a protobuf ExportTraceServiceRequest" in message(malformed.body)

    bad_json = post(port, b'{"resourceSpans": [', {"Content-Type": "application/json"})
    assert bad_json.status == 400
    assert "not valid JSON" in message(bad_json.body, protobuf=False)

    bad_id = post(
        port,
        b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz"}]}]}]}',
        {"Content-Type": "application/json"},
    )
    assert bad_id.status == 400
    assert "traceId 'xyz'" in message(bad_id.body, protobuf=False)

    bad_gzip = post(port, b"not gzip at all", {"Content-Encoding": "gzip"})
    assert bad_gzip.status == 400
    assert "not valid gzip" in message(bad_gzip.body)

    truncated = post(port, gzip.compress(good)[:-12], {"Content-Encoding": "gzip"})
    assert truncated.status == 400

    too_big = post(port, b"\x00" * (64 * 1024 + 1))
    assert too_big.status == 413
    assert "65536-byte limit" in message(too_big.body)

    bomb = gzip.compress(b"\x00" * (50 * 2**20))  # 50 MiB of zeros in ~50 KiB
    assert len(bomb) < 64 * 1024
    answer = post(port, bomb, {"Content-Encoding": "gzip"})
    assert answer.status == 413
    assert "once decompressed" in message(answer.body)

    unknown_encoding = post(port, good, {"Content-Encoding": "br"})
    assert unknown_encoding.status == 415

    for content_type in ("text/plain", ""):
        answer = post(port, good, {"Content-Type": content_type})
        assert answer.status == 415
        assert "application/x-protobuf" in json.loads(answer.body)["message"]

    not_found = post(port, good, path="/v1/logs")
    assert not_found.status == 404
    assert "POST /v1/traces" in message(not_found.body)

    wrong_method = get(port, "/v1/traces")
    assert wrong_method.status == 405
    assert wrong_method.headers["allow"] == "POST"

    # Still serving: a good request, plain and raw-deflated, is accepted.
    assert post(port, good).status == 200
    raw_deflate = zlib.compressobj(wbits=-15)
    assert (
        post(port, raw_deflate.compress(good) + raw_deflate.flush(), {"Content-Encoding": "deflate"}).status
        == 200
    )
    assert get(port, "/healthz").status == 200
    service.stop()
    assert query(data_dir, "calls", "SELECT count(*) FROM t") == [(10,)]


def test_empty_request_is_a_success(start_service: StartService) -> None:
    service = start_service()
    assert service.http_port is not None
    answer = post(service.http_port, b"")
    assert answer.status == 200
    assert ExportTraceServiceResponse.FromString(answer.body) == ExportTraceServiceResponse()
