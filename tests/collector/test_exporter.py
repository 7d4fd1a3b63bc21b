"""ParquetSpanExporter behind the real OTel SDK: N spans in, N rows out, never a raise."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from callscope.collector.errors import StorageError
from callscope.collector.exporter import ParquetSpanExporter, span_record
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExportResult
from opentelemetry.trace import SpanKind, Status, StatusCode

from tests.collector.readback import count, query
from tests.collector.spans import callscope_attributes

RESOURCE = Resource.create(
    {"service.name": "checkout", "service.version": "3.4.5", "deployment.environment": "staging"}
)


def make_provider() -> TracerProvider:
    return TracerProvider(resource=RESOURCE, shutdown_on_exit=False)


def test_n_spans_through_a_batch_span_processor(tmp_path: Path) -> None:
    exporter = ParquetSpanExporter(str(tmp_path), max_age_s=None)
    provider = make_provider()
    provider.add_span_processor(BatchSpanProcessor(exporter, max_export_batch_size=128))
    tracer = provider.get_tracer("callscope.instrumentation", "0.1.0")
    with tracer.start_as_current_span("POST /summarize", kind=SpanKind.SERVER) as handler:
        handler.set_attribute("http.route", "/summarize")
        for i in range(1000):
            with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT) as span:
                span.set_attributes(callscope_attributes(i))
    assert provider.force_flush()
    provider.shutdown()
    assert count(str(tmp_path)) == 1000
    assert count(str(tmp_path), "spans") == 1
    handler_id = f"{handler.get_span_context().span_id:016x}"
    assert query(
        str(tmp_path),
        "SELECT count(DISTINCT span_id), count(*) FILTER (WHERE parent_span_id = ?), sum(input_tokens), "
        "min(service_name), min(service_version), min(deployment_environment), min(instrumentation), "
        "sum(cost_usd), min(tags['customer']) FROM t".replace("?", f"'{handler_id}'"),
    ) == [
        (
            1000,
            1000,
            sum(2000 + i for i in range(1000)),
            "checkout",
            "3.4.5",
            "staging",
            "callscope",
            pytest.approx(0.5232),
            "acme",
        )
    ]


def test_span_record_carries_ids_times_status_scope_and_events() -> None:
    collected: list[Any] = []

    class Collect(ParquetSpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            collected.extend(spans)
            return SpanExportResult.SUCCESS

    provider = make_provider()
    provider.add_span_processor(SimpleSpanProcessor(Collect(str(Path.cwd() / "unused"), max_age_s=None)))
    tracer = provider.get_tracer("opentelemetry.instrumentation.openai_v2")
    with tracer.start_as_current_span("chat gpt-4o", kind=SpanKind.CLIENT) as span:
        span.set_attribute("gen_ai.operation.name", "chat")
        span.add_event("exception", {"exception.type": "openai.RateLimitError"}, timestamp=1_000)
        span.set_status(Status(StatusCode.ERROR, "Error code: 429"))
    (readable,) = collected
    record = span_record(readable)
    context = readable.context
    assert record.trace_id == f"{context.trace_id:032x}"
    assert len(record.trace_id) == 32
    assert record.span_id == f"{context.span_id:016x}"
    assert record.parent_span_id is None
    assert (record.kind, record.status_code, record.status_message) == ("client", "error", "Error code: 429")
    assert record.scope_name == "opentelemetry.instrumentation.openai_v2"
    assert (record.start_time_ns, record.end_time_ns) == (readable.start_time, readable.end_time)
    assert record.resource["service.name"] == "checkout"
    assert [(e.name, e.time_ns, dict(e.attributes)) for e in record.events] == [
        ("exception", 1_000, {"exception.type": "openai.RateLimitError"})
    ]


class BrokenStorageExporter(ParquetSpanExporter):
    def __init__(self, data_dir: str) -> None:
        super().__init__(data_dir, max_rows=1, max_age_s=None)

        def fail(path: str, data: bytes) -> None:
            raise StorageError("disk on fire")

        self.writer.storage.write_file = fail  # type: ignore[method-assign]


def test_never_raises_into_the_sdk(tmp_path: Path) -> None:
    exporter = BrokenStorageExporter(str(tmp_path))
    provider = make_provider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("callscope.instrumentation")
    with tracer.start_as_current_span("chat gpt-4o-mini") as span:  # the export inside fails quietly
        span.set_attributes(callscope_attributes())
    assert exporter.export([object()]) == SpanExportResult.FAILURE  # type: ignore[list-item]
    assert exporter.force_flush() is False
    exporter.shutdown()  # logs, does not raise
    assert exporter.export([]) == SpanExportResult.FAILURE


def test_bounded_memory_writes_while_exporting(tmp_path: Path) -> None:
    exporter = ParquetSpanExporter(str(tmp_path), max_rows=100, max_age_s=None)
    provider = make_provider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("callscope.instrumentation")
    for i in range(250):
        with tracer.start_as_current_span("chat gpt-4o-mini") as span:
            span.set_attributes(callscope_attributes(i))
    assert exporter.writer.files_written == 2
    assert exporter.writer.pending_rows == 50
    exporter.shutdown()
    assert count(str(tmp_path)) == 250


EXIT_SCRIPT = """
import sys
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from callscope.collector.exporter import ParquetSpanExporter
from tests.collector.spans import callscope_attributes

