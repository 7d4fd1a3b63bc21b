"""Every page on the planted call log, in AppTest: it renders, and its figures are the analytics API's.

The planted log is known row by row (``fixture.py``): 194 calls in the last 7 days (11 failed,
16 met a 429, 21 retried), 40 in the week before. Figures are checked against those counts
and against the named queries run directly on the same files.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from callscope.analytics import Analytics, Filters, run_user_sql
from callscope.analytics.report import build_report
from callscope.dashboard import formatting

from tests.dashboard.conftest import OpenApp
from tests.dashboard.elements import assert_healthy, chart, charts, deltas, metrics, texts
from tests.dashboard.fixture import PRICES, CallLog

WEEK = Filters(since="7d")


def in_window(log: CallLog, days: float = 7) -> list[dict[str, Any]]:
    return [row for row in log.calls if (log.anchor - row["start_time"]).total_seconds() < days * 86400]


def test_overview_headline_matches_the_planted_log(
    open_app: OpenApp, planted: tuple[Path, CallLog], analytics: Analytics
) -> None:
    root, log = planted
    app = open_app(root)
    assert_healthy(app)
    rows = in_window(log)
    spend = sum(float(row["cost_usd"] or 0) for row in rows)
    assert len(rows) == 194
    shown = metrics(app)
    assert shown["Calls"] == "194"
    assert shown["Spend"] == formatting.usd(spend)
    assert shown["Error rate"] == formatting.percent(11 / 194)
    overview = analytics.run_query("overview", WEEK).first()
    assert overview is not None
    assert shown["p95 latency"] == formatting.duration(overview["p95_ms"])
    assert shown["Tokens"] == formatting.tokens(overview["input_tokens"] + overview["output_tokens"])
    assert shown["Time lost to backoff"] == formatting.duration(10 * 1000 + 6 * 3000 + 3 * 2500 + 2 * 1500)
    # Against the week before (40 calls, none failed).
    assert deltas(app)["Calls"] == "+385.0 %"
    assert deltas(app)["Error rate"] == formatting.point_change(11 / 194, 0.0)


def test_overview_charts_add_up(open_app: OpenApp, data_root: Path) -> None:
    app = open_app(data_root)
    # The week's calls span under 3 days: bucketed by the hour (the span of the data, not the window).
    spend = chart(app, "Spend per hour by model")
    calls = chart(app, "Calls per hour by model")
    assert spend["encoding"]["y"]["title"] == "Spend (USD)"
    assert spend["encoding"]["x"]["title"] == "Time (UTC, per hour)"
    assert sum(row["calls"] for row in calls["_data"]) == 194
    by_model: dict[str, float] = {}
    for row in spend["_data"]:
        by_model[row["key"]] = by_model.get(row["key"], 0.0) + row["cost_usd"]
    # 40 classifications + 8 repeats on gpt-4o.
    assert by_model["gpt-4o"] == pytest.approx(
        40 * (300 * PRICES["gpt-4o"][0] + 2 * PRICES["gpt-4o"][2]) / 1e6
        + 8 * (2000 * PRICES["gpt-4o"][0] + 300 * PRICES["gpt-4o"][2]) / 1e6
    )
    drivers = app.dataframe[0].value
    assert list(drivers.columns[:3]) == ["service_name", "operation", "model"]
    assert drivers["calls"].sum() == 194


def test_cost_page_breaks_spend_down(open_app: OpenApp, data_root: Path, analytics: Analytics) -> None:
    app = open_app(data_root, page="cost")
    assert_healthy(app)
    expected = {
        row["key"]: row["cost_usd"] for row in analytics.run_query("cost_by", WEEK, by="model").rows()
    }
    bars = chart(app, "Spend by model")
    assert {row["key"]: row["cost_usd"] for row in bars["_data"]} == pytest.approx(
        {key or "(none)": value for key, value in expected.items()}
    )
    # Every tag key is a grouping; switching regroups the chart and its table.
    group = app.segmented_control(key="cost_by")
    assert "Tag: feature" in group.options
    group.set_value("Tag: feature").run()
    assert_healthy(app)
    by_feature = chart(app, "Spend by tag: feature")
    assert {row["key"] for row in by_feature["_data"]} == {
        "chat",
        "search",
        "triage",
        "faq",
        "digest",
        "index",
        "support",
    }
    cache = chart(app, "Input tokens by model")
    assert {row["part"] for row in cache["_data"]} == {"Cached (discounted)", "Uncached (full price)"}
    # What if: gpt-4o-mini is the default target; the table is the whatif_model query's.
    whatif = analytics.run_query("whatif_model", WEEK, target="gpt-4o-mini", by="model").rows()
    saving = next(row["saving_usd"] for row in whatif if row["key"] == "gpt-4o")
    tables = [frame for frame in (item.value for item in app.dataframe) if "target_cost_usd" in frame.columns]
    assert tables[0].set_index("key").loc["gpt-4o", "saving_usd"] == pytest.approx(saving)


def test_latency_page(open_app: OpenApp, data_root: Path, analytics: Analytics) -> None:
    app = open_app(data_root, page="latency")
    assert_healthy(app)
    overview = analytics.run_query("overview", WEEK).first()
    assert overview is not None
    shown = metrics(app)
    for label, key in (("p50 latency", "p50_ms"), ("p95 latency", "p95_ms"), ("p99 latency", "p99_ms")):
        assert shown[label] == formatting.duration(overview[key])
    assert shown["Time to first chunk, p50"] == formatting.duration(overview["ttft_p50_ms"])
    titles = [spec["title"] for spec in charts(app)]
    assert titles[0] == "p95 latency per hour by model"
    assert "Time to first chunk of streamed calls, by model" in titles
    assert "Where a call's time goes, on average, by model" in titles
    scatter = chart(app, "Latency against output tokens")
    assert len(scatter["_data"]) == analytics.run_query("latency_vs_output_tokens", WEEK).table.num_rows
    app.segmented_control(key="latency_percentile").set_value("p99").run()
    lines = charts(app)[0]
    assert lines["encoding"]["y"]["field"] == "p99_ms"
    expected = analytics.run_query("latency_over_time", WEEK, by="model").rows()
    assert sorted(row["p99_ms"] for row in lines["_data"]) == pytest.approx(
        sorted(row["p99_ms"] / 1000 for row in expected)
    )


def test_errors_page(open_app: OpenApp, data_root: Path) -> None:
    app = open_app(data_root, page="errors")
    assert_healthy(app)
    shown = metrics(app)
    assert (shown["Failed calls"], shown["Calls retried"], shown["Calls rate limited"]) == ("11", "21", "16")
    failed = chart(app, "Failed calls per hour by error type")
    totals: dict[str, int] = {}
    for row in failed["_data"]:
        totals[row["key"]] = totals.get(row["key"], 0) + row["error_calls"]
    assert totals == {"RateLimitError": 6, "APITimeoutError": 3, "InternalServerError": 2}
    attempts = {row["attempts"]: row["calls"] for row in chart(app, "HTTP attempts per call")["_data"]}
    assert attempts == {"1 attempt": 194 - 21, "2 attempts": 10, "3 attempts": 11}
    outcomes = {row["attempt_status"]: row["attempts"] for row in chart(app, "Every HTTP attempt")["_data"]}
    assert (outcomes["429"], outcomes["timeout"], outcomes["500"]) == (10 + 18, 9, 6)
    app.segmented_control(key="errors_by").set_value("HTTP status").run()
    by_status = chart(app, "Failed calls per hour by http status")
    assert {row["key"] for row in by_status["_data"]} == {"429", "500", "(none)"}
    assert "Headroom reported just before each 429" in texts(app)


def test_suggestions_page_shows_the_report(open_app: OpenApp, data_root: Path, analytics: Analytics) -> None:
    app = open_app(data_root, page="suggestions")
    assert_healthy(app)
    report = build_report(analytics, WEEK).to_dict()
    findings = report["suggestions"]
    assert len(findings) >= 3
    titles = [
        item.value.removeprefix("#### ") for item in app.main.markdown if item.value.startswith("#### ")
    ]
    titles += [item.label.split(" — ")[0] for item in app.expander if item.label[0].isdigit()]
    assert titles == [f"{rank}. {finding['title']}" for rank, finding in enumerate(findings, start=1)]
    by_kind = chart(app, "Possible saving per 30 days, by kind of change")
    assert sum(row["usd"] for row in by_kind["_data"]) == pytest.approx(
        report["savings"]["usd_30d"], rel=1e-3
    )
    # Savings are extrapolated from a window that ends "now": the app's now and this test's differ by seconds.
    shown = float(metrics(app)["Possible saving / 30 days"].lstrip("$").replace(",", ""))
    assert shown == pytest.approx(report["savings"]["usd_30d"], rel=0.01)
    links = [link for link in app.page_link if "sample call" in link.proto.label]
    assert len(links) == len(findings)
    first = parse_qs(links[0].proto.query_string)
    assert first["calls"] == [",".join(findings[0]["evidence"]["example_span_ids"])]


def test_a_suggestion_links_to_its_calls_in_the_explorer(
    open_app: OpenApp, data_root: Path, analytics: Analytics
) -> None:
    app = open_app(data_root, page="suggestions")
    link = next(link for link in app.page_link if "sample call" in link.proto.label)
    assert link.proto.page.endswith("explorer")
    params = {
        key: values if len(values) > 1 else values[0]
        for key, values in parse_qs(link.proto.query_string).items()
    }
    explorer = open_app(data_root, page="explorer", params=params)
    assert_healthy(explorer)
    wanted = str(params["calls"]).split(",")
    shown = explorer.dataframe[0].value
    assert sorted(shown["span_id"]) == sorted(wanted)
    assert "the 5 calls a suggestion names as its evidence" in texts(explorer)


def test_explorer_lists_filters_and_details_calls(open_app: OpenApp, planted: tuple[Path, CallLog]) -> None:
    root, log = planted
    app = open_app(root, page="explorer")
    assert_healthy(app)
    assert "194 calls match; showing 1–50." in texts(app)
    table = app.dataframe[0].value
    assert len(table) == 50
    assert table["start_time"].is_monotonic_decreasing
    app.multiselect(key="status").set_value(["error"]).run()
    errors = app.dataframe[0].value
    assert len(errors) == 11
    assert set(errors["status"]) == {"error"}
    # The detail of a rate-limited call shows its three attempts.
    limited = next(row for row in log.calls if row.get("error_type") == "RateLimitError")
    app.selectbox(key="call").set_value(limited["span_id"]).run()
    assert_healthy(app)
    attempts = app.dataframe[-1].value
    assert list(attempts["status"]) == ["429", "429", "429"]
    assert metrics(app)["Status"] == "error · 429"


def test_explorer_opens_a_trace_from_the_url(open_app: OpenApp, planted: tuple[Path, CallLog]) -> None:
    root, log = planted
    row = log.calls[3]
    app = open_app(root, page="explorer", params={"trace": row["trace_id"], "call": row["span_id"]})
    assert_healthy(app)
    assert list(app.dataframe[0].value["span_id"]) == [row["span_id"]]
    assert app.selectbox(key="call").value == row["span_id"]
    assert f"Call `{row['span_id']}`" in [item.value for item in app.subheader]


def test_explorer_export(monkeypatch: pytest.MonkeyPatch, data_root: Path) -> None:
    import pyarrow.parquet as pq
    from callscope.dashboard.state import FilterState
    from callscope.dashboard.views import explorer

    monkeypatch.setenv("CALLSCOPE_DATA", str(data_root))
    state = FilterState().with_status(["error"])
    parquet = pq.read_table(__import__("io").BytesIO(explorer._export(state, {}, "parquet")))
    assert parquet.num_rows == 11
    csv = explorer._export(state, {"trace_id": "0" * 31 + "1"}, "csv").decode()
    assert csv.splitlines()[0].startswith("start_time,span_id,trace_id,")
    assert len(csv.splitlines()) == 1  # that trace's call did not fail


def test_sql_page_runs_the_example_and_refuses_like_the_cli(
    open_app: OpenApp, data_root: Path, analytics: Analytics
) -> None:
    app = open_app(data_root, page="sql")
    assert_healthy(app)
    schema_tables = {frame["column_name"].iloc[0] for frame in (item.value for item in app.dataframe[:3])}
    assert "trace_id" in schema_tables
    result = app.dataframe[-1].value
    expected = run_user_sql(analytics, app.text_area(key="sql_text").value or "").rows()
    assert list(result["model"]) == [row["model"] for row in expected]
    hostile = "COPY calls TO '/tmp/stolen.csv'"
    app.text_area(key="sql_text").set_value(hostile)
    app.button[0].click().run()
    with pytest.raises(Exception) as refused:  # noqa: PT011 - the exact class is the sandbox's business
        run_user_sql(analytics, hostile)
    assert [item.value for item in app.error] == [str(refused.value)]
    assert app.query_params["q"] == hostile


def test_new_files_show_up_on_the_next_run(
    open_app: OpenApp, planted: tuple[Path, CallLog], tmp_path: Path
) -> None:
    root = tmp_path / "growing"
    shutil.copytree(planted[0], root)
    app = open_app(root)
    assert metrics(app)["Calls"] == "194"
    more = CallLog(planted[1].anchor)
    for i in range(5):
        more.call(2 + i)
    more.write(root, name="late-1")  # as the collector does: new files, never rewritten ones
    time.sleep(1.1)  # the file listing is re-read at most once a second
    app.run()
    assert_healthy(app)
    assert metrics(app)["Calls"] == "199"


def test_explorer_pages(open_app: OpenApp, data_root: Path) -> None:
    app = open_app(data_root, page="explorer")
    first = list(app.dataframe[0].value["span_id"])
    app.number_input(key="explorer_page").set_value(4).run()
    assert_healthy(app)
    assert "194 calls match; showing 151–194." in texts(app)
    last = list(app.dataframe[0].value["span_id"])
    assert len(last) == 44
    assert not set(first) & set(last)
