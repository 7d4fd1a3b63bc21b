"""In-process exporter throughput: ReadableSpan -> SpanRecord -> row -> Parquet, on one core.

Spans are made by the real OTel SDK (a ``TracerProvider`` whose processor hands
finished spans over in batches of 512, as ``BatchSpanProcessor`` does) with the
attributes callscope's instrumentation sets on a chat call. Only the exporter's
work is timed: ``export(batch)`` for every batch and the final ``shutdown``,
which writes the Parquet files. The time is the exporting thread's CPU time
(``time.thread_time``), so other processes on a busy machine distort it less
than wall time; wall time is shown too. One-time imports (pyarrow, which pulls
in pandas when installed) happen before timing. Peak memory is measured in a
second pass under tracemalloc (it slows Python down, so it is not timed).

    .venv/bin/python benchmarks/collector_exporter.py [--spans 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Iterator, Sequence
from typing import Any

from callscope.collector.exporter import ParquetSpanExporter
from callscope.instrumentation import attributes as A
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind

BATCH = 512  # BatchSpanProcessor's default max_export_batch_size


class _Collect(SpanExporter):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def _attributes(i: int) -> dict[str, Any]:
    return {
        A.OPERATION: "chat",
        A.PROVIDER: "openai",
        A.API_TYPE: "chat_completions",
        A.REQUEST_MODEL: "gpt-4o-mini",
        A.RESPONSE_MODEL: "gpt-4o-mini-2024-07-18",
        A.RESPONSE_ID: f"chatcmpl-{i:012d}",
        A.FINISH_REASONS: ("stop",),
        A.INPUT_TOKENS: 1000 + i % 977,
        A.OUTPUT_TOKENS: 50 + i % 211,
        A.CACHED_INPUT_TOKENS: (i % 3) * 128,
        A.REASONING_TOKENS: 0,
        A.USAGE_SOURCE: "api",
        A.COST_USD: 0.00027 + (i % 100) * 1e-6,
        A.STATUS: "ok",
        A.SERVER_ADDRESS: "api.openai.com",
        A.SERVER_PORT: 443,
        A.HTTP_STATUS: 200,
        A.ATTEMPTS: 1,
        A.ATTEMPT_STATUSES: ("200",),
        A.ATTEMPT_DURATIONS_MS: (300.0 + i % 500,),
        A.RETRY_WAIT_MS: 0.0,
        A.REQUEST_ID: f"req_{i:016x}",
        A.SERVER_PROCESSING_MS: 280.0 + i % 450,
        A.RATELIMIT_REMAINING_REQUESTS: 4999 - i % 100,
        A.RATELIMIT_REMAINING_TOKENS: 1_999_000 - i % 10_000,
        A.RATELIMIT_LIMIT_REQUESTS: 5000,
        A.RATELIMIT_LIMIT_TOKENS: 2_000_000,
        A.REQUEST_MAX_TOKENS: 512,
        A.REQUEST_TEMPERATURE: 0.2,
        A.REQUEST_TOOL_COUNT: 0,
        A.REQUEST_MESSAGE_COUNT: 2 + i % 5,
        A.REQUEST_INPUT_CHARS: 4000 + i % 3000,
        A.REQUEST_PREFIX_CHARS: 1200,
        A.REQUEST_HASH: f"{(i * 2654435761) % 2**64:016x}" * 4,
        A.PREFIX_HASH: f"{i % 7:064x}",
        A.RESPONSE_SERVICE_TIER: "default",
        A.SYSTEM_FINGERPRINT: "fp_44709d6fcb",
        A.TAG_PREFIX + "feature": ("summarize", "classify", "chat")[i % 3],
        A.TAG_PREFIX + "customer": f"customer-{i % 40}",
    }


def batches(total: int) -> Iterator[list[ReadableSpan]]:
    """Real SDK spans, a batch at a time (made just before export, as in a live app)."""
    collect = _Collect()
    provider = TracerProvider(
        resource=Resource.create({"service.name": "bench", "service.version": "1.0.0"}),
        shutdown_on_exit=False,
    )
    provider.add_span_processor(SimpleSpanProcessor(collect))
    tracer = provider.get_tracer("callscope.instrumentation")
    made = 0
    while made < total:
        count = min(BATCH, total - made)
        for i in range(made, made + count):
            with tracer.start_as_current_span(
                "chat gpt-4o-mini", kind=SpanKind.CLIENT, attributes=_attributes(i)
            ):
                pass
        made += count
        batch, collect.spans = collect.spans, []
        yield batch


def run(total: int, *, trace_memory: bool = False) -> dict[str, float]:
    data = tempfile.mkdtemp(prefix="callscope-bench-")
    try:
        exporter = ParquetSpanExporter(data, max_age_s=None)
        busy = wall = 0.0
        if trace_memory:
            tracemalloc.start()
        gc.collect()
        for batch in batches(total):
            start, start_wall = time.thread_time(), time.perf_counter()
            exporter.export(batch)
            busy += time.thread_time() - start
            wall += time.perf_counter() - start_wall
            del batch
        start, start_wall = time.thread_time(), time.perf_counter()
        exporter.shutdown()
        busy += time.thread_time() - start
        wall += time.perf_counter() - start_wall
        peak = tracemalloc.get_traced_memory()[1] if trace_memory else 0
        if trace_memory:
            tracemalloc.stop()
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(data) for f in fs)
        return {
            "spans_per_s": total / busy,
            "spans_per_wall_s": total / wall,
            "bytes_per_million": size / total * 1e6,
            "files": exporter.writer.files_written,
            "peak_mib": peak / 2**20,
        }
    finally:
        shutil.rmtree(data, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spans", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    import pyarrow as pa

    pa.array([0])  # the one-time import pyarrow does on first use (pandas, if installed)
    rates, wall_rates = [], []
    for _ in range(args.repeat):
        result = run(args.spans)
        rates.append(result["spans_per_s"])
        wall_rates.append(result["spans_per_wall_s"])
    memory = run(min(args.spans, 100_000), trace_memory=True)
    print(f"spans: {args.spans:,} per run, {args.repeat} runs, one core")
    print("| metric | value |\n|---|---|")
    print(f"| spans/s converted and written, per CPU second (median) | {statistics.median(rates):,.0f} |")
    print(f"| ... min / max over runs | {min(rates):,.0f} / {max(rates):,.0f} |")
    print(f"| spans/s per wall-clock second (median) | {statistics.median(wall_rates):,.0f} |")
    print(f"| Parquet files written per run | {result['files']:.0f} |")
    print(f"| file size per million calls | {result['bytes_per_million'] / 2**20:,.1f} MiB |")
    traced = min(args.spans, 100_000)
    print(f"| peak traced memory ({traced:,} spans, default buffer) | {memory['peak_mib']:,.1f} MiB |")


if __name__ == "__main__":
    main()
