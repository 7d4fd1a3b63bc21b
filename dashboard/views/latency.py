"""Latency: p50/p95/p99 over time by model, time to first chunk for streams, server time against
network and queueing, and latency against output tokens (slow because long, or slow because waiting)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st
from callscope.dashboard import charts, data, formatting, page
from callscope.dashboard.state import FilterState
from callscope.dashboard.widgets import Column, metric, table

PERCENTILES = {"p50": "p50_ms", "p95": "p95_ms", "p99": "p99_ms"}
#: Parts of a call's time, in stacking order, with their colours.
PARTS = (
    ("Server processing", "mean_server_ms", "#4C78A8"),
    ("Network + queueing", "mean_network_ms", "#F58518"),
    ("Waiting between retries", "mean_retry_wait_ms", "#E45756"),
    ("Everything else", "mean_other_ms", "#BAB0AC"),
)


def _seconds(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    return frame.assign(**{column: frame[column] / 1000 for column in columns})


def _headline(state: FilterState) -> None:
    row = data.run("overview", state).first() or {}
    versus = page.comparison(state)
    cards = st.columns(4)
    for card, (label, key) in zip(
        cards,
        (
            ("p50", "p50_ms"),
            ("p95", "p95_ms"),
            ("p99", "p99_ms"),
            ("Time to first chunk, p50", "ttft_p50_ms"),
        ),
        strict=True,
    ):
        with card:
            metric(
                label if label.startswith("Time") else f"{label} latency",
                formatting.duration(row.get(key)),
                delta=formatting.change(row.get(key), row.get(f"prev_{key}")) if versus else None,
                up_is="bad",
                help="Streamed calls only: how long the user waited for the first token."
                if key.startswith("ttft")
                else "The whole call as the app waited for it, retries and backoff included.",
            )


def _over_time(state: FilterState, models: list[str]) -> None:
    choice = st.segmented_control("Percentile", list(PERCENTILES), default="p95", key="latency_percentile")
    column = PERCENTILES[choice or "p95"]
    result = data.run("latency_over_time", state, by="model")
    frame = _seconds(result.df().fillna({"key": "(unknown)"}), "p50_ms", "p95_ms", "p99_ms")
    bucket = result.params.get("bucket")
    chart = charts.over_time(
        frame,
        value=column,
        title=f"{choice or 'p95'} latency {charts.per_bucket(bucket)} by model",
        y_title=f"{choice or 'p95'} latency (s)",
        bucket=bucket,
        color="key",
        color_title="Model",
        scale=charts.color_scale(models),
        kind="line",
        y_format=",.1f",
        tooltip_format=",.2f",
        extra_tooltips=[alt.Tooltip("calls:Q", title="Calls", format=",")],
        domain=page.time_domain(result, state),
    )
    st.altair_chart(chart, width="stretch")


def _streams_and_parts(state: FilterState, by_model: pd.DataFrame) -> None:
    left, right = st.columns(2)
    with left:
        streams = by_model[by_model["streamed_calls"] > 0]
        if streams.empty:
            st.markdown("**Time to first chunk**")
            st.caption("No streamed calls in this window.")
        else:
            long = pd.concat(
                [streams.assign(stat="p50", seconds=streams["ttft_p50_ms"] / 1000),
                 streams.assign(stat="p95", seconds=streams["ttft_p95_ms"] / 1000)]
            )  # fmt: skip
            chart = (
                alt.Chart(long, title="Time to first chunk of streamed calls, by model")
                .mark_bar()
                .encode(
                    y=alt.Y("key:N", title=None, axis=alt.Axis(labelLimit=240)),
                    yOffset=alt.YOffset("stat:N", sort=["p50", "p95"]),
                    x=alt.X("seconds:Q", title="Time to first chunk (s)", axis=alt.Axis(format=",.2f")),
                    color=alt.Color(
                        "stat:N",
                        title="Percentile",
                        scale=alt.Scale(range=["#72B7B2", "#4C78A8"]),
                        legend=alt.Legend(orient="bottom"),
                    ),
                    tooltip=[
                        alt.Tooltip("key:N", title="Model"),
                        alt.Tooltip("stat:N", title="Percentile"),
                        alt.Tooltip("seconds:Q", title="Seconds", format=",.3f"),
                        alt.Tooltip("streamed_calls:Q", title="Streamed calls", format=","),
                    ],
                )
                .properties(height=alt.Step(36))
            )
            st.altair_chart(chart, width="stretch")
    with right:
        parts = data.run("latency_breakdown", state, by="model").df()
        parts["key"] = parts["key"].fillna("(unknown)")
        long = pd.concat(
            [parts.assign(part=label, seconds=parts[column] / 1000) for label, column, _ in PARTS]
        )
        chart = charts.stacked_bars(
            long,
            category="key",
            value="seconds",
            part="part",
            title="Where a call's time goes, on average, by model",
            x_title="Mean time per call (s)",
            y_title="Model",
            part_title="",
            parts=[label for label, _, _ in PARTS],
            colors=[color for _, _, color in PARTS],
            x_format=",.2f",
        )
        st.altair_chart(chart, width="stretch")
        st.caption(
            "Server processing is OpenAI's own `openai-processing-ms`; network + queueing is the rest of "
            "the final attempt (non-streamed calls); everything else is failed attempts, streaming the "
            "answer and the client. "
            "A large orange share points at the network or at queueing, not at the model."
        )
    st.markdown("**Percentiles by model**")
    table(
        by_model,
        [
            Column("key", "Model"),
            Column("calls", "Calls", "count"),
            Column("p50_ms", "p50", "ms"),
            Column("p95_ms", "p95", "ms"),
            Column("p99_ms", "p99", "ms"),
            Column("mean_ms", "Mean", "ms"),
            Column("streamed_calls", "Streamed", "count"),
            Column("ttft_p50_ms", "First chunk p50", "ms"),
            Column("ttft_p95_ms", "First chunk p95", "ms"),
            Column("server_p50_ms", "Server p50", "ms"),
            Column("network_p50_ms", "Network + queue p50", "ms"),
        ],
    )


def _scatter(state: FilterState, models: list[str]) -> None:
    frame = data.run("latency_vs_output_tokens", state, limit=2000).df()
    if frame.empty:
        return
    frame = frame.assign(seconds=frame["duration_ms"] / 1000, model=frame["model"].fillna("(unknown)"))
    chart = charts.scatter(
        frame,
        x="output_tokens",
        y="seconds",
        title=f"Latency against output tokens ({formatting.count(len(frame))} sampled calls)",
        x_title="Output tokens",
        y_title="Latency (s)",
        color="model",
        color_title="Model",
        scale=charts.color_scale(models + sorted(set(frame["model"]) - set(models))),
        y_format=",.1f",
        tooltips=[
            alt.Tooltip("model:N", title="Model"),
            alt.Tooltip("output_tokens:Q", title="Output tokens", format=","),
            alt.Tooltip("seconds:Q", title="Latency (s)", format=",.2f"),
            alt.Tooltip("status:N", title="Status"),
            alt.Tooltip("span_id:N", title="Span"),
        ],
    )
    st.altair_chart(chart, width="stretch")
    st.caption(
        "Points along a rising line are slow because they are long: generating tokens takes time, "
        "and a cap on output "
        "length or a faster model helps. Points high up at few output tokens are slow because they waited "
        "(queueing, retries, long prompts): look at the errors and retries page."
    )


def render() -> None:
    state = page.start("Latency", "How long calls take, where that time goes, and why.")
    if state is None:
        return
    st.caption(f"**{state.describe()}**")
    _headline(state)
    by_model = data.run("latency_percentiles", state, by="model").df()
    by_model["key"] = by_model["key"].fillna("(unknown)")
    _over_time(state, by_model["key"].tolist())
    _streams_and_parts(state, by_model)
    _scatter(state, by_model["key"].tolist())


if __name__ == "__main__":
    render()