provider = TracerProvider(shutdown_on_exit=False)  # nobody shuts anything down
provider.add_span_processor(SimpleSpanProcessor(ParquetSpanExporter(sys.argv[1], max_age_s=3600)))
tracer = provider.get_tracer("callscope.instrumentation")
for i in range(37):
    with tracer.start_as_current_span("chat gpt-4o-mini") as span:
        span.set_attributes(callscope_attributes(i))
sys.exit(3)
"""


@pytest.mark.slow
def test_rows_reach_disk_when_the_process_exits_without_shutdown(tmp_path: Path) -> None:
    script = tmp_path / "app.py"
    script.write_text(textwrap.dedent(EXIT_SCRIPT))
    data = tmp_path / "data"
    root = str(Path(__file__).parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(
        [sys.executable, str(script), str(data)], env=env, capture_output=True, check=False, timeout=120
    )
    assert result.returncode == 3, result.stderr.decode()
    assert count(str(data)) == 37


def test_spans_shaped_like_each_peer_land_in_the_same_columns(tmp_path: Path) -> None:
    """The real peer spans of the fixtures, replayed through the SDK and the exporter."""
    from tests.collector.spans import PEERS, peer_records

    exporter = ParquetSpanExporter(str(tmp_path), max_age_s=None)
    provider = make_provider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    expected = 0
    for peer in PEERS:
        for records in peer_records(peer).values():
            for record in records:
                tracer = provider.get_tracer(record.scope_name or "unknown")
                span = tracer.start_span(
                    record.name, kind=SpanKind[record.kind.upper()], attributes=dict(record.attributes)
                )
                for event in record.events:
                    span.add_event(event.name, dict(event.attributes), timestamp=event.time_ns)
                if record.status_code == "error":
                    span.set_status(Status(StatusCode.ERROR, record.status_message))
                span.end()
                expected += 1
    exporter.shutdown()
    rows = query(
        str(tmp_path),
        "SELECT instrumentation, count(*), sum(input_tokens), sum(output_tokens), "
        "count(*) FILTER (WHERE status = 'error'), "
        "count(*) FILTER (WHERE http_status = 429), round(sum(cost_usd), 10) FROM t GROUP BY 1 ORDER BY 1",
    )
    assert rows == [
        (
            "openai-v2",
            8,
            2 * (2000 + 12 + 8),
            2 * (500 + 3),
            2,
            2,
            round(2 * (0.0006 + 3.6e-06 + 1.6e-07), 10),
        ),
        (
            "openinference",
            5,
            2000 + 12 + 8 + 1500,
            500 + 3 + 300,
            1,
            1,
            round(0.0005232 + 3.6e-06 + 1.6e-07 + 0.0003282, 10),
        ),
        (
            "openllmetry",
            9,
            2 * 2000 + 12 + 2 * 8 + 1500,
            2 * 500 + 3 + 300,
            2,
            2,
            round(2 * 0.0005232 + 3.6e-06 + 2 * 1.6e-07 + 0.0003282, 10),
        ),
    ]
    assert sum(row[1] for row in rows) == expected
