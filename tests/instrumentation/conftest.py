"""Fixtures: real OTel SDK providers with in-memory export, and a scripted OpenAI API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from callscope.instrumentation import OpenAIInstrumentor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.instrumentation.fakes import FakeOpenAI

HASH_KEY = "callscope-test-key"


@dataclass
class Telemetry:
    exporter: InMemorySpanExporter = field(default_factory=InMemorySpanExporter)
    reader: InMemoryMetricReader = field(default_factory=InMemoryMetricReader)

    def __post_init__(self) -> None:
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def instrument(self, **options: Any) -> None:
        OpenAIInstrumentor().instrument(
            tracer_provider=self.tracer_provider,
            meter_provider=self.meter_provider,
            **{"hash_key": HASH_KEY, **options},
        )

    def spans(self) -> list[ReadableSpan]:
        # Spans are built on callscope's finisher thread; the provider's flush waits for it.
        assert self.tracer_provider.force_flush()
        return list(self.exporter.get_finished_spans())

    def span(self) -> ReadableSpan:
        spans = self.spans()
        assert len(spans) == 1, [s.name for s in spans]
        return spans[0]

    def attrs(self) -> dict[str, Any]:
        return dict(self.span().attributes or {})

    def metric_points(self) -> dict[str, list[Any]]:
        data = self.reader.get_metrics_data()
        out: dict[str, list[Any]] = {}
        if data is None:
            return out
        for resource_metrics in data.resource_metrics:
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    out.setdefault(metric.name, []).extend(metric.data.data_points)
        return out


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    """Providers plus an ``instrument(**options)`` that is always undone after the test."""
    t = Telemetry()
    yield t
    OpenAIInstrumentor().uninstrument()
    t.tracer_provider.shutdown()
    t.meter_provider.shutdown()


@pytest.fixture
def traced(telemetry: Telemetry) -> Telemetry:
    """Instrumented with the defaults (content capture off, stream usage injection on)."""
    telemetry.instrument()
    return telemetry


@pytest.fixture
def fake() -> FakeOpenAI:
    return FakeOpenAI()


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK's backoff without a server hint is 0.5 s, 1 s...; tests need milliseconds."""
    import openai._base_client as base

    monkeypatch.setattr(base, "INITIAL_RETRY_DELAY", 0.002)
    monkeypatch.setattr(base, "MAX_RETRY_DELAY", 0.004)


@pytest.fixture
def run_sync_or_async() -> Callable[..., Any]:
    import asyncio

    def run(value: Any) -> Any:
        return asyncio.run(value) if asyncio.iscoroutine(value) else value

    return run
