"""Errors & retries: failures by type and HTTP status over time, attempts per call, time lost to
backoff, and the rate-limit headroom the API reported before each 429."""

from __future__ import annotations

import altair as alt
import streamlit as st
from callscope.dashboard import charts, data, formatting, page
from callscope.dashboard.state import FilterState
from callscope.dashboard.widgets import Column, explorer_link, metric, table

SPLITS = {"Error type": "error_type", "HTTP status": "http_status", "Model": "model", "Service": "service"}


def _headline(state: FilterState) -> None:
    row = data.run("overview", state).first() or {}
    versus = page.comparison(state)

    def prev(key: str) -> object:
        return row.get(f"prev_{key}") if versus else None

    failed, rate, retried, limited, backoff = st.columns(5)
    with failed:
        metric(
            "Failed calls",
            formatting.count(row.get("error_calls")),
            delta=formatting.change(row.get("error_calls"), prev("error_calls")),
            up_is="bad",
            help="Calls that raised an error after the SDK's own retries.",
        )
    with rate:
        metric(
            "Error rate",
            formatting.percent(row.get("error_rate")),
            delta=formatting.point_change(row.get("error_rate"), prev("error_rate")),
            up_is="bad",
        )
    with retried:
        metric(
            "Calls retried",
            formatting.count(row.get("retried_calls")),
            delta=formatting.change(row.get("retried_calls"), prev("retried_calls")),
            up_is="bad",
            help=f"{formatting.percent(row.get('retry_rate'))} of calls needed more than one HTTP attempt.",
        )
    with limited:
        metric(
            "Calls rate limited",
            formatting.count(row.get("rate_limited_calls")),
            delta=formatting.change(row.get("rate_limited_calls"), prev("rate_limited_calls")),
            up_is="bad",
            help="Calls that met a 429 on any attempt, whether or not a retry then succeeded.",
        )
    with backoff:
        metric(
            "Time lost to backoff",
            formatting.duration(row.get("retry_wait_ms")),
            delta=formatting.change(row.get("retry_wait_ms"), prev("retry_wait_ms")),
            up_is="bad",
            help="The SDK's waiting between attempts, summed over all calls.",
        )


def _over_time(state: FilterState) -> None:
    label = st.segmented_control("Split errors by", list(SPLITS), default="Error type", key="errors_by")
    result = data.run("errors_over_time", state, by=SPLITS[label or "Error type"])
    frame = result.df()
    if frame.empty:
        st.success("No failed calls in this window.", icon=":material/check_circle:")
        return
    frame["key"] = frame["key"].fillna("(none)")
    bucket = result.params.get("bucket")
    chart = charts.over_time(
        frame,
        value="error_calls",
        title=f"Failed calls {charts.per_bucket(bucket)} by {(label or 'Error type').lower()}",
        y_title="Failed calls",
        bucket=bucket,
        color="key",
        color_title=label or "Error type",
        scale=charts.color_scale(
            frame.groupby("key")["error_calls"].sum().sort_values(ascending=False).index.tolist()
        ),
        extra_tooltips=[
            alt.Tooltip("bucket_calls:Q", title="All calls in the period", format=","),
            alt.Tooltip("error_rate:Q", title="Error rate", format=".2%"),
        ],
        domain=page.time_domain(result, state),
    )
    st.altair_chart(chart, width="stretch")


def _error_table(state: FilterState) -> None:
    frame = data.run("errors_by_type", state, limit=20).df()
    if frame.empty:
        return
    st.markdown("**Failures by type**")
    table(
        frame,
        [
            Column("error_type", "Error"),
            Column("error_code", "Code"),
            Column("http_status", "HTTP status"),
            Column("calls", "Calls", "count"),
            Column("share_of_calls", "Share of all calls", "rate"),
            Column("retried_calls", "Retried first", "count"),
            Column("time_spent_ms", "Time spent", "ms"),
            Column("models", "Models", "list"),
            Column("last_seen", "Last seen (UTC)", "time"),
            Column("example_trace_id", "Example trace"),
        ],
    )
    top = frame.iloc[0]
    explorer_link(
        f"Open an example {top['error_type'] or 'failed'} call in the explorer",
        state,
        trace=str(top["example_trace_id"]),
    )


