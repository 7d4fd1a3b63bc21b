"""The rule set as a whole: nothing on clean traffic, ranking on mixed traffic, the Finding contract."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from callscope.analytics import suggestions
from callscope.analytics.prices import PriceBook
from callscope.analytics.suggestions import (
    DEFAULT_RULES,
    RuleContext,
    Thresholds,
    repeated_requests,
    run_rules,
)
from callscope.analytics.suggestions._common import ranked

from tests.analytics.suggestions import (
    test_repeated_requests,
    test_right_size_model,
    test_stream_interactive,
)
from tests.analytics.suggestions.conftest import Open
from tests.analytics.suggestions.dataset import Dataset, cost


def clean() -> Dataset:
    """A healthy app: streamed chat behind handlers, cached prefixes, capped outputs, batched embeddings."""
    d = Dataset()
    for i in range(120):
        span = d.server_span(t=i * 60, route="/chat", service_name="support")
        d.call(
            t=i * 60 + 0.05,
            trace_id=span["trace_id"],
            service_name="support",
            request_model="gpt-4o-mini",
            response_model="gpt-4o-mini-2024-07-18",
            stream=True,
            ttft_ms=450.0,
            duration_ms=2500.0,
            request_hash=f"conversation-{i}",
            prefix_hash="SUPPORT",
            prefix_chars=6000,
            input_tokens=4000 + 10 * i,
            cached_input_tokens=0 if i == 0 else 1408,
            output_tokens=180 + i,
            max_output_tokens=600,
            ratelimit_remaining_requests=4000,
            ratelimit_limit_requests=5000,
            tags={"feature": "support"},
        )
    for i in range(8):
        d.call(
            t=i * 900,
            service_name="search",
            operation="embeddings",
            api="embeddings",
            request_model="text-embedding-3-small",
            input_messages=32,
            input_tokens=1600,
            output_tokens=None,
            duration_ms=300.0,
        )
    d.call(
        t=30,
        service_name="support",
        attempts=2,
        retry_wait_ms=700.0,
        attempt_durations_ms=[90.0, 600.0],
        attempt_statuses=["503", "200"],
        max_output_tokens=600,
    )
    return d


def test_clean_traffic_gets_no_suggestion(open_ctx: Open) -> None:
    assert run_rules(open_ctx(clean(), period_days=0.1)) == []


def mixed() -> Dataset:
    d, _ = test_repeated_requests.planted()
    test_right_size_model.classifier(d, 12, prefix="C")
    test_stream_interactive.handler_calls(d, 6)
    return d


def test_mixed_traffic_is_ranked_by_dollars_then_milliseconds(open_ctx: Open) -> None:
    findings = run_rules(open_ctx(mixed()))
    rules = [f.rule for f in findings]
    # The classifier's calls are also a burst nobody waits for: the Batch API rule sees them too.
    assert rules == ["right-size-model", "cache-repeated-requests", "batch-api", "stream-interactive"]
    assert [f.saving_usd_30d for f in findings] == sorted((f.saving_usd_30d for f in findings), reverse=True)
    assert findings[-1].saving_usd_30d == 0
    assert findings[-1].saving_ms_30d > findings[1].saving_ms_30d  # ms only break ties in dollars
    repeats_usd = (
        cost("gpt-4o", 1000, 512, 100) + cost("gpt-4o", 1000, 0, 90) + cost("gpt-4o-mini", 3000, 0, 380)
    )
    assert findings[1].saving_usd_30d == pytest.approx(repeats_usd * 30)


def test_run_rules_accepts_a_subset(open_ctx: Open) -> None:
    ctx = open_ctx(mixed())
    assert [f.rule for f in run_rules(ctx, [repeated_requests.rule])] == ["cache-repeated-requests"]
    assert run_rules(ctx, []) == []


def test_finding_to_dict_is_json_safe_and_complete(open_ctx: Open) -> None:
    [finding] = repeated_requests.rule(open_ctx(test_repeated_requests.planted()[0]))
    data = json.loads(json.dumps(finding.to_dict(), allow_nan=False))
    assert set(data) == {
        "rule",
        "title",
        "summary",
        "saving_usd_30d",
        "saving_ms_30d",
        "evidence",
        "arithmetic",
    }
    assert set(data["evidence"]) == {
        "calls",
        "cost_usd",
        "models",
        "services",
        "operations",
        "tags",
        "prefix_hash",
        "request_hash",
        "example_trace_ids",
        "example_span_ids",
        "details",
    }
    assert set(data["arithmetic"]) == {"formula", "inputs", "prices", "price_source"}
    assert data["evidence"]["tags"] == {"feature": ["faq"]}
    assert data["arithmetic"]["prices"]["gpt-4o"]["input_mtok"] == 2.5
    assert data["saving_usd_30d"] == finding.saving_usd_30d


def test_short_windows_are_extrapolated_as_a_whole_day(open_ctx: Open) -> None:
    dataset = test_repeated_requests.planted()[0]
    report_all = replace(Thresholds(), min_saving_usd_30d=0.0, min_saving_ms_30d=0.0)
    [hour] = repeated_requests.rule(open_ctx(dataset, period_days=1 / 24))
    [day] = repeated_requests.rule(open_ctx(dataset, period_days=1.0))
    [week] = repeated_requests.rule(open_ctx(dataset, period_days=7.0, thresholds=report_all))
    assert list(repeated_requests.rule(open_ctx(dataset, period_days=7.0))) == []  # below the minimum savings
    assert hour.saving_usd_30d == day.saving_usd_30d == pytest.approx(week.saving_usd_30d * 7)
    assert hour.arithmetic.inputs["extrapolation_factor"] == 30.0
    literal = replace(report_all, min_extrapolation_days=0.0)
    [exact] = repeated_requests.rule(open_ctx(dataset, period_days=1 / 24, thresholds=literal))
    assert exact.saving_usd_30d == pytest.approx(day.saving_usd_30d * 24)


def test_bad_period_is_refused(open_ctx: Open) -> None:
    ctx = open_ctx(Dataset())
    with pytest.raises(ValueError, match="period_days"):
        RuleContext(con=ctx.con, prices=ctx.prices, period_days=-1.0)
    with pytest.raises(ValueError, match="period_days"):
        RuleContext(con=ctx.con, prices=ctx.prices, period_days=float("nan"))


def test_empty_dataset(open_ctx: Open) -> None:
    assert run_rules(open_ctx(Dataset(), period_days=0.0)) == []


def test_findings_per_rule_are_capped_and_minimum_saving_applies(open_ctx: Open) -> None:
    d = Dataset()
    for service in range(7):
        for i in range(4):
            d.call(
                t=i,
                service_name=f"svc{service}",
                request_hash=f"h{service}",
                request_model="gpt-4o",
                input_tokens=1000 * (service + 1),
                duration_ms=100.0,
            )
    findings = list(repeated_requests.rule(open_ctx(d)))
    assert [f.evidence.services for f in findings] == [(f"svc{s}",) for s in (6, 5, 4, 3, 2)]
    strict = replace(Thresholds(), min_saving_usd_30d=1.0, min_saving_ms_30d=1e12)
    kept = list(repeated_requests.rule(open_ctx(d, thresholds=strict)))
    assert all(f.saving_usd_30d >= 1.0 for f in kept)
    assert 0 < len(kept) < 5


def test_unknown_model_saves_time_but_no_dollars(open_ctx: Open) -> None:
    d = Dataset()
    for i in range(4):
        d.call(t=i, request_hash="X", request_model="acme-llm-7b", provider="acme", duration_ms=1000.0)
    [finding] = repeated_requests.rule(open_ctx(d))
    assert finding.saving_usd_30d == 0
    assert finding.saving_ms_30d == pytest.approx(3 * 1000.0 * 30)
    assert finding.evidence.details["unpriced_models"] == ["acme-llm-7b"]
    assert finding.arithmetic.prices == {}


def test_negotiated_prices_change_the_saving(open_ctx: Open) -> None:
    dataset = test_repeated_requests.planted()[0]
    ctx = open_ctx(dataset)
    negotiated = RuleContext(
        con=ctx.con,
        prices=PriceBook({"gpt-4o": {"input": 1.0, "output": 4.0}}),
        period_days=1.0,
    )
    [finding] = repeated_requests.rule(negotiated)
    expected = (488 * 1.0 + 512 * 1.25 + 100 * 4.0 + 1000 * 1.0 + 90 * 4.0) / 1e6 + cost(
        "gpt-4o-mini", 3000, 0, 380
    )
    assert finding.saving_usd_30d == pytest.approx(expected * 30)
    assert finding.arithmetic.prices["gpt-4o"]["input_mtok"] == 1.0
    assert finding.arithmetic.price_source.endswith("+ overrides")


def test_public_api() -> None:
    assert set(suggestions.__all__) == {
        "DEFAULT_RULES",
        "DEFAULT_SMALLER_MODELS",
        "Arithmetic",
        "Evidence",
        "Finding",
        "Rule",
        "RuleContext",
        "Thresholds",
        "run_rules",
    }
    assert len(DEFAULT_RULES) == 9
    assert len({rule.__module__ for rule in DEFAULT_RULES}) == 9


def test_run_rules_names_the_same_example_calls_as_each_rule_alone(open_ctx: Open) -> None:
    # run_rules looks every rule's example calls up at once; the findings must not change.
    ctx = open_ctx(mixed())
    together = run_rules(ctx)
    alone = ranked(finding for rule in DEFAULT_RULES for finding in rule(ctx))
    assert together == alone
    assert all(f.evidence.example_span_ids and f.evidence.example_trace_ids for f in together)
    assert [f.evidence.request_hash for f in together if f.rule == "cache-repeated-requests"] == ["A"]
