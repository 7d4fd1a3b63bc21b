"""Rule 3: batch non-interactive traffic."""

from __future__ import annotations

import pytest
from callscope.analytics.suggestions import batch_offline

from tests.analytics.suggestions.conftest import Open
from tests.analytics.suggestions.dataset import Dataset, cost


def burst(
    d: Dataset, n: int, *, start: float, service: str, prefix: str, **columns: object
) -> list[dict[str, object]]:
    fields: dict[str, object] = {"request_model": "gpt-4o-mini", "input_tokens": 8000, "output_tokens": 1000}
    fields.update(columns)
    return [d.call(t=start + i * 20, service_name=service, prefix_hash=prefix, **fields) for i in range(n)]


def test_offline_bursts_are_priced_at_batch_rates(open_ctx: Open) -> None:
    d = Dataset()
    nightly = burst(d, 12, start=0, service="nightly", prefix="S")
    burst(d, 5, start=3600, service="nightly", prefix="S")  # too few in that window
    burst(d, 12, start=0, service="nightly", prefix="S2", stream=True)  # streamed: someone watches
    # Calls made under a request handler are interactive ...
    for i in range(12):
        span = d.server_span(t=i * 20, service_name="web")
        d.call(
            t=i * 20,
            trace_id=span["trace_id"],
            service_name="web",
            prefix_hash="W",
            request_model="gpt-4o-mini",
            input_tokens=800,
            output_tokens=200,
        )
    # ... unless they are tagged as background work.
    tagged = []
    for i in range(10):
        span = d.server_span(t=i * 20, service_name="web")
        tagged.append(
            d.call(
                t=i * 20,
                trace_id=span["trace_id"],
                service_name="web",
                prefix_hash="T",
                request_model="gpt-4o",
                input_tokens=1500,
                cached_input_tokens=1024,
                output_tokens=300,
                tags={"job": "nightly-digest", "customer": "acme"},
            )
        )
    ctx = open_ctx(d, period_days=0.5)
    findings = list(batch_offline.rule(ctx))  # half a day counts as a whole one (min_extrapolation_days)
    assert [f.evidence.prefix_hash for f in findings] == ["T", "S"]  # the larger saving first
    t_finding, s_finding = findings

    expected_s = 12 * (cost("gpt-4o-mini", 8000, 0, 1000) - cost("gpt-4o-mini", 8000, 0, 1000, batch=True))
    assert s_finding.saving_usd_30d == pytest.approx(expected_s * 30 / 1.0, abs=1e-9)
    assert s_finding.evidence.calls == 12
    assert s_finding.evidence.services == ("nightly",)
    assert s_finding.evidence.example_span_ids == tuple(str(c["span_id"]) for c in nightly[:5])
    assert s_finding.evidence.details["bursts"] == 1
    assert s_finding.arithmetic.prices["gpt-4o-mini"]["batch_input_mtok"] == 0.075

    # gpt-4o's Batch table has no cached rate: cached input keeps the standard cached rate (1.25).
    expected_t = 10 * (cost("gpt-4o", 1500, 1024, 300) - cost("gpt-4o", 1500, 1024, 300, batch=True))
    assert cost("gpt-4o", 1500, 1024, 300, batch=True) == pytest.approx(
        (476 * 1.25 + 1024 * 1.25 + 300 * 5) / 1e6
    )
    assert t_finding.saving_usd_30d == pytest.approx(expected_t * 30 / 1.0, abs=1e-9)
    assert t_finding.evidence.calls == 10
    assert t_finding.evidence.tags == {"customer": ("acme",), "job": ("nightly-digest",)}
    assert t_finding.saving_ms_30d == 0


def test_without_a_spans_table_calls_count_as_offline(open_ctx: Open) -> None:
    d = Dataset()
    burst(d, 10, start=0, service="jobs", prefix="S")
    ctx = open_ctx(d)
    ctx.con.execute("DROP VIEW spans")
    [finding] = batch_offline.rule(ctx)
    assert finding.evidence.calls == 10


def test_interactive_or_sparse_traffic_is_not_batchable(open_ctx: Open) -> None:
    d = Dataset()
    for i in range(15):  # request handlers
        span = d.server_span(t=i * 10)
        d.call(t=i * 10, trace_id=span["trace_id"], prefix_hash="W", request_model="gpt-4o")
    for hour in range(10):  # background, but only 9 calls per 10-minute window
        burst(d, 9, start=hour * 3600, service="jobs", prefix="S")
    burst(d, 30, start=0, service="jobs", prefix="BIG", input_tokens=50_000)  # not small calls
    assert list(batch_offline.rule(open_ctx(d))) == []
