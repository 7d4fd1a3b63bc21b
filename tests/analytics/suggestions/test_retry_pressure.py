"""Rule 7: back off and spread load."""

from __future__ import annotations

import pytest
from callscope.analytics.suggestions import retry_pressure

from tests.analytics.suggestions.conftest import Open
from tests.analytics.suggestions.dataset import Dataset, cost


def test_time_lost_to_retries_and_failures(open_ctx: Open) -> None:
    d = Dataset()
    for i in range(15):
        d.call(t=i * 10, ratelimit_remaining_requests=500, ratelimit_limit_requests=1000)
    retried = [
        d.call(
            t=200 + i,
            attempts=3,
            retry_wait_ms=1500.0,
            attempt_durations_ms=[200.0, 300.0, 800.0],
            attempt_statuses=["429", "429", "200"],
            duration_ms=2800.0,
            ratelimit_remaining_requests=3,
            ratelimit_limit_requests=1000,
        )
        for i in range(3)
    ]
    gave_up = d.call(
        t=210,
        status="error",
        http_status=429,
        error_type="RateLimitError",
        attempts=3,
        retry_wait_ms=3000.0,
        attempt_durations_ms=[500.0, 500.0, 1000.0],
        attempt_statuses=["429", "429", "429"],
        duration_ms=5000.0,
        input_tokens=None,
        output_tokens=None,
    )
    timed_out = d.call(
        t=220,
        status="error",
        error_type="APITimeoutError",
        attempts=1,
        duration_ms=10000.0,
        attempt_statuses=["timeout"],
        input_tokens=1000,
        cached_input_tokens=0,
        output_tokens=0,
    )
    d.call(t=230, service_name="quiet", attempts=2, retry_wait_ms=800.0, attempt_durations_ms=[100.0, 300.0])
    ctx = open_ctx(d)
    [finding] = retry_pressure.rule(ctx)

    lost_ms = 3 * (1500.0 + 200.0 + 300.0) + 5000.0 + 10000.0
    assert finding.saving_ms_30d == pytest.approx(lost_ms * 30)
    billed = cost("gpt-4o-mini", 1000, 0, 0)  # the timed-out call was billed for its input
    assert finding.saving_usd_30d == pytest.approx(billed * 30, abs=1e-12)
    ev = finding.evidence
    assert ev.calls == 5
    assert ev.services == ("app",)
    assert ev.example_span_ids == tuple(c["span_id"] for c in [*retried, gave_up, timed_out])
    details = ev.details
    assert (details["retried"], details["extra_attempts"], details["rate_limited"]) == (4, 8, 4)
    assert (details["timed_out"], details["failed"], details["low_headroom"]) == (1, 2, 3)
    assert details["all_calls"] == 20
    assert details["max_retried_calls_per_storm_window"] == 4
    assert finding.arithmetic.inputs["lost_in_retries_ms"] == 6000.0
    assert finding.arithmetic.inputs["lost_in_failures_ms"] == 15000.0


def test_an_occasional_retry_is_normal(open_ctx: Open) -> None:
    d = Dataset()
    for i in range(100):
        d.call(t=i * 30)
    d.call(
        t=5,
        attempts=2,
        retry_wait_ms=900.0,
        attempt_durations_ms=[100.0, 400.0],
        attempt_statuses=["500", "200"],
    )
    d.call(
        t=6,
        attempts=2,
        retry_wait_ms=900.0,
        attempt_durations_ms=[100.0, 400.0],
        attempt_statuses=["503", "200"],
    )
    d.call(t=7, status="error", error_type="APITimeoutError", duration_ms=60000.0)
    for i in range(2):  # two troubled calls out of two is a high share, but too few to say
        d.call(t=i, service_name="tiny", attempts=3, retry_wait_ms=5000.0)
    assert list(retry_pressure.rule(open_ctx(d))) == []


def test_failures_count_against_the_snapshot_that_answers_the_others(open_ctx: Open) -> None:
    d = Dataset()
    for i in range(100):
        d.call(t=i * 30, response_model="gpt-4o-mini-2024-07-18")
    for i in range(3):  # a failed call only knows the model it asked for
        d.call(
            t=i, status="error", http_status=429, error_type="RateLimitError", attempts=1, response_model=None
        )
    assert list(retry_pressure.rule(open_ctx(d))) == []  # 3 of 103 calls: under 5 %
    for i in range(3):
        d.call(t=10 + i, status="error", http_status=429, error_type="RateLimitError", response_model=None)
    [finding] = retry_pressure.rule(open_ctx(d))  # 6 of 106 calls
    assert finding.evidence.models == ("gpt-4o-mini",)
    assert finding.evidence.details["all_calls"] == 106