def _attempts(state: FilterState) -> None:
    left, right = st.columns(2)
    with left:
        frame = data.run("attempts_distribution", state).df()
        chart = charts.bars(
            frame.assign(attempts=frame["attempts"].map(lambda n: f"{n} attempt{'s' if n != 1 else ''}")),
            category="attempts",
            value="calls",
            title="HTTP attempts per call",
            x_title="Calls",
            y_title="Attempts",
            extra_tooltips=[
                alt.Tooltip("share_of_calls:Q", title="Share of calls", format=".2%"),
                alt.Tooltip("error_calls:Q", title="Failed in the end", format=","),
            ],
        )
        st.altair_chart(chart, width="stretch")
    with right:
        frame = data.run("attempts_by_status", state).df()
        chart = charts.bars(
            frame,
            category="attempt_status",
            value="attempts",
            title="Every HTTP attempt by outcome, retried ones included",
            x_title="Attempts",
            y_title="Outcome",
            extra_tooltips=[
                alt.Tooltip("calls:Q", title="Calls", format=","),
                alt.Tooltip("time_spent_ms:Q", title="Time spent (ms)", format=",.0f"),
            ],
        )
        st.altair_chart(chart, width="stretch")
    st.markdown("**Retries by model**")
    table(
        data.run("retry_summary", state, by="model").df(),
        [
            Column("key", "Model"),
            Column("calls", "Calls", "count"),
            Column("retried_calls", "Retried", "count"),
            Column("retry_rate", "Retry rate", "rate"),
            Column("extra_attempts", "Extra attempts", "count"),
            Column("gave_up_calls", "Failed after retrying", "count"),
            Column("retry_wait_ms", "Backoff waited", "ms"),
            Column("failed_attempt_ms", "Spent in failed attempts", "ms"),
            Column("rate_limited_attempts", "429 attempts", "count"),
            Column("timed_out_attempts", "Timed-out attempts", "count"),
        ],
    )


def _headroom(state: FilterState) -> None:
    st.subheader("Rate limits")
    before = data.run("ratelimit_before_429", state, by="model").df()
    over_time = data.run("ratelimit_headroom", state, by="model")
    frame = over_time.df().dropna(subset=["min_request_headroom", "min_token_headroom"], how="all")
    if not frame.empty:
        frame["key"] = frame["key"].fillna("(unknown)")
        long = frame.melt(
            id_vars=["bucket_start", "key", "rate_limited_calls"],
            value_vars=["min_request_headroom", "min_token_headroom"],
            var_name="limit",
            value_name="headroom",
        ).dropna(subset=["headroom"])
        long["limit"] = long["limit"].map(
            {"min_request_headroom": "requests", "min_token_headroom": "tokens"}
        )
        bucket = over_time.params.get("bucket")
        chart = (
            alt.Chart(
                charts.utc_naive(long, "bucket_start"),
                title=f"Lowest rate-limit headroom {charts.per_bucket(bucket)}",
            )
            .mark_line(point=len(long) <= 80)
            .encode(
                x=alt.X(
                    "bucket_start:T",
                    title=f"Time (UTC, {charts.per_bucket(bucket)})",
                    axis=charts.time_axis(bucket),
                    scale=alt.Scale(domain=domain)
                    if (domain := page.time_domain(over_time, state))
                    else alt.Undefined,
                ),
                y=alt.Y(
                    "headroom:Q",
                    title="Remaining share of the limit",
                    axis=alt.Axis(format=".0%"),
                    scale=alt.Scale(domain=[0, 1]),
                ),
                color=alt.Color("key:N", title="Model", legend=alt.Legend(orient="right", labelLimit=240)),
                strokeDash=alt.StrokeDash("limit:N", title="Limit on"),
                tooltip=[
                    alt.Tooltip("bucket_start:T", title="Time (UTC)", format=charts.time_axis_format(bucket)),
                    alt.Tooltip("key:N", title="Model"),
                    alt.Tooltip("limit:N", title="Limit on"),
                    alt.Tooltip("headroom:Q", title="Lowest headroom", format=".1%"),
                    alt.Tooltip("rate_limited_calls:Q", title="Calls with a 429", format=","),
                ],
            )
            .properties(height=300)
        )
        st.altair_chart(chart, width="stretch")
    if before.empty:
        st.caption("No call met a 429 in this window.")
        return
    st.markdown("**Headroom reported just before each 429** (by the latest earlier call of the same model)")
    table(
        before.fillna({"key": "(unknown)"}),
        [
            Column("key", "Model"),
            Column("rate_limited_calls", "Calls with a 429", "count"),
            Column("with_earlier_report", "With an earlier report", "count"),
            Column("median_request_headroom_before", "Requests left (median)", "rate"),
            Column("min_request_headroom_before", "Requests left (lowest)", "rate"),
            Column("median_token_headroom_before", "Tokens left (median)", "rate"),
            Column("min_token_headroom_before", "Tokens left (lowest)", "rate"),
        ],
    )
    st.caption(
        "Low headroom before the 429s means the limit was visible coming: pace requests on "
        "`x-ratelimit-remaining-*`. High headroom means bursts (or another client on the same key) "
        "used it up."
    )


def render() -> None:
    state = page.start(
        "Errors & retries", "Why calls fail, what the retries cost, and how close you run to the limits."
    )
    if state is None:
        return
    st.caption(f"**{state.describe()}**")
    _headline(state)
    _over_time(state)
    _error_table(state)
    st.subheader("Attempts and retries")
    _attempts(state)
    _headroom(state)


if __name__ == "__main__":
    render()
