"""Overview: spend, calls, tokens, errors and latency of the window against the previous one, spend and
calls over time by model, and where the money goes."""

from __future__ import annotations

from typing import Any

import altair as alt
import streamlit as st
from callscope.dashboard import charts, data, formatting, page
from callscope.dashboard.state import FilterState
from callscope.dashboard.widgets import Column, metric, table


def _headline(row: dict[str, Any], state: FilterState) -> None:
    versus = page.comparison(state)

    def prev(key: str) -> Any:
        return row.get(f"prev_{key}") if versus else None

    tokens = (row["input_tokens"] or 0) + (row["output_tokens"] or 0)
    prev_tokens = None
    if prev("calls") is not None:
        prev_tokens = (prev("input_tokens") or 0) + (prev("output_tokens") or 0)
    spend, calls, token_card, errors, p95 = st.columns(5)
    with spend:
        unpriced = row["unpriced_calls"]
        metric(
            "Spend",
            formatting.usd(row["cost_usd"]),
            delta=formatting.change(row["cost_usd"], prev("cost_usd")),
            up_is="bad",
            help=f"Recorded cost in USD. {formatting.count(unpriced)} calls have no price (unknown model or "
            "failed call) and count as $0."
            if unpriced
            else "Recorded cost in USD.",
        )
    with calls:
        metric(
            "Calls",
            formatting.count(row["calls"]),
            delta=formatting.change(row["calls"], prev("calls")),
            help=f"{formatting.count(row['streamed_calls'])} streamed; "
            f"{formatting.count(row['attempts'])} HTTP attempts.",
        )
    with token_card:
        metric(
            "Tokens",
            formatting.tokens(tokens),
            delta=formatting.change(tokens, prev_tokens),
            help=f"Input {formatting.tokens(row['input_tokens'])} (of which cached "
            f"{formatting.tokens(row['cached_input_tokens'])}) "
            f"+ output {formatting.tokens(row['output_tokens'])}.",
        )
    with errors:
        metric(
            "Error rate",
            formatting.percent(row["error_rate"]),
            delta=formatting.point_change(row["error_rate"], prev("error_rate")),
            up_is="bad",
            help=f"{formatting.count(row['error_calls'])} calls failed after the SDK's retries.",
        )
    with p95:
        metric(
            "p95 latency",
            formatting.duration(row["p95_ms"]),
            delta=formatting.change(row["p95_ms"], prev("p95_ms")),
            up_is="bad",
            help="95 % of calls took less, retries and backoff included. "
            f"p50 {formatting.duration(row['p50_ms'])}, "
            f"p99 {formatting.duration(row['p99_ms'])}.",
        )


def _secondary(row: dict[str, Any]) -> None:
    mean, cached, retried, backoff = st.columns(4)
    cached_share = row["cached_input_tokens"] / row["input_tokens"] if row["input_tokens"] else None
    mean.metric(
        "Mean cost per call", formatting.usd(row["mean_cost_usd"]), help="Over the calls with a known price."
    )
    cached.metric(
        "Input served from the prompt cache",
        formatting.percent(cached_share),
        help="Cached input tokens are billed at a discount (usually 50–90 %).",
    )
    retried.metric(
        "Calls retried",
        formatting.percent(row["retry_rate"]),
        help=f"{formatting.count(row['retried_calls'])} calls needed more than one HTTP attempt; "
        f"{formatting.count(row['rate_limited_calls'])} met a 429.",
    )
    backoff.metric(
        "Time lost to backoff",
        formatting.duration(row["retry_wait_ms"]),
        help="Waiting between retries, summed.",
    )


def _over_time(state: FilterState) -> None:
    result = data.run("spend_over_time", state, by="model")
    frame = result.df().fillna({"key": "(unknown)"})
    bucket = result.params.get("bucket")
    domain = page.time_domain(result, state)
    scale = charts.color_scale(
        frame.groupby("key")["cost_usd"].sum().sort_values(ascending=False).index.tolist()
    )
    spend_chart = charts.over_time(
        frame,
        value="cost_usd",
        title=f"Spend {charts.per_bucket(bucket)} by model",
        y_title="Spend (USD)",
        bucket=bucket,
        color="key",
        color_title="Model",
        scale=scale,
        y_format=charts.money_format(float(frame.groupby("bucket_start")["cost_usd"].sum().max() or 0)),
        tooltip_format=charts.MONEY_TIP,
        extra_tooltips=[alt.Tooltip("calls:Q", title="Calls", format=",")],
        domain=domain,
    )
    calls_chart = charts.over_time(
        frame,
        value="calls",
        title=f"Calls {charts.per_bucket(bucket)} by model",
        y_title="Calls",
        bucket=bucket,
        color="key",
        color_title="Model",
        scale=scale,
        extra_tooltips=[alt.Tooltip("error_calls:Q", title="Failed", format=",")],
        domain=domain,
        legend=False,  # the same colours as the spend chart's, just above
    )
    st.altair_chart(spend_chart, width="stretch")
    st.altair_chart(calls_chart.properties(height=240), width="stretch")


def render() -> None:
    state = page.start(
        "Overview", "Where the money and the milliseconds go, for the calls the filters select."
    )
    if state is None:
        return
    st.caption(
        f"**{state.describe()}**" + (f" · changes {page.comparison(state)}" if page.comparison(state) else "")
    )
    row = data.run("overview", state).first() or {}
    _headline(row, state)
    _secondary(row)
    _over_time(state)
    st.subheader("Where the money goes")
    drivers = data.run("cost_drivers", state, limit=8).df()
    table(
        drivers,
        [
            Column("service_name", "Service"),
            Column("operation", "Operation"),
            Column("model", "Model"),
            Column("calls", "Calls", "count"),
            Column("cost_usd", "Spend", "usd"),
            Column("cost_share", "Share of spend", "share"),
            Column("mean_cost_usd", "Per call", "usd_small"),
            Column("input_tokens", "Input tokens", "tokens"),
            Column("output_tokens", "Output tokens", "tokens"),
        ],
    )
    st.page_link("views/cost.py", label="Break the spend down further", icon=":material/payments:")
    st.page_link(
        "views/suggestions.py", label="See what to change, with the savings", icon=":material/lightbulb:"
    )


if __name__ == "__main__":
    render()
