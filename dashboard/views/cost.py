"""Cost: spend by model, service, operation or tag; cached vs uncached input; the most expensive traces
and prompt prefixes; what the same calls would cost on another model or on the Batch API."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st
from callscope.dashboard import charts, data, formatting, page
from callscope.dashboard.state import FilterState
from callscope.dashboard.widgets import Column, explorer_link, table

#: Breakdown choices besides the tag keys: label -> analytics dimension.
DIMENSIONS = {"Model": "model", "Service": "service", "Operation": "operation", "API": "api"}
#: Models offered for "what if" when the dataset does not suggest others (cheap, common choices).
WHATIF_DEFAULTS = (
    "gpt-4o-mini",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "gpt-5-mini",
    "gpt-5-nano",
    "gpt-4o",
    "gpt-4.1",
)


def _breakdown(state: FilterState) -> None:
    st.subheader("Spend by …")
    tag_keys = [row["key"] for row in data.run("tag_keys", state).rows()]
    choices = {**DIMENSIONS, **{f"Tag: {key}": f"tag:{key}" for key in tag_keys}}
    label = st.segmented_control(
        "Group by", list(choices), default="Model", key="cost_by", label_visibility="collapsed"
    )
    dimension = choices.get(label or "Model", "model")
    frame = data.run("cost_by", state, by=dimension, limit=30).df()
    frame["key"] = frame["key"].fillna("(none)")
    name = label or "Model"
    chart = charts.bars(
        frame,
        category="key",
        value="cost_usd",
        title=f"Spend by {name.lower()} (USD)",
        x_title="Spend (USD)",
        y_title=name,
        x_format=charts.money_format(float(frame["cost_usd"].max() or 0)),
        tooltip_format=charts.MONEY_TIP,
        color="key",
        scale=charts.color_scale(frame["key"].tolist()),
        extra_tooltips=[
            alt.Tooltip("calls:Q", title="Calls", format=","),
            alt.Tooltip("cost_share:Q", title="Share of spend", format=".1%"),
        ],
    )
    st.altair_chart(chart, width="stretch")
    table(
        frame,
        [
            Column("key", name),
            Column("calls", "Calls", "count"),
            Column("cost_usd", "Spend", "usd"),
            Column("cost_share", "Share", "share"),
            Column("mean_cost_usd", "Per call", "usd_small", "Mean over the calls with a known price."),
            Column("input_tokens", "Input tokens", "tokens"),
            Column("cached_input_tokens", "Cached input", "tokens"),
            Column("output_tokens", "Output tokens", "tokens"),
            Column("error_rate", "Errors", "rate"),
            Column("unpriced_calls", "Unpriced calls", "count", "Calls whose model has no known price."),
        ],
    )


def _cache_usage(state: FilterState) -> None:
    st.subheader("Prompt cache: cached vs uncached input")
    frame = data.run("cache_usage", state, by="model", limit=20).df()
    frame = frame[frame["input_tokens"] > 0]
    if frame.empty:
        st.caption("No input tokens recorded in this window.")
        return
    frame["key"] = frame["key"].fillna("(unknown)")
    long = pd.concat(
        [
            frame.assign(part="Cached (discounted)", tokens=frame["cached_input_tokens"]),
            frame.assign(part="Uncached (full price)", tokens=frame["uncached_input_tokens"]),
        ]
    )[["key", "part", "tokens"]]
    chart = charts.stacked_bars(
        long,
        category="key",
        value="tokens",
        part="part",
        title="Input tokens by model: cached or billed in full",
        x_title="Input tokens",
        y_title="Model",
        part_title="Input",
        parts=("Cached (discounted)", "Uncached (full price)"),
        colors=("#54A24B", "#BAB0AC"),
        x_format="~s",
    )
    left, right = st.columns([1, 1])
    left.altair_chart(chart, width="stretch")
    with right:
        table(
            frame,
            [
                Column("key", "Model"),
                Column("cached_share", "Cached share", "share"),
                Column(
                    "cacheable_calls",
                    "Calls ≥ 1,024 tokens",
                    "count",
                    "OpenAI caches prompts of 1,024 tokens or more.",
                ),
                Column("cache_hit_calls", "Calls with a cache hit", "count"),
                Column("input_tokens", "Input tokens", "tokens"),
            ],
        )


def _top_spenders(state: FilterState) -> None:
    traces, prefixes = st.tabs(["Most expensive traces", "Most expensive prompt prefixes"])
    with traces:
        frame = data.run("top_traces", state, limit=15).df()
        st.caption("A trace is one user request or job with all the calls it made.")
        table(
            frame,
            [
                Column("trace_id", "Trace"),
                Column("root_name", "Handler", help="The request handler's span, when the app is traced."),
                Column("calls", "Calls", "count"),
                Column("cost_usd", "Spend", "usd"),
                Column("input_tokens", "Input tokens", "tokens"),
                Column("output_tokens", "Output tokens", "tokens"),
                Column("elapsed_ms", "Elapsed", "ms"),
                Column("models", "Models", "list"),
                Column("services", "Services", "list"),
                Column("first_start", "Started (UTC)", "time"),
            ],
        )
        if not frame.empty:
            explorer_link(
                "Open the most expensive trace in the explorer", state, trace=str(frame["trace_id"].iloc[0])
            )
    with prefixes:
        frame = data.run("top_prefixes", state, limit=15).df()
        st.caption(
            "A prefix is the stable start of a prompt (instructions and tool definitions), "
            "identified by a keyed hash. "
            "A long prefix that is rarely cached is money left on the table."
        )
        table(
            frame,
            [
                Column("prefix_hash", "Prefix"),
                Column("calls", "Calls", "count"),
                Column("cost_usd", "Spend", "usd"),
                Column("mean_prefix_chars", "Prefix length (chars)", "count"),
                Column("prefix_share_of_input", "Share of input", "share"),
                Column("cached_share", "Cached share", "share"),
                Column("models", "Models", "list"),
                Column("services", "Services", "list"),
            ],
        )
        if not frame.empty:
            explorer_link("Open the calls of the top prefix", state, prefix=str(frame["prefix_hash"].iloc[0]))


def _what_if(state: FilterState) -> None:
    st.subheader("What if …")
    st.caption(
        "The same calls re-priced at today's prices with the same token counts: a first estimate "
        "(another model may answer at a different length)."
    )
    model_tab, batch_tab = st.tabs(["… it ran on another model", "… it ran on the Batch API"])
    with model_tab:
        seen = [
            row["model_name"]
            for row in data.run("model_prices", state).rows()
            if row.get("input_mtok") is not None
        ]
        priced = {row["model"] for row in data.run("prices").rows()}
        offered = [model for model in WHATIF_DEFAULTS if model in priced] + sorted(
            set(seen) - set(WHATIF_DEFAULTS)
        )
        target = st.selectbox("Target model", offered or sorted(priced), key="whatif_target")
        if target:
            frame = data.run("whatif_model", state, target=target, by="model").df()
            current, on_target = frame["current_cost_usd"].sum(), frame["target_cost_usd"].sum()
            st.markdown(
                f"On **{target}** these calls would cost **{formatting.usd(on_target)}** instead of "
                f"**{formatting.usd(current)}** ({formatting.change(on_target, current) or 'no change'})."
            )
            table(
                frame,
                [
                    Column("key", "Model now"),
                    Column("calls", "Calls", "count"),
                    Column("current_cost_usd", "Cost now", "usd"),
                    Column("target_cost_usd", f"Cost on {target}", "usd"),
                    Column("saving_usd", "Saving", "usd"),
                    Column("unpriced_calls", "Not priced", "count", "Calls left out: a price is unknown."),
                ],
            )
    with batch_tab:
        frame = data.run("whatif_batch", state, by="service").df()
        st.markdown(
            f"Sent through the Batch API (results within 24 hours, half price), the non-streamed calls would "
            f"save **{formatting.usd(frame['non_streamed_saving_usd'].sum())}** in this window; "
            "streamed calls "
            "usually have someone waiting and are left out of that figure."
        )
        table(
            frame,
            [
                Column("key", "Service"),
                Column("calls", "Calls", "count"),
                Column("streamed_calls", "Streamed", "count"),
                Column("standard_cost_usd", "Standard price", "usd"),
                Column("batch_cost_usd", "Batch price", "usd"),
                Column("saving_usd", "Saving (all calls)", "usd"),
                Column("non_streamed_saving_usd", "Saving (non-streamed)", "usd"),
            ],
        )


def render() -> None:
    state = page.start("Cost", "Where the money goes, and what the same calls would cost another way.")
    if state is None:
        return
    st.caption(f"**{state.describe()}**")
    _breakdown(state)
    _cache_usage(state)
    _top_spenders(state)
    _what_if(state)


if __name__ == "__main__":
    render()
