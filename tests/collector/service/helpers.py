"""Spans, raw HTTP and DuckDB helpers shared by the receiver service tests."""

from __future__ import annotations

import http.client
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import grpc
from callscope.instrumentation import attributes as A
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

_counter = itertools.count()


def make_spans(
    count: int, *, service: str = "checkout", model: str = "gpt-4o-mini", genai: bool = True
) -> list[ReadableSpan]:
    """``count`` finished spans with known values: GenAI client calls, or plain server spans.

    Call ``i`` has ``input_tokens = 100 + i`` and ``output_tokens = 10 + i`` so each row can be
    checked exactly; every fifth call is an error.
    """
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service, "service.version": "1.2.3"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("callscope.instrumentation")
    batch = next(_counter)
    for i in range(count):
        start = 1_764_000_000_000_000_000 + (batch * 10_000 + i) * 1_000_000
        if genai:
            span = tracer.start_span(f"chat {model}", kind=SpanKind.CLIENT, start_time=start)
            span.set_attributes(
                {
                    A.OPERATION: "chat",
                    A.PROVIDER: "openai",
                    A.REQUEST_MODEL: model,
                    A.RESPONSE_MODEL: f"{model}-2024-07-18",
                    A.INPUT_TOKENS: 100 + i,
                    A.OUTPUT_TOKENS: 10 + i,
                    A.FINISH_REASONS: ("stop",),
                    A.SERVER_ADDRESS: "api.openai.com",
                    A.TAG_PREFIX + "feature": "summarize",
                }
            )
            if i % 5 == 4:
                span.set_attribute(A.ERROR_TYPE, "RateLimitError")
                span.set_status(Status(StatusCode.ERROR, "rate limited"))
            span.end(end_time=start + 250_000_000)  # 250 ms
        else:
            span = tracer.start_span("GET /search", kind=SpanKind.SERVER, start_time=start)
            span.set_attribute("http.route", "/search")
            span.end(end_time=start + 5_000_000)
    provider.shutdown()
    spans = list(memory.get_finished_spans())
    assert len(spans) == count
    return spans


def span_ids(spans: Sequence[ReadableSpan]) -> set[str]:
    return {format(span.context.span_id, "016x") for span in spans}


def otlp_body(spans: Sequence[ReadableSpan]) -> bytes:
    """The binary protobuf body the real exporters send for ``spans``."""
    return encode_spans(spans).SerializeToString()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def post(
    port: int,
    body: bytes,
    headers: Mapping[str, str] | None = None,
    path: str = "/v1/traces",
    method: str = "POST",
) -> Answer:
    """One raw HTTP request on a fresh connection (to see exactly what the receiver answers)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        send_headers = {"Content-Type": "application/x-protobuf", **(headers or {})}
        connection.request(method, path, body=body, headers=send_headers)
        response = connection.getresponse()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


def get(port: int, path: str, headers: Mapping[str, str] | None = None) -> Answer:
    return post(port, b"", headers={"Content-Type": "", **(headers or {})}, path=path, method="GET")


def query(data: Path | str, table: str, sql: str) -> list[tuple[Any, ...]]:
    """Run ``sql`` with plain DuckDB over ``<data>/<table>/**/*.parquet``, exposed as the view ``t``."""
    connection = duckdb.connect()
    try:
        files = f"{data}/{table}/**/*.parquet"
        source = f"read_parquet('{files}', hive_partitioning=true, union_by_name=true)"
        connection.execute(f"CREATE VIEW t AS SELECT * FROM {source}")
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def parquet_files(data: Path, table: str) -> list[Path]:
    return sorted((data / table).rglob("*.parquet"))


EXPORT_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def raw_export(port: int, body: bytes, metadata: tuple[tuple[str, str], ...] = ()) -> bytes:
    """Call the gRPC Export method with exact bytes, to see the receiver's own status codes."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = channel.unary_unary(EXPORT_METHOD)
        result: bytes = call(body, metadata=metadata, timeout=10)
        return result
