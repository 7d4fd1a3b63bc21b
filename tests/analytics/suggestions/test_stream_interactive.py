"""Rule 6: stream interactive calls."""

from __future__ import annotations

import pytest
from callscope.analytics.suggestions import stream_interactive

from tests.analytics.suggestions.conftest import Open
from tests.analytics.suggestions.dataset import Dataset


def handler_calls(
    d: Dataset, n: int, *, route: str = "/answer", **columns: object
) -> list[dict[str, object]]:
    fields: dict[str, object] = {"request_model": "gpt-4o-mini", "duration_ms": 4000.0, "output_tokens": 300}
    fields.update(columns)
    calls = []
    for i in range(n):
        span = d.server_span(t=i * 60, route=route)
        calls.append(d.call(t=i * 60 + 0.1, trace_id=span["trace_id"], **fields))
    return calls


def test_waiting_saved_is_duration_minus_measured_ttft(open_ctx: Open) -> None:
    d = Dataset()
    waiting = handler_calls(d, 6)
    for i, ttft in enumerate([400.0, 500.0, 600.0, 700.0, 800.0]):  # streamed calls of the same model
        d.call(t=i, stream=True, ttft_ms=ttft, request_model="gpt-4o-mini", duration_ms=3000.0)
    handler_calls(d, 6, route="/short", duration_ms=900.0)  # quick calls gain nothing
    handler_calls(d, 6, route="/label", output_tokens=5)  # nor do one-word answers
    handler_calls(d, 6, route="/stream", stream=True, ttft_ms=300.0, request_model="gpt-4.1")  # streamed
    for i in range(6):  # background calls: nobody waits
        d.call(t=i, request_model="gpt-4o-mini", duration_ms=4000.0, output_tokens=300, service_name="jobs")
    ctx = open_ctx(d, period_days=3.0)
    [finding] = stream_interactive.rule(ctx)

    assert finding.saving_ms_30d == pytest.approx(
        6 * (4000.0 - 600.0) * 10
    )  # median TTFT 600 ms; 30 / 3 days
    assert finding.saving_usd_30d == 0
    ev = finding.evidence
    assert ev.calls == 6
    assert ev.details["route"] == "/answer"
    assert ev.details["ttft_estimate_ms"] == {"gpt-4o-mini": 600.0}
    assert ev.example_trace_ids == tuple(c["trace_id"] for c in waiting[:5])
    assert "/answer" in finding.title


def test_default_ttft_and_interactive_tag(open_ctx: Open) -> None:
    d = Dataset()
    for i in range(5):  # no server span, but tagged as interactive; no streamed samples of gpt-4.1
        d.call(t=i, request_model="gpt-4.1", duration_ms=3500.0, output_tokens=200, tags={"user": "u-42"})
    [finding] = stream_interactive.rule(open_ctx(d))
    assert finding.saving_ms_30d == pytest.approx(5 * (3500.0 - 1000.0) * 30)
    assert finding.evidence.details["route"] is None


def test_nothing_without_long_blocking_calls_in_handlers(open_ctx: Open) -> None:
    d = Dataset()
    handler_calls(d, 4)  # too few
    handler_calls(d, 10, route="/s", stream=True, ttft_ms=200.0)
    for i in range(20):
        d.call(t=i, duration_ms=8000.0, output_tokens=900, service_name="batch-job")
    assert list(stream_interactive.rule(open_ctx(d))) == []
