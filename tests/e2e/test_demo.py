"""The demo's calls, the report and SQL, checked through the public commands against the workload's truth.

The truth is the workload's own account: the token counts the SDK handed the app, the app's clock around
each call, the simulator's log of HTTP attempts. Counts and dollars must match exactly (dollars up to float
rounding); time savings within ``TIMING_TOLERANCE`` (15 %), because the app's clock and callscope's span
around the same call differ by the instrumentation's own work and by thread scheduling on a busy machine.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import datetime

import pytest
from callscope.analytics.prices import PriceBook

from callscope.demo.workload import PLANTED, TIMING_TOLERANCE
from callscope.demo.workload.truth import EXTRAPOLATION
from tests.e2e.conftest import DemoRun, callscope, sql

pytestmark = pytest.mark.slow

CALL_COLUMNS = """
    request_id, status, operation, request_model, response_model, stream, input_tokens, output_tokens,
    cached_input_tokens, cost_usd, tags['feature'] AS feature, prefix_chars, max_output_tokens,
    finish_reasons, start_time, service_name, error_type
"""


def test_every_call_is_in_the_call_log_with_tokens_and_cost(demo_run: DemoRun) -> None:
    truth = demo_run.truth
    rows = sql(demo_run.data, f"SELECT {CALL_COLUMNS} FROM calls")
    assert len(rows) == truth.calls == truth.plan["total"]
    logged = {row["request_id"]: row for row in rows}
    assert len(logged) == len(rows), "request ids are unique"
    prices = PriceBook()
    for record in truth.records:
        row = logged[record.request_id]
        assert (row["feature"], row["operation"], row["request_model"]) == (
            record.feature,
            record.operation,
            record.model,
        )
        assert row["service_name"] == "acme-support"
        assert row["stream"] == record.stream
        assert row["max_output_tokens"] == record.max_tokens
        started = datetime.fromisoformat(row["start_time"]).timestamp()
        # The same moment on both clocks, give or take thread scheduling on a busy machine.
        assert abs(started - record.started_at) < 1.0
        if record.status != "ok":
            assert (row["status"], row["error_type"], row["cost_usd"]) == ("error", record.error_type, None)
            continue
        assert row["status"] == "ok"
        assert row["response_model"] == record.response_model
        assert (row["input_tokens"], row["output_tokens"]) == (record.input_tokens, record.output_tokens)
        if record.operation == "chat":
            assert row["cached_input_tokens"] == record.cached_tokens
            assert row["finish_reasons"] == [record.finish_reason]
            assert row["prefix_chars"] == record.prefix_chars
        price = prices.lookup(record.response_model or record.model)
        assert price is not None
        expected = price.cost(record.input_tokens or 0, record.cached_tokens or 0, record.output_tokens or 0)
        assert row["cost_usd"] == pytest.approx(expected, rel=1e-9)
    assert Counter(row["feature"] for row in rows) == truth.calls_by_feature
    # The re-tag job's calls that were still rate limited after the SDK's last retry.
    assert Counter(row["status"] for row in rows)["error"] == truth.failed_calls


def test_the_report_finds_each_planted_pattern_and_no_other(demo_run: DemoRun) -> None:
    truth = demo_run.truth
    # The workload's own arithmetic agrees with its design: every pattern where it was planted, nothing else.
    assert (truth.missing, truth.unplanned) == ((), ())
    report = json.loads(callscope("report", "--data", str(demo_run.data), "--format", "json").stdout)
    totals = report["totals"]
    assert (totals["calls"], totals["error_calls"]) == (truth.calls, truth.failed_calls)
    assert (totals["input_tokens"], totals["output_tokens"], totals["cached_input_tokens"]) == (
        truth.input_tokens,
        truth.output_tokens,
        truth.cached_tokens,
    )
    findings = {finding["rule"]: finding for finding in report["suggestions"]}
    assert len(report["suggestions"]) == len(findings) == len(PLANTED)
    assert set(findings) == set(PLANTED)
    for expected in truth.expectations:
        finding = findings[expected.rule]
        evidence, arithmetic = finding["evidence"], finding["arithmetic"]
        assert evidence["tags"]["feature"] == [expected.feature]
        assert arithmetic["inputs"]["extrapolation_factor"] == EXTRAPOLATION
        slack = expected.ambiguous_calls  # calls within 10 ms of a clock-aligned window boundary
        assert abs(evidence["calls"] - expected.calls) <= slack, expected.rule
        if slack:
            continue  # a call on the other side of a boundary moves the sums too: the counts are the check
        for key, value in expected.details.items():
            assert evidence["details"][key] == value, f"{expected.rule}: details.{key}"
        assert arithmetic["inputs"]["observed_saving_usd"] == pytest.approx(
            expected.saving_usd, rel=1e-9, abs=1e-12
        )
        assert finding["saving_usd_30d"] == pytest.approx(expected.saving_usd_30d, rel=1e-9, abs=1e-12)
        if expected.ms_tolerance:
            assert finding["saving_ms_30d"] == pytest.approx(expected.saving_ms_30d, rel=TIMING_TOLERANCE)
        else:
            assert finding["saving_ms_30d"] == 0
    assert math.isclose(
        report["savings"]["usd_30d"], sum(e.saving_usd_30d for e in truth.expectations), rel_tol=1e-9
    )


def test_sql_answers_a_query(demo_run: DemoRun) -> None:
    truth = demo_run.truth
    rows = sql(demo_run.data, "SELECT tags['feature'] AS feature, count(*) AS calls FROM calls GROUP BY ALL")
    assert {row["feature"]: row["calls"] for row in rows} == truth.calls_by_feature
    # The request handlers' spans are in the spans table, one per web request, joined to their calls.
    routes = sql(
        demo_run.data,
        "SELECT s.http_route AS route, count(*) AS calls FROM calls c "
        "JOIN spans s ON s.trace_id = c.trace_id AND s.span_id = c.parent_span_id "
        "WHERE s.kind = 'server' GROUP BY ALL",
    )
    expected = Counter(record.route for record in truth.records if record.route)
    assert {row["route"]: row["calls"] for row in routes} == expected


def test_the_demo_prints_the_report_and_what_it_found(demo_run: DemoRun) -> None:
    output = demo_run.output
    assert f"The app made {demo_run.truth.calls} calls" in output
    assert "callscope report — " in output
    assert (
        f"planted {len(PLANTED)}, and callscope found {len(PLANTED)} of them, each with the saving" in output
    )
    assert "DIFFERENT" not in output
    if demo_run.path == "otlp":
        assert "over OTLP/HTTP to `callscope collect`" in output
