"""Rule 1: cache repeated requests."""

from __future__ import annotations

import pytest
from callscope.analytics.suggestions import repeated_requests

from tests.analytics.suggestions.conftest import Open
from tests.analytics.suggestions.dataset import BOOK, Dataset, cost

HOUR = 3600.0


def planted() -> tuple[Dataset, list[dict[str, object]]]:
    d = Dataset()
    repeats = []
    d.call(
        t=0,
        request_hash="A",
        request_model="gpt-4o",
        input_tokens=1000,
        output_tokens=100,
        duration_ms=1500.0,
    )
    d.call(
        t=30, request_hash="A", request_model="gpt-4o", status="error", input_tokens=None, output_tokens=None
    )
    repeats.append(
        d.call(
            t=60,
            request_hash="A",
            request_model="gpt-4o",
            input_tokens=1000,
            cached_input_tokens=512,
            output_tokens=100,
            duration_ms=1400.0,
            cost_usd=0.0021,
            tags={"feature": "faq"},
        )
    )
    repeats.append(
        d.call(
            t=120,
            request_hash="A",
            request_model="gpt-4o",
            input_tokens=1000,
            output_tokens=90,
            duration_ms=1300.0,
            temperature=0.7,
            cost_usd=0.0034,
        )
    )
    # B: the second call comes more than 24 h later (a cache would have expired), the third right after it.
    d.call(
        t=0,
        request_hash="B",
        request_model="gpt-4o-mini",
        response_model="gpt-4o-mini-2024-07-18",
        input_tokens=3000,
        output_tokens=400,
    )
    d.call(
        t=25 * HOUR,
        request_hash="B",
        request_model="gpt-4o-mini",
        response_model="gpt-4o-mini-2024-07-18",
        input_tokens=3000,
        output_tokens=400,
    )
    repeats.append(
        d.call(
            t=25 * HOUR + 10,
            request_hash="B",
            request_model="gpt-4o-mini",
            response_model="gpt-4o-mini-2024-07-18",
            input_tokens=3000,
            output_tokens=380,
            duration_ms=2000.0,
        )
    )
    # The same request from another service is that service's business (and a single call there).
    d.call(t=90, request_hash="A", request_model="gpt-4o", service_name="other")
    d.call(t=200, request_hash=None, request_model="gpt-4o")
    return d, repeats


def test_repeats_within_the_window_are_priced_exactly(open_ctx: Open) -> None:
    dataset, repeats = planted()
    ctx = open_ctx(dataset, period_days=2.0)
    [finding] = repeated_requests.rule(ctx)

    expected_usd = (
        cost("gpt-4o", 1000, 512, 100) + cost("gpt-4o", 1000, 0, 90) + cost("gpt-4o-mini", 3000, 0, 380)
    )
    expected_ms = 1400.0 + 1300.0 + 2000.0
    assert finding.rule == "cache-repeated-requests"
    assert finding.saving_usd_30d == pytest.approx(expected_usd * 15, abs=1e-9)  # 30 days / 2 days
    assert round(finding.saving_usd_30d, 2) == round(expected_usd * 15, 2)
    assert finding.saving_ms_30d == pytest.approx(expected_ms * 15)
    ev = finding.evidence
    assert ev.calls == 3
    assert ev.services == ("app",)
    assert ev.models == ("gpt-4o", "gpt-4o-mini")
    assert ev.request_hash == "A"
    assert ev.example_span_ids == tuple(str(r["span_id"]) for r in repeats)
    assert ev.example_trace_ids == tuple(str(r["trace_id"]) for r in repeats)
    assert ev.cost_usd == pytest.approx(0.0055)
    assert ev.tags == {"feature": ("faq",)}
    assert ev.details["distinct_requests"] == 2
    assert ev.details["repeats_with_temperature_above_0"] == 1
    assert "temperature > 0" in finding.summary
    inputs = finding.arithmetic.inputs
    assert (inputs["repeats"], inputs["input_tokens"], inputs["output_tokens"]) == (3, 5000, 570)
    assert inputs["extrapolation_factor"] == 15.0
    assert inputs["observed_saving_usd"] == pytest.approx(expected_usd)
    mini = BOOK.lookup("gpt-4o-mini")
    assert mini is not None
    assert finding.arithmetic.prices["gpt-4o-mini"]["input_mtok"] == mini.input_mtok == 0.15
    assert finding.arithmetic.prices["gpt-4o"]["output_mtok"] == 10.0
    assert finding.arithmetic.price_source.startswith("genai-prices")


def test_shorter_window_finds_fewer_repeats(open_ctx: Open) -> None:
    from dataclasses import replace

    from callscope.analytics.suggestions import Thresholds

    dataset, _ = planted()
    # With a 50-second window only B's repeat (10 s after its predecessor) counts: below the 3-repeat minimum.
    ctx = open_ctx(dataset, thresholds=replace(Thresholds(), repeat_window_hours=50 / 3600))
    assert list(repeated_requests.rule(ctx)) == []
    ctx = open_ctx(
        dataset, thresholds=replace(Thresholds(), repeat_window_hours=50 / 3600, repeat_min_calls=1)
    )
    [finding] = repeated_requests.rule(ctx)
    assert finding.evidence.calls == 1


def test_no_repeats_no_finding(open_ctx: Open) -> None:
    d = Dataset()
    for i in range(20):
        d.call(t=i * 60, request_hash=f"distinct-{i}", request_model="gpt-4o", input_tokens=2000)
    for i in range(4):  # the same request once a day: never within 24 h of the previous one
        d.call(t=i * 25 * HOUR, request_hash="daily", request_model="gpt-4o", input_tokens=2000)
    assert list(repeated_requests.rule(open_ctx(d))) == []


def test_of_requests_repeated_as_often_the_one_repeated_first_is_named(open_ctx: Open) -> None:
    d = Dataset()
    # Written first, repeated later: file order must not decide which request the finding names.
    for t in (1000.0, 1010.0, 1020.0):
        d.call(t=t, request_hash="late", request_model="gpt-4o", input_tokens=1000, output_tokens=100)
    for t in (0.0, 10.0, 20.0):
        d.call(t=t, request_hash="early", request_model="gpt-4o", input_tokens=1000, output_tokens=100)
    [finding] = repeated_requests.rule(open_ctx(d))
    assert finding.evidence.calls == 4
    assert finding.evidence.details["distinct_requests"] == 2
    assert finding.evidence.request_hash == "early"
