"""One measurement of the overhead benchmark, run as a subprocess in one environment.

    <venv>/bin/python benchmarks/overhead_worker.py --instrumentation NAME --scenario chat|stream --calls N

Makes N calls through the real ``openai`` SDK against the in-process endpoint
of ``overhead_mock.py`` and prints one JSON object: per-call time (median and
mean in microseconds, CPU time of the calling thread, with wall-clock time
beside it), spans exported per call, and what the instrumentation put on its
span. Every instrumentation gets the same OpenTelemetry set-up: an SDK
``TracerProvider`` with a ``SimpleSpanProcessor`` feeding an exporter that
drops spans (it keeps only the last one, to report its attributes), and an SDK
``MeterProvider`` with an ``InMemoryMetricReader``. Only the standard library,
``openai`` and the OpenTelemetry SDK are imported, so it runs in any
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
from statistics import mean, median
from typing import Any

import openai
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
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


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def instrument(name: str, exporter: SpanExporter) -> str | None:
    """Install the shared providers and the named instrumentation; return its version."""
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    spec = INSTRUMENTATIONS[name]
    if spec is None:
        return None
    target, distribution = spec
    if name == "callscope":  # a configured deployment: a shared key for the request hashes
        os.environ.setdefault("CALLSCOPE_HASH_KEY", "overhead-benchmark")
    module_name, class_name = target.split(":")
    instrumentor = getattr(importlib.import_module(module_name), class_name)()
    instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    return _version(distribution)


def make_call(scenario: str) -> Callable[[], object]:
    """One caller-side operation: a chat completion, or a 50-chunk stream read to the end."""
    http = importlib.import_module("httpx2" if int(openai.__version__.split(".")[0]) >= 3 else "httpx")
    client = openai.OpenAI(
        api_key="sk-bench",
        base_url="https://api.openai.com/v1",
        http_client=openai.DefaultHttpxClient(transport=mock.make_transport(http)),
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


def time_calls(call: Callable[[], object], calls: int) -> tuple[list[float], list[float]]:
    """Per-call wall time and CPU time of this thread, in microseconds.

    Everything measured runs in the calling thread (the span processor is the
    synchronous one), so thread CPU time is the work an instrumentation adds,
    without the waits for a core that a busy machine puts into wall time.
    """
    wall, cpu = [], []
    wall_clock, cpu_clock = time.perf_counter_ns, time.thread_time_ns
    for _ in range(calls):
        start_wall, start_cpu = wall_clock(), cpu_clock()
        call()
        cpu.append((cpu_clock() - start_cpu) / 1000)
        wall.append((wall_clock() - start_wall) / 1000)
    return wall, cpu


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def measure_memory(calls: int, trace: bool) -> dict[str, Any]:
    """Growth over ``calls`` calls (half chat, half streams) after a warm-up of 1,000 calls.

    Anything a call leaves behind (spans, per-call state, unbounded caches) grows in
    proportion to ``calls``: live objects tracked by the garbage collector, resident
    memory, and with ``trace`` the bytes tracemalloc sees (slow; names the top sites).
    """
    chat, stream = make_call("chat"), make_call("stream")
    for _ in range(500):
        chat(), stream()
    if trace:
        tracemalloc.start(1)
    gc.collect()
    objects_before, rss_before = len(gc.get_objects()), _rss_kib()
    before = tracemalloc.take_snapshot() if trace else None
    for _ in range(calls // 2):
        chat(), stream()
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
    parser.add_argument("--memory", action="store_true", help="measure memory growth over --calls calls")
    parser.add_argument("--trace", action="store_true", help="with --memory: also trace allocations (slow)")
    parser.add_argument(
        "--profile", type=Path, help="write a pyinstrument text profile of the timed calls here"
    )
    args = parser.parse_args(argv)

    exporter = LastSpanExporter()
    version = instrument(args.instrumentation, exporter)
    report: dict[str, Any] = {
        "instrumentation": args.instrumentation,
        "instrumentation_version": version,
        "scenario": args.scenario,
        "python": sys.version.split()[0],
        "openai": openai.__version__,
        "opentelemetry_sdk": _version("opentelemetry-sdk"),
    }
    if args.memory:
        report["memory"] = measure_memory(args.calls, args.trace)
        print(json.dumps(report))
        return
    call = make_call(args.scenario)
    time_calls(call, args.warmup)
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.001)
        profiler.start()
    wall, cpu = time_calls(call, args.calls)
    if profiler is not None:
        profiler.stop()
        args.profile.write_text(profiler.output_text(unicode=True, show_all=False))
    last = exporter.last
    attributes = dict(last.attributes or {}) if last is not None else {}
    report |= {
        "calls": args.calls,
        "median_us": median(cpu),
        "mean_us": mean(cpu),
        "wall_median_us": median(wall),
        "wall_mean_us": mean(wall),
        "spans_per_call": exporter.count / (args.calls + args.warmup),
        "span_attributes": len(attributes),
        "span_has_tokens": any(name in attributes for name in TOKEN_ATTRIBUTES),
        "span_name": last.name if last is not None else None,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
