"""One measurement of the overhead benchmark, run as a subprocess in one environment.

    <venv>/bin/python benchmarks/overhead_worker.py --instrumentation NAME --scenario chat|stream --calls N

Makes N calls through the real ``openai`` SDK against the in-process endpoint
of ``overhead_mock.py`` and prints one JSON object: per-call cost in
microseconds from three clocks, spans exported per call, how long after each
call its span ended, and what the instrumentation put on its span.

- **Calling-thread CPU** (``time.thread_time_ns`` around each call): what the
  app's request path pays. callscope's finisher thread is not in it.
- **Whole-process CPU** (``time.process_time_ns`` over the timed loop and the
  final ``force_flush()``, divided by the calls): every thread, so the work
  callscope moves to its finisher thread is counted.
- **Wall clock**, per call and over the loop plus the final flush.
- **Span end lag**: a span processor's ``on_end`` time minus the span's
  ``end_time``, i.e. how long after the call ended its span was ended and
  handed to the processors (inline instrumentations: a few µs).

Every instrumentation gets the same OpenTelemetry set-up: an SDK
``TracerProvider`` with the lag-measuring processor and a ``SimpleSpanProcessor``
feeding an exporter that drops spans (it keeps only the last one, to report its
attributes), and an SDK ``MeterProvider`` with an ``InMemoryMetricReader``. No
processor or reader has a thread of its own, so the only thread besides the
caller's is callscope's finisher (when on): export runs in whichever thread
ends the span, and is the same trivial work for everyone. Only the standard
library, ``openai`` and the OpenTelemetry SDK are imported, so it runs in any
environment; ``--memory`` and ``--profile`` add tracemalloc and pyinstrument.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from statistics import mean, median, quantiles
from typing import Any

import openai
from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

# Run as a script from any environment: make the repository importable for the sibling module.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks import overhead_mock as mock

# name -> (module:class of its instrumentor, distribution to report the version of)
INSTRUMENTATIONS: dict[str, tuple[str, str] | None] = {
    "none": None,
    "callscope": ("callscope.instrumentation:OpenAIInstrumentor", "callscope"),
    "otel-openai-v2": (
        "opentelemetry.instrumentation.openai_v2:OpenAIInstrumentor",
        "opentelemetry-instrumentation-openai-v2",
    ),
    "openllmetry": (
        "opentelemetry.instrumentation.openai:OpenAIInstrumentor",
        "opentelemetry-instrumentation-openai",
    ),
    "openinference": (
        "openinference.instrumentation.openai:OpenAIInstrumentor",
        "openinference-instrumentation-openai",
    ),
}
TOKEN_ATTRIBUTES = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt")


class LastSpanExporter(SpanExporter):
    """Counts spans and keeps only the last one: exporting costs the same for everyone and nothing grows."""

    def __init__(self) -> None:
        self.count = 0
        self.last: ReadableSpan | None = None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.count += len(spans)
        self.last = spans[-1]
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        """Nothing to release."""


class EndLag(SpanProcessor):
    """How long after its call each span ended: ``on_end`` time minus the span's own ``end_time``.

    Inline instrumentations end the span as the call returns (a few µs); callscope's
    finisher ends it with the call's end time once it gets to it. Records only while
    ``recording`` is set, so nothing grows outside the timed loop.
    """

    def __init__(self) -> None:
        self.recording = False
        self.lags_us: list[float] = []

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Nothing at the start."""

    def on_end(self, span: ReadableSpan) -> None:
        if self.recording and span.end_time is not None:
            self.lags_us.append((time.time_ns() - span.end_time) / 1000)


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def instrument(name: str, exporter: SpanExporter, lag: EndLag) -> tuple[TracerProvider, str | None]:
    """Install the shared providers and the named instrumentation; return the provider and its version."""
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(lag)
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    spec = INSTRUMENTATIONS[name]
    if spec is None:
        return tracer_provider, None
    target, distribution = spec
    if name == "callscope":  # a configured deployment: a shared key for the request hashes
        os.environ.setdefault("CALLSCOPE_HASH_KEY", "overhead-benchmark")
    module_name, class_name = target.split(":")
    instrumentor = getattr(importlib.import_module(module_name), class_name)()
    instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    return tracer_provider, _version(distribution)


def make_call(scenario: str, server_ms: float = 0.0) -> Callable[[], object]:
    """One caller-side operation: a chat completion, or a 50-chunk stream read to the end."""
    http = importlib.import_module("httpx2" if int(openai.__version__.split(".")[0]) >= 3 else "httpx")
    client = openai.OpenAI(
        api_key="sk-bench",
        base_url="https://api.openai.com/v1",
        http_client=openai.DefaultHttpxClient(transport=mock.make_transport(http, server_ms / 1000)),
        max_retries=0,
    )
    create = client.chat.completions.create

    def chat() -> object:
        return create(model=mock.MODEL, messages=mock.MESSAGES).choices[0].message.content

    def stream() -> object:
        received = 0
        for _chunk in create(model=mock.MODEL, messages=mock.MESSAGES, stream=True):
            received += 1
        if received != mock.STREAM_CHUNKS:
            raise RuntimeError(f"the caller received {received} chunks, expected {mock.STREAM_CHUNKS}")
        return received

    return {"chat": chat, "stream": stream}[scenario]


