"""Named queries on a call log where every answer is known: costs to the cent, exact percentiles."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from callscope.analytics import Analytics, Filters, UnknownQuery, connect
from callscope.analytics.catalog import auto_bucket

from tests.analytics.builders import at, call, write_calls, write_table
from tests.analytics.known import (
    ALL,
    BIG,
    CURRENT,
    EMBEDDINGS,
    ERRORS,
    MINI,
    PREVIOUS,
    SPANS,
    UNPRICED,
    WINDOW,
    column,
    quantile,
)


@pytest.fixture(scope="module")
def analytics(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Analytics]:
    root = tmp_path_factory.mktemp("known")
    write_calls(root, ALL)
    write_table(root, "spans", SPANS)
    with connect(str(root)) as opened:
        yield opened


def by_key(rows: list[dict[str, Any]], key: str = "key") -> dict[Any, dict[str, Any]]:
    return {row[key]: row for row in rows}


# --- overview -----------------------------------------------------------------------------------


def test_overview_totals(analytics: Analytics) -> None:
    row = analytics.run_query("overview", WINDOW).first()
    assert row is not None
    assert row["calls"] == 13
    assert row["error_calls"] == 2
    assert row["error_rate"] == pytest.approx(2 / 13)
    assert row["incomplete_calls"] == 0
    assert row["retried_calls"] == 3
    assert row["rate_limited_calls"] == 2  # the final 429 and the retried-then-ok call
    assert row["streamed_calls"] == 3
    assert row["attempts"] == 5 * 1 + 1 + 3 + 2 + 3 + 3 + 1
    assert row["retry_wait_ms"] == 500 + 3200 + 3000
    assert row["input_tokens"] == 5 * 1000 + 3 * 2000 + 1500 + 300
    assert row["output_tokens"] == 5 * 100 + 3 * 500 + 30
    assert row["cached_input_tokens"] == 1024
    assert round(row["cost_usd"], 2) == 1.90
    assert row["cost_usd"] == pytest.approx(0.15 + 1.75 + 0.0003, abs=1e-12)
    assert row["unpriced_calls"] == 3
    assert row["mean_cost_usd"] == pytest.approx(1.9003 / 10)
    assert row["first_call"] == at(0)
    assert row["last_call"] == at(5)


def test_overview_percentiles_are_exact(analytics: Analytics) -> None:
    row = analytics.run_query("overview", WINDOW).first()
    assert row is not None
    durations = column(CURRENT, "duration_ms")
    for name, p in (("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99)):
        assert row[name] == pytest.approx(quantile(durations, p), abs=1e-9), name
    assert row["mean_ms"] == pytest.approx(sum(durations) / len(durations))
    assert row["ttft_p50_ms"] == 70.0
    assert row["ttft_p95_ms"] == pytest.approx(quantile([50, 70, 90], 0.95))


def test_overview_previous_period(analytics: Analytics) -> None:
    row = analytics.run_query("overview", WINDOW).first()
    assert row is not None
    assert row["prev_calls"] == 2
    assert row["prev_cost_usd"] == pytest.approx(0.2)
    assert row["prev_p50_ms"] == 200.0
    assert row["prev_first_call"] == at(-24)
    # No window start: nothing to compare with.
    open_ended = analytics.run_query("overview").first()
    assert open_ended is not None
    assert open_ended["calls"] == 15
    assert open_ended["prev_calls"] is None


# --- filters --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "calls", "cost"),
    [
        (Filters(since=at(-12), until=at(12), services="api"), 11, 1.90),
        (Filters(since=at(-12), until=at(12), services=["worker"]), 2, 0.0003),
        (Filters(since=at(-12), until=at(12), models="gpt-4o-mini"), 5, 0.15),
        (Filters(since=at(-12), until=at(12), models="gpt-4o-2024-08-06"), 3, 1.75),
        (Filters(since=at(-12), until=at(12), operations="embeddings"), 2, 0.0003),
        (Filters(since=at(-12), until=at(12), environments="staging"), 2, 0.0003),
        (Filters(since=at(-12), until=at(12), status="error"), 2, 0.0),
        (Filters(since=at(-12), until=at(12), tags={"feature": "search"}), 3, 0.06),
        (Filters(since=at(-12), until=at(12), tags={"feature": ["search", "answer"]}), 8, 1.81),
        (Filters(since=at(-12), until=at(12), tags={"customer": None}), 5, 0.15),
        (Filters(since=at(-12), until=at(12), tags={"feature": "summarize", "customer": "acme"}), 2, 0.09),
        (Filters(since=at(1), until=at(2.15)), 4, 0.84),  # since inclusive, until exclusive
        (Filters(since=at(-30), until=at(-23)), 1, 0.1),
        (Filters(), 15, 2.1003),
    ],
)
def test_filters_apply(analytics: Analytics, filters: Filters, calls: int, cost: float) -> None:
    row = analytics.run_query("overview", filters).first()
    assert row is not None
    assert row["calls"] == calls
    assert row["cost_usd"] == pytest.approx(cost, abs=1e-12)
    # Every other query sees the same calls.
    assert sum(r["calls"] for r in analytics.run_query("cost_by", filters, by="none").rows()) == calls


def test_relative_time_filters(analytics: Analytics) -> None:
    # Relative times are measured from now; the known calls are in the past.
    assert analytics.run_query("overview", Filters(since="1h")).one()["calls"] == 0
    assert analytics.run_query("overview", Filters(since="100000d")).one()["calls"] == 15


# --- cost -----------------------------------------------------------------------------------------


def test_cost_by_model(analytics: Analytics) -> None:
    rows = analytics.run_query("cost_by", WINDOW, by="model").rows()
    assert [row["key"] for row in rows] == ["gpt-4o", "gpt-4o-mini", "text-embedding-3-small", "acme-ft"]
    costs = by_key(rows)
    assert round(costs["gpt-4o"]["cost_usd"], 2) == 1.75
    assert costs["gpt-4o"]["calls"] == 5  # two failed calls included, unpriced
    assert costs["gpt-4o"]["unpriced_calls"] == 2
    assert costs["gpt-4o"]["mean_cost_usd"] == pytest.approx(1.75 / 3)
    assert costs["gpt-4o"]["error_calls"] == 2
    assert costs["gpt-4o-mini"]["cost_usd"] == pytest.approx(0.15)
    assert costs["gpt-4o-mini"]["cached_input_tokens"] == 1024
    assert costs["acme-ft"]["cost_usd"] == 0
    assert costs["acme-ft"]["mean_cost_usd"] is None
    assert sum(row["cost_share"] for row in rows) == pytest.approx(1.0)
    assert costs["gpt-4o"]["cost_share"] == pytest.approx(1.75 / 1.9003)


def test_cost_by_tag_and_other_dimensions(analytics: Analytics) -> None:
    tags = by_key(analytics.run_query("cost_by", WINDOW, by="tag:feature").rows())
    assert {key: round(row["cost_usd"], 4) for key, row in tags.items()} == {
        "answer": 1.75,
        "summarize": 0.09,
        "search": 0.06,
        None: 0.0003,
    }
    assert tags[None]["calls"] == 3  # embeddings and the unpriced call have no feature tag
    services = by_key(analytics.run_query("cost_by", WINDOW, by="service").rows())
    assert (services["api"]["calls"], services["worker"]["calls"]) == (11, 2)
    statuses = by_key(analytics.run_query("cost_by", WINDOW, by="status").rows())
    assert (statuses["ok"]["calls"], statuses["error"]["calls"]) == (11, 2)
    streams = by_key(analytics.run_query("cost_by", WINDOW, by="stream").rows())
    assert streams["streamed"]["cost_usd"] == pytest.approx(1.75)
    http = by_key(analytics.run_query("cost_by", WINDOW, by="http_status").rows())
    assert (http["200"]["calls"], http["429"]["calls"], http[None]["calls"]) == (11, 1, 1)
    limited = analytics.run_query("cost_by", WINDOW, by="model", limit=1).rows()
    assert [row["key"] for row in limited] == ["gpt-4o"]


def test_cost_breakdown_matches_cost_by(analytics: Analytics) -> None:
    breakdown = analytics.run_query("cost_breakdown", WINDOW).rows()
    for dimension in ("model", "service", "operation"):
        expected = analytics.run_query("cost_by", WINDOW, by=dimension).rows()
        got = [
            {k: v for k, v in row.items() if k != "dimension"}
            for row in breakdown
            if row["dimension"] == dimension
        ]
        _assert_same_rows(got, expected)


def _assert_same_rows(got: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    assert [row["key"] for row in got] == [row["key"] for row in expected]
    for left, right in zip(got, expected, strict=True):
        for name in ("calls", "input_tokens", "output_tokens", "error_calls", "unpriced_calls"):
            assert left[name] == right[name]
        assert left["cost_usd"] == pytest.approx(right["cost_usd"], abs=1e-12)
        assert left["cost_share"] == pytest.approx(right["cost_share"])


def test_cost_drivers(analytics: Analytics) -> None:
    rows = analytics.run_query("cost_drivers", WINDOW, limit=2).rows()
    assert [(r["service_name"], r["operation"], r["model"]) for r in rows] == [
        ("api", "chat", "gpt-4o"),
        ("api", "chat", "gpt-4o-mini"),
    ]
    assert rows[0]["cost_usd"] == pytest.approx(1.75)
    assert rows[0]["cost_share"] == pytest.approx(1.75 / 1.9003)


def test_spend_over_time_by_hour(analytics: Analytics) -> None:
    rows = analytics.run_query("spend_over_time", WINDOW, bucket="hour", by="model").rows()
    cells = {(row["bucket_start"], row["key"]): row for row in rows}
    assert cells[(at(0), "gpt-4o-mini")]["calls"] == 3
    assert cells[(at(0), "gpt-4o-mini")]["cost_usd"] == pytest.approx(0.06)
    assert cells[(at(1), "gpt-4o-mini")]["cost_usd"] == pytest.approx(0.09)
    assert cells[(at(2), "gpt-4o")]["cost_usd"] == pytest.approx(1.75)
    assert sum(row["calls"] for row in rows) == 13
    assert rows == sorted(rows, key=lambda r: r["bucket_start"])


def test_auto_bucket_follows_the_span_of_the_calls_in_the_window(analytics: Analytics) -> None:
    def bucket(filters: Filters) -> str:
        return str(analytics.run_query("spend_over_time", filters).params["bucket"])

    assert bucket(Filters(since=at(0), until=at(2))) == "minute"  # calls from 0 h to 1.5 h
    assert bucket(WINDOW) == "hour"  # calls from 0 h to 5 h
    # Only the two calls a day earlier (an hour apart) are in these long windows.
    assert bucket(Filters(since=at(0, days=-30), until=at(0))) == "minute"
    assert bucket(Filters(since=at(0, days=-300), until=at(0))) == "minute"
    assert bucket(Filters()) == "hour"  # 29 hours
    # No call in the window: its length decides.
    assert bucket(Filters(since=at(0, days=-300), until=at(0, days=-30))) == "week"


def test_seconds_of_calls_in_a_week_get_a_bar_per_second(tmp_path: Path) -> None:
    seconds = [at(0) + timedelta(seconds=n) for n in range(25)]
    write_calls(tmp_path, [call(start_time=moment, cost_usd=0.01) for moment in seconds])
    with connect(str(tmp_path)) as opened:
        week = Filters(since=at(0, days=-6), until=at(0, days=1))
        for name in ("spend_over_time", "latency_over_time", "errors_over_time", "ratelimit_headroom"):
            assert opened.run_query(name, week).params["bucket"] == "second"
        rows = opened.run_query("spend_over_time", week).rows()
    assert [row["bucket_start"] for row in rows] == seconds
    assert sum(row["calls"] for row in rows) == 25


@pytest.mark.parametrize(
    ("span", "bucket"),
    [
        (timedelta(0), "second"),
        (timedelta(minutes=3), "second"),
        (timedelta(minutes=3, seconds=1), "minute"),
        (timedelta(hours=3), "minute"),
        (timedelta(hours=5), "hour"),
        (timedelta(days=3), "hour"),
        (timedelta(days=30), "day"),
        (timedelta(days=300), "week"),
        (timedelta(days=731), "month"),
    ],
)
def test_auto_bucket_widths(span: timedelta, bucket: str) -> None:
    assert auto_bucket(span) == bucket


def test_tags(analytics: Analytics) -> None:
    keys = by_key(analytics.run_query("tag_keys", WINDOW).rows())
    assert (keys["feature"]["calls"], keys["feature"]["distinct_values"]) == (10, 3)
    assert keys["customer"]["calls"] == 5
    assert keys["feature"]["cost_usd"] == pytest.approx(1.9)
    values = analytics.run_query("tag_values", WINDOW, key="feature").rows()
    assert [(row["value"], row["calls"]) for row in values] == [
        ("answer", 5),
        ("search", 3),
        ("summarize", 2),
    ]


def test_cache_usage(analytics: Analytics) -> None:
    mini = by_key(analytics.run_query("cache_usage", WINDOW, by="model").rows())["gpt-4o-mini"]
    assert (mini["input_tokens"], mini["cached_input_tokens"], mini["uncached_input_tokens"]) == (
        5000,
        1024,
        3976,
    )
    assert mini["cached_share"] == pytest.approx(1024 / 5000)
    assert (mini["cacheable_calls"], mini["cache_hit_calls"]) == (0, 2)


def test_top_traces_and_prefixes(analytics: Analytics) -> None:
    traces = analytics.run_query("top_traces", WINDOW, limit=20).rows()
    shared = by_key(traces, "trace_id")["a" * 32]
    assert shared["calls"] == 2
    assert shared["cost_usd"] == pytest.approx(0.03)
    assert shared["elapsed_ms"] == pytest.approx(0.25 * 3600 * 1000 + 200)
    assert (shared["root_name"], shared["root_route"]) == ("POST /v1/search", "/v1/search")
    assert traces[0]["cost_usd"] == 1.0
    assert traces[0]["models"] == ["gpt-4o"]
    assert len(analytics.run_query("top_traces", WINDOW, limit=3)) == 3
    prefixes = analytics.run_query("top_prefixes", WINDOW).rows()
    assert len(prefixes) == 1
    assert prefixes[0]["calls"] == 5
    assert prefixes[0]["cost_usd"] == pytest.approx(0.15)
    assert prefixes[0]["prefix_share_of_input"] == pytest.approx(600 / 4000)
    assert prefixes[0]["cached_share"] == pytest.approx(1024 / 5000)


# --- latency ------------------------------------------------------------------------------------


def test_latency_percentiles_by_model(analytics: Analytics) -> None:
    rows = by_key(analytics.run_query("latency_percentiles", WINDOW, by="model").rows())
    mini = rows["gpt-4o-mini"]
    durations = column(MINI, "duration_ms")
    assert (mini["p50_ms"], mini["p95_ms"], mini["p99_ms"]) == pytest.approx(
        (quantile(durations, 0.5), quantile(durations, 0.95), quantile(durations, 0.99))
    )
    assert mini["p95_ms"] == pytest.approx(880.0)  # 400 + 0.8 * (1000 - 400)
    assert mini["server_p50_ms"] == quantile(column(MINI, "server_processing_ms"), 0.5)
    # Network + queueing: duration minus the server's processing time, for calls of one attempt
    # (the retried call is left out).
    assert mini["network_p50_ms"] == 30.0
    assert mini["network_p99_ms"] == 30.0
    big = rows["gpt-4o"]
    durations = column([*BIG, *[e for e in ERRORS if e["request_model"] == "gpt-4o"]], "duration_ms")
    assert big["p99_ms"] == pytest.approx(quantile(durations, 0.99))
    assert (big["ttft_p50_ms"], big["streamed_calls"]) == (70.0, 3)
    assert big["network_p50_ms"] is None  # streamed calls have no network figure; failures no processing time


def test_latency_over_time_and_breakdown(analytics: Analytics) -> None:
    rows = analytics.run_query("latency_over_time", WINDOW, bucket="hour").rows()
    first = rows[0]
    assert (first["bucket_start"], first["key"], first["calls"]) == (at(0), None, 3)
    assert first["p50_ms"] == 200.0
    breakdown = by_key(analytics.run_query("latency_breakdown", WINDOW, by="model").rows())["gpt-4o-mini"]
    assert breakdown["mean_ms"] == pytest.approx(400.0)
    assert breakdown["mean_retry_wait_ms"] == pytest.approx(100.0)
    assert breakdown["mean_server_ms"] == pytest.approx((70 + 170 + 270 + 370 + 350) / 5)


def test_latency_vs_output_tokens_is_a_stable_sample(analytics: Analytics) -> None:
    first = analytics.run_query("latency_vs_output_tokens", WINDOW, limit=4).rows()
    assert len(first) == 4
    assert first == analytics.run_query("latency_vs_output_tokens", WINDOW, limit=4).rows()
    everything = analytics.run_query("latency_vs_output_tokens", WINDOW).rows()
    assert len(everything) == 11  # calls with output tokens and a duration


def test_token_distribution(analytics: Analytics) -> None:
    big = by_key(analytics.run_query("token_distribution", WINDOW).rows())["gpt-4o"]
    assert (big["input_p50"], big["output_p90"], big["max_output_tokens"]) == (2000, 500, 500)
    assert big["truncated_calls"] == 3


# --- errors and retries ---------------------------------------------------------------------------


def test_errors_by_type(analytics: Analytics) -> None:
    rows = analytics.run_query("errors_by_type", WINDOW).rows()
    assert [(r["error_type"], r["error_code"], r["http_status"], r["calls"]) for r in rows] == [
        ("APITimeoutError", None, None, 1),
        ("RateLimitError", "rate_limit_exceeded", 429, 1),
    ]
    assert rows[0]["share_of_calls"] == pytest.approx(1 / 13)
    assert rows[1]["retried_calls"] == 1
    assert rows[1]["example_trace_id"] == ERRORS[0]["trace_id"]
    assert rows[0]["time_spent_ms"] == 60000.0


def test_attempts(analytics: Analytics) -> None:
    statuses = by_key(analytics.run_query("attempts_by_status", WINDOW).rows(), "attempt_status")
    assert {status: row["attempts"] for status, row in statuses.items()} == {
        "200": 11,
        "429": 4,
        "timeout": 3,
    }
    assert statuses["429"]["calls"] == 2
    assert statuses["429"]["share_of_attempts"] == pytest.approx(4 / 18)
    distribution = analytics.run_query("attempts_distribution", WINDOW).rows()
    assert [(r["attempts"], r["calls"], r["error_calls"]) for r in distribution] == [
        (1, 10, 0),
        (2, 1, 0),
        (3, 2, 2),
    ]


def test_retry_summary(analytics: Analytics) -> None:
    rows = by_key(analytics.run_query("retry_summary", WINDOW, by="model").rows())
    big = rows["gpt-4o"]
    assert (big["retried_calls"], big["extra_attempts"], big["gave_up_calls"]) == (2, 4, 2)
    assert big["retry_rate"] == pytest.approx(2 / 5)
    assert big["retry_wait_ms"] == 6200.0
    assert big["failed_attempt_ms"] == pytest.approx(200 + 38000)
    assert (big["rate_limited_attempts"], big["timed_out_attempts"]) == (3, 3)
    assert rows["gpt-4o-mini"]["failed_attempt_ms"] == 100.0


def test_errors_over_time(analytics: Analytics) -> None:
    rows = analytics.run_query("errors_over_time", WINDOW, bucket="hour", by="http_status").rows()
    assert [(r["bucket_start"], r["key"], r["error_calls"], r["bucket_calls"]) for r in rows] == [
        (at(4), "429", 1, 2),
        (at(4), None, 1, 2),
    ]
    assert rows[0]["error_rate"] == 0.5


def test_ratelimit_headroom(analytics: Analytics) -> None:
    rows = analytics.run_query("ratelimit_headroom", WINDOW, bucket="day", by="model").rows()
    big = by_key(rows)["gpt-4o"]
    assert (big["min_remaining_requests"], big["min_request_headroom"]) == (0, 0.0)
    assert big["rate_limited_calls"] == 1
    mini = by_key(rows)["gpt-4o-mini"]
    assert mini["min_token_headroom"] == pytest.approx(0.9)
    before = by_key(analytics.run_query("ratelimit_before_429", WINDOW).rows())
    # The 429 on gpt-4o came after streams that had reported 100 of 500 requests left.
    assert before["gpt-4o"]["rate_limited_calls"] == 1
    assert before["gpt-4o"]["median_request_headroom_before"] == pytest.approx(0.2)
    assert before["gpt-4o-mini"]["median_request_headroom_before"] == pytest.approx(0.9)


# --- calls, details, values -----------------------------------------------------------------------


def test_calls_pages_and_orders(analytics: Analytics) -> None:
    newest = analytics.run_query("calls", WINDOW, limit=3).rows()
    assert [row["start_time"] for row in newest] == [at(5), at(4.5), at(4)]
    second = analytics.run_query("calls", WINDOW, limit=3, offset=3).rows()
    assert [row["start_time"] for row in second] == [at(3.5), at(3), at(2.2)]
    costly = analytics.run_query("calls", WINDOW, order="cost", limit=2).rows()
    assert [row["cost_usd"] for row in costly] == [1.0, 0.5]
    slow = analytics.run_query("calls", WINDOW, order="duration", limit=1).rows()
    assert slow[0]["error_type"] == "APITimeoutError"
    oldest = analytics.run_query("calls", WINDOW, order="oldest", limit=1).rows()
    assert oldest[0]["start_time"] == at(0)
    assert oldest[0]["tags"] == {"feature": "search", "customer": "acme"}


def test_call_detail_and_attempts(analytics: Analytics) -> None:
    retried = MINI[4]
    detail = analytics.run_query("call_detail", WINDOW, span_id=retried["span_id"]).rows()
    assert len(detail) == 1
    assert detail[0]["retry_wait_ms"] == 500.0
    assert detail[0]["model"] == "gpt-4o-mini"
    attempts = analytics.run_query("call_attempts", WINDOW, span_id=retried["span_id"]).rows()
    assert attempts == [
        {"attempt": 1, "status": "429", "duration_ms": 100.0},
        {"attempt": 2, "status": "200", "duration_ms": 400.0},
    ]
    handled = analytics.run_query("call_detail", WINDOW, span_id=MINI[0]["span_id"]).first()
    assert handled is not None
    assert (handled["parent_name"], handled["parent_route"]) == ("POST /v1/search", "/v1/search")
    assert analytics.run_query("call_detail", WINDOW, span_id="0" * 16).rows() == []


def test_distinct_values(analytics: Analytics) -> None:
    rows = analytics.run_query("distinct_values", WINDOW).rows()
    values: dict[str, list[tuple[str, int]]] = {}
    for row in rows:
        values.setdefault(row["field"], []).append((row["value"], row["calls"]))
    assert values["service"] == [("api", 11), ("worker", 2)]
    assert values["model"] == [
        ("gpt-4o", 5),
        ("gpt-4o-mini", 5),
        ("text-embedding-3-small", 2),
        ("acme-ft", 1),
    ]
    assert values["status"] == [("ok", 11), ("error", 2)]
    assert values["environment"] == [("production", 8), ("staging", 2)]
    assert dict(values["operation"]) == {"chat": 11, "embeddings": 2}


def test_dataset_extent(analytics: Analytics) -> None:
    assert analytics.run_query("dataset_extent").first() == {
        "calls": 15,
        "first_call": at(-24),
        "last_call": at(5),
    }


# --- the API --------------------------------------------------------------------------------------


def test_unknown_query_and_parameters_are_clear_errors(analytics: Analytics) -> None:
    with pytest.raises(UnknownQuery, match=r"no query named 'nope'; the queries are: .*overview"):
        analytics.run_query("nope")
    with pytest.raises(UnknownQuery, match="cost_by does not take colour; it takes by, limit"):
        analytics.run_query("cost_by", colour="red")
    with pytest.raises(UnknownQuery, match="bad value 'sideways' for by"):
        analytics.run_query("cost_by", by="sideways")
    with pytest.raises(UnknownQuery, match="bad value -1 for limit"):
        analytics.run_query("cost_by", limit=-1)
    with pytest.raises(UnknownQuery, match="needs the parameter span_id"):
        analytics.run_query("call_detail")
    with pytest.raises(UnknownQuery, match="expected one of newest"):
        analytics.run_query("calls", order="random")


def test_parameters_are_bound_not_formatted(analytics: Analytics) -> None:
    hostile = "x' OR '1'='1"
    assert analytics.run_query("call_detail", span_id=hostile).rows() == []
    assert analytics.run_query("tag_values", key=hostile).rows() == []
    assert analytics.run_query("overview", Filters(services=[hostile])).one()["calls"] == 0
    assert analytics.run_query("overview", Filters(tags={hostile: hostile})).one()["calls"] == 0


def test_query_result_conversions(analytics: Analytics) -> None:
    import json

    result = analytics.run_query("calls", WINDOW, order="oldest", limit=2)
    assert result.columns[:3] == ["start_time", "span_id", "trace_id"]
    assert len(result) == 2
    assert result.arrow().num_rows == 2
    decoded = json.loads(result.to_json())
    assert decoded[0]["start_time"] == "2026-03-02T12:00:00+00:00"
    assert decoded[0]["tags"] == {"feature": "search", "customer": "acme"}
    assert decoded[0]["finish_reasons"] == ["stop"]
    csv_lines = result.to_csv().splitlines()
    assert csv_lines[0].startswith("start_time,span_id,trace_id")
    assert '"{""feature"": ""search"", ""customer"": ""acme""}"' in csv_lines[1]
    frame = result.df()
    assert list(frame.columns) == result.columns
    assert result.filters is not None
    assert result.filters["since"] == "2026-03-02T00:00:00+00:00"
    assert result.params == {"order": "oldest", "limit": 2, "offset": 0}


def test_trusted_sql_with_filters_and_params(analytics: Analytics) -> None:
    result = analytics.sql(
        "SELECT count(*) AS n FROM calls WHERE input_tokens >= $least", {"least": 1000}, filters=WINDOW
    )
    assert result.rows() == [{"n": 9}]


def test_dates_are_utc(analytics: Analytics) -> None:
    row = analytics.run_query("dataset_extent").first()
    assert row is not None
    assert row["first_call"].utcoffset().total_seconds() == 0
    assert row["first_call"] == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_previous_and_current_windows_do_not_overlap() -> None:
    resolved = WINDOW.resolve()
    previous = resolved.previous()
    assert previous is not None
    assert previous.until == resolved.since
    assert all(previous.since <= row["start_time"] < previous.until for row in PREVIOUS)
    assert all(resolved.since <= row["start_time"] < resolved.until for row in CURRENT)
    assert len(EMBEDDINGS) + len(UNPRICED) == 3
