"""``build_report`` and its three renderings on the known call log."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from callscope.analytics import NO_CALLS_MESSAGE, Analytics, Filters, connect, find_suggestions
from callscope.analytics.render import render_json, render_markdown, render_text
from callscope.analytics.report import REPORT_SCHEMA, build_report
from callscope.analytics.suggestions import Arithmetic, Evidence, Finding, RuleContext

from tests.analytics.builders import at, write_calls, write_table
from tests.analytics.known import ALL, SPANS, WINDOW

NOW = at(12)


@pytest.fixture(scope="module")
def analytics(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Analytics]:
    root = tmp_path_factory.mktemp("report")
    write_calls(root, ALL)
    write_table(root, "spans", SPANS)
    with connect(str(root)) as opened:
        yield opened


seen: list[tuple[int, float]] = []


def counting_rule(ctx: RuleContext) -> Iterable[Finding]:
    """A rule that reports what it was given: the scoped calls and the period."""
    calls = ctx.con.sql("SELECT count(*) FROM calls").fetchall()[0][0]
    seen.append((calls, ctx.period_days))
    yield Finding(
        rule="test-rule",
        title="Do the thing",
        summary="Because of the calls.",
        saving_usd_30d=12.5,
        saving_ms_30d=90_000.0,
        evidence=Evidence(calls=calls, cost_usd=1.0, models=("gpt-4o",), example_trace_ids=("t1",)),
        arithmetic=Arithmetic(
            formula="a × b",
            inputs={"a": 2, "b": 6.25},
            prices={"gpt-4o": {"input_mtok": 2.5}},
            price_source="test prices",
        ),
    )


def small_rule(ctx: RuleContext) -> Iterable[Finding]:
    yield Finding(
        rule="small",
        title="Small",
        summary="s",
        saving_usd_30d=1.0,
        saving_ms_30d=0.0,
        evidence=Evidence(calls=1, cost_usd=0.1),
        arithmetic=Arithmetic("x", {}, {}, "p"),
    )


def test_report_totals_and_tables(analytics: Analytics) -> None:
    report = build_report(analytics, WINDOW, rules=[], now=NOW)
    data = report.data
    assert data["schema"] == REPORT_SCHEMA
    assert data["empty"] is False
    totals = data["totals"]
    assert (totals["calls"], totals["error_calls"], totals["unpriced_calls"]) == (13, 2, 3)
    assert round(totals["cost_usd"], 2) == 1.90
    assert totals["previous"]["calls"] == 2
    assert totals["change"]["calls"] == pytest.approx(13 / 2 - 1)
    assert totals["change"]["cost_usd"] == pytest.approx(1.9003 / 0.2 - 1)
    assert [row["key"] for row in data["cost"]["by_model"]] == [
        "gpt-4o",
        "gpt-4o-mini",
        "text-embedding-3-small",
        "acme-ft",
    ]
    assert [row["key"] for row in data["cost"]["by_service"]] == ["api", "worker"]
    assert data["cost"]["top_drivers"][0]["model"] == "gpt-4o"
    assert data["latency"]["overall"]["p50_ms"] == 400.0
    assert data["latency"]["by_model"][0]["key"] in ("gpt-4o", "gpt-4o-mini")
    assert {row["error_type"] for row in data["errors"]} == {"RateLimitError", "APITimeoutError"}
    assert data["window"]["days"] == 1.0
    assert data["window"]["previous"] == {
        "since": "2026-03-01T00:00:00+00:00",
        "until": "2026-03-02T00:00:00+00:00",
    }
    assert data["notes"]
    assert "3 calls have no cost" in data["notes"][0]
    assert set(report.timings_ms) >= {"overview", "cost_breakdown", "suggestions"}


def test_rules_get_the_scoped_calls_and_the_observed_period(analytics: Analytics) -> None:
    seen.clear()
    report = build_report(
        analytics,
        Filters(since=at(-12), until=at(12), services="worker"),
        rules=[small_rule, counting_rule],
        now=NOW,
    )
    # Observed from the first matching call (at +3 h) to the end of the window (+12 h).
    assert len(seen) == 1
    assert seen[0][0] == 2
    assert seen[0][1] == pytest.approx(9 / 24)
    suggestions = report.data["suggestions"]
    assert [s["rule"] for s in suggestions] == ["test-rule", "small"]  # ranked by saving
    assert suggestions[0]["evidence"]["calls"] == 2
    assert report.data["savings"] == {"usd_30d": 13.5, "ms_30d": 90_000.0}


def test_default_rules_run_on_the_known_log(analytics: Analytics) -> None:
    report = build_report(analytics, WINDOW, now=NOW)
    suggestions = report.data["suggestions"]
    savings = [s["saving_usd_30d"] for s in suggestions]
    assert savings == sorted(savings, reverse=True)
    assert all(s["arithmetic"]["formula"] for s in suggestions)
    assert report.data["prices"]["source"].startswith("genai-prices")


def test_json_rendering_is_the_documented_shape(analytics: Analytics) -> None:
    report = build_report(analytics, WINDOW, rules=[counting_rule], now=NOW)
    decoded = json.loads(render_json(report))
    assert set(decoded) == {
        "schema",
        "generated_at",
        "data",
        "filters",
        "window",
        "empty",
        "message",
        "totals",
        "latency",
        "cost",
        "errors",
        "suggestions",
        "savings",
        "prices",
        "notes",
    }
    assert decoded["generated_at"] == "2026-03-03T00:00:00+00:00"
    assert decoded["totals"]["first_call"] == "2026-03-02T12:00:00+00:00"
    assert decoded["suggestions"][0]["arithmetic"]["inputs"] == {"a": 2, "b": 6.25}
    assert set(decoded["cost"]) == {"by_model", "by_service", "by_operation", "top_drivers"}


def test_text_rendering(analytics: Analytics) -> None:
    text = render_text(build_report(analytics, WINDOW, rules=[counting_rule], now=NOW))
    assert "callscope report — " in text
    assert "Calls from 2026-03-02 00:00 to 2026-03-03 00:00 UTC." in text
    lines = text.splitlines()
    cost_line = next(line for line in lines if line.startswith("Cost "))
    assert cost_line.split() == ["Cost", "$1.90", "$0.2000", "+850.1%"]
    assert any(line.split()[:3] == ["gpt-4o", "5", "$1.75"] for line in lines)
    assert "1. Do the thing — saves $12.50 and 1.5 min of waiting per 30 days [test-rule]" in text
    assert "Arithmetic: a × b with a = 2, b = 6.25; prices gpt-4o: input_mtok $2.5/1M (test prices)" in text
    assert "RateLimitError" in text


def test_markdown_rendering(analytics: Analytics) -> None:
    markdown = render_markdown(build_report(analytics, WINDOW, rules=[counting_rule], now=NOW))
    assert markdown.startswith("# callscope report")
    assert "## Where the money goes" in markdown
    assert "| model | calls | cost | share | per call | input tokens | output tokens |" in markdown
    assert "|---|---:|---:|---:|---:|---:|---:|" in markdown
    assert "### 1. Do the thing" in markdown
    assert "- Evidence: 13 calls costing $1.00; models gpt-4o; example traces t1" in markdown


def test_empty_dataset_report(tmp_path: Path) -> None:
    with connect(str(tmp_path)) as analytics:
        report = build_report(analytics, Filters(since="7d"))
    assert report.empty
    assert report.data["message"] == NO_CALLS_MESSAGE
    assert json.loads(render_json(report))["totals"] is None
    assert NO_CALLS_MESSAGE in render_text(report)
    assert NO_CALLS_MESSAGE in render_markdown(report)


def test_no_calls_in_the_window_says_what_the_dataset_has(analytics: Analytics) -> None:
    report = build_report(
        analytics, Filters(since=datetime(2030, 1, 1, tzinfo=UTC)), now=datetime(2030, 1, 2, tzinfo=UTC)
    )
    assert report.empty
    assert report.data["message"] == (
        "no calls match between 2030-01-01 00:00 UTC and now with these filters; the dataset has 15 calls "
        "from 2026-03-01 12:00 UTC to 2026-03-02 17:00 UTC (try a longer --since, or fewer filters)"
    )


def test_report_md_documents_every_key(analytics: Analytics) -> None:
    documented = (Path(__file__).resolve().parents[2] / "docs" / "report.md").read_text(encoding="utf-8")
    data = build_report(analytics, WINDOW, rules=[counting_rule], now=NOW).data
    keys = [
        *data,
        *data["window"],
        *data["totals"],
        *data["latency"]["overall"],
        *data["cost"],
        *data["errors"][0],
    ]
    keys += [
        *data["suggestions"][0],
        *data["suggestions"][0]["evidence"],
        *data["suggestions"][0]["arithmetic"],
    ]
    missing = sorted({key for key in keys if f"`{key}`" not in documented})
    assert not missing, f"docs/report.md does not mention {missing}"
    assert REPORT_SCHEMA in documented


def test_find_suggestions_alone(analytics: Analytics) -> None:
    seen.clear()
    findings = find_suggestions(
        analytics, Filters(since=at(-12), until=at(12), services="worker"), rules=[counting_rule], now=NOW
    )
    assert [finding.rule for finding in findings] == ["test-rule"]
    assert seen[0][1] == pytest.approx(9 / 24)
    assert find_suggestions(analytics, Filters(services="nobody"), rules=[counting_rule]) == []


def test_text_shows_at_most_max_suggestions(analytics: Analytics) -> None:
    report = build_report(analytics, WINDOW, rules=[counting_rule, small_rule], now=NOW)
    text = render_text(report, max_suggestions=1)
    assert "1. Do the thing" in text
    assert "2. Small" not in text
    assert "1 more suggestions, worth $1.00 per 30 days: raise --top or use --format json." in text
    assert "2. Small" in render_markdown(report)


def streaming_rule(ctx: RuleContext) -> Iterable[Finding]:
    """A saving in time only, about calls of which two share a trace."""
    yield Finding(
        rule="stream",
        title="Stream the answers",
        summary="Users wait for the whole answer.",
        saving_usd_30d=0.0,
        saving_ms_30d=72_000.0,
        evidence=Evidence(calls=3, cost_usd=0.3, example_trace_ids=("t1", "t2", "t1", "t3", "t4")),
        arithmetic=Arithmetic("wait − first chunk", {}, {}, "p"),
    )


def test_a_saving_in_time_only_names_no_dollars_and_each_trace_once(analytics: Analytics) -> None:
    report = build_report(analytics, WINDOW, rules=[streaming_rule], now=NOW)
    for rendered in (render_text(report), render_markdown(report)):
        assert "1. Stream the answers — saves 1.2 min of waiting per 30 days [stream]" in rendered
        assert "together about 1.2 min of waiting per 30 days." in rendered
        assert "$0.00" not in rendered.split("Suggestions")[1]
        assert "Evidence: 3 calls costing $0.3000; example traces t1, t2, t3" in rendered
    decoded = json.loads(render_json(report))["suggestions"][0]
    assert (decoded["saving_usd_30d"], decoded["saving_ms_30d"]) == (0.0, 72_000.0)
    assert decoded["evidence"]["example_trace_ids"] == ["t1", "t2", "t1", "t3", "t4"]


def test_a_saving_in_dollars_only_names_no_waiting(analytics: Analytics) -> None:
    report = build_report(analytics, WINDOW, rules=[small_rule, streaming_rule], now=NOW)
    text = render_text(report, max_suggestions=1)
    assert "1. Small — saves $1.00 per 30 days [small]" in text
    assert "together about $1.00 and 1.2 min of waiting per 30 days." in text
    assert "1 more suggestions, worth 1.2 min of waiting per 30 days: raise --top" in text