def time_calls(call: Callable[[], object], calls: int, flush: Callable[[], object]) -> dict[str, Any]:
    """Time ``calls`` calls, then ``flush`` (every span ended and exported), in microseconds.

    Per call: the calling thread's CPU time (what the request path pays, without the
    waits for a core that a busy machine puts into wall time) and wall time. Over the
    loop and the flush together: the whole process's CPU time (every thread: callscope's
    finisher included) and wall time, divided by ``calls``.
    """
    wall, cpu = [], []
    wall_clock, cpu_clock = time.perf_counter_ns, time.thread_time_ns
    process_start, loop_start = time.process_time_ns(), wall_clock()
    for _ in range(calls):
        start_wall, start_cpu = wall_clock(), cpu_clock()
        call()
        cpu.append((cpu_clock() - start_cpu) / 1000)
        wall.append((wall_clock() - start_wall) / 1000)
    flush_start = wall_clock()
    flush()
    loop_end = wall_clock()
    process_us = (time.process_time_ns() - process_start) / 1000
    return {
        "median_us": median(cpu),
        "mean_us": mean(cpu),
        "process_mean_us": process_us / calls,
        "wall_median_us": median(wall),
        "wall_mean_us": (loop_end - loop_start) / 1000 / calls,
        "flush_ms": (loop_end - flush_start) / 1e6,
    }


def lag_summary(lags_us: Sequence[float]) -> dict[str, float | None]:
    """Median, 99th percentile and worst of the span end lags, in microseconds."""
    if len(lags_us) < 2:
        return {"lag_median_us": None, "lag_p99_us": None, "lag_max_us": None}
    return {
        "lag_median_us": median(lags_us),
        "lag_p99_us": quantiles(lags_us, n=100)[98],
        "lag_max_us": max(lags_us),
    }


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def measure_memory(calls: int, trace: bool, flush: Callable[[], object]) -> dict[str, Any]:
    """Growth over ``calls`` calls (half chat, half streams) after a warm-up of 1,000 calls.

    Anything a call leaves behind (spans, per-call state, unbounded caches) grows in
    proportion to ``calls``: live objects tracked by the garbage collector, resident
    memory, and with ``trace`` the bytes tracemalloc sees (slow; names the top sites).
    ``flush`` runs before each count, so calls waiting for callscope's finisher are not counted.
    """
    chat, stream = make_call("chat"), make_call("stream")
    for _ in range(500):
        chat(), stream()
    if trace:
        tracemalloc.start(1)
    flush()
    gc.collect()
    objects_before, rss_before = len(gc.get_objects()), _rss_kib()
    before = tracemalloc.take_snapshot() if trace else None
    for _ in range(calls // 2):
        chat(), stream()
    flush()
    gc.collect()
    report: dict[str, Any] = {
        "calls": calls,
        "objects_growth": len(gc.get_objects()) - objects_before,
        "rss_growth_kib": _rss_kib() - rss_before,
    }
    if before is not None:
        diff = tracemalloc.take_snapshot().compare_to(before, "lineno")
        tracemalloc.stop()
        report["traced_growth_kib"] = round(sum(stat.size_diff for stat in diff) / 1024, 1)
        report["top"] = [
            {"kib": round(s.size_diff / 1024, 1), "count": s.count_diff, "where": str(s.traceback[-1])}
            for s in diff[:5]
        ]
    return report


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instrumentation", choices=sorted(INSTRUMENTATIONS), required=True)
    parser.add_argument("--scenario", choices=("chat", "stream"), default="chat")
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument(
        "--server-ms",
        type=float,
        default=0.0,
        help="the endpoint waits this long before answering, as a real API would (default 0)",
    )
    parser.add_argument("--memory", action="store_true", help="measure memory growth over --calls calls")
    parser.add_argument("--trace", action="store_true", help="with --memory: also trace allocations (slow)")
    parser.add_argument(
        "--profile", type=Path, help="write a pyinstrument text profile of the timed calls here"
    )
    args = parser.parse_args(argv)

    exporter, lag = LastSpanExporter(), EndLag()
    tracer_provider, version = instrument(args.instrumentation, exporter, lag)
    report: dict[str, Any] = {
        "instrumentation": args.instrumentation,
        "instrumentation_version": version,
        "finish_in_background": os.environ.get("CALLSCOPE_FINISH_IN_BACKGROUND", "1"),
        "scenario": args.scenario,
        "python": sys.version.split()[0],
        "openai": openai.__version__,
        "opentelemetry_sdk": _version("opentelemetry-sdk"),
    }
    if args.memory:
        report["memory"] = measure_memory(args.calls, args.trace, tracer_provider.force_flush)
        print(json.dumps(report))
        return
    call = make_call(args.scenario, args.server_ms)
    time_calls(call, args.warmup, tracer_provider.force_flush)  # the timed loop starts with nothing queued
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.001)
        profiler.start()
    lag.recording = True
    timing = time_calls(call, args.calls, tracer_provider.force_flush)
    lag.recording = False
    if profiler is not None:
        profiler.stop()
        args.profile.write_text(profiler.output_text(unicode=True, show_all=False))
    last = exporter.last
    attributes = dict(last.attributes or {}) if last is not None else {}
    report |= {
        "calls": args.calls,
        "server_ms": args.server_ms,
        **timing,
        **lag_summary(lag.lags_us),
        "spans_per_call": exporter.count / (args.calls + args.warmup),
        "span_attributes": len(attributes),
        "span_has_tokens": any(name in attributes for name in TOKEN_ATTRIBUTES),
        "span_name": last.name if last is not None else None,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
