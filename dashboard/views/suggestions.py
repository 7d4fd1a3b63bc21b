"""Suggestions: the ranked findings of the suggestion rules (the same as ``callscope report``), each
with its saving per 30 days, its evidence linked to the explorer, and its arithmetic."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st
from callscope.analytics.suggestions import Thresholds
from callscope.dashboard import charts, data, formatting, page
from callscope.dashboard.state import FilterState
from callscope.dashboard.widgets import explorer_link


def _value_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.6g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def _evidence_line(evidence: Mapping[str, Any]) -> str:
    parts = [
        f"**{formatting.count(evidence['calls'])} calls** "
        f"costing **{formatting.usd(evidence['cost_usd'])}** in this window"
    ]
    for noun, key in (("model", "models"), ("service", "services"), ("operation", "operations")):
        values = evidence.get(key) or []
        if values:
            parts.append(f"{noun}{'s' if len(values) > 1 else ''} {', '.join(f'`{v}`' for v in values)}")
    tags = evidence.get("tags") or {}
    if tags:
        parts.append("tags " + ", ".join(f"`{key}={'|'.join(values)}`" for key, values in tags.items()))
    return " · ".join(parts)


def _arithmetic(finding: Mapping[str, Any]) -> None:
    arithmetic = finding["arithmetic"]
    st.markdown(f"**How the saving is computed.** {arithmetic['formula']}")
    inputs = arithmetic.get("inputs") or {}
    if inputs:
        st.dataframe(
            pd.DataFrame({"input": list(inputs), "value": [_value_text(v) for v in inputs.values()]}),
            hide_index=True,
            column_config={"input": "Input", "value": "Value"},
        )
    prices = arithmetic.get("prices") or {}
    if prices:
        rows = [{"model": model, **rates} for model, rates in prices.items()]
        st.markdown(f"Prices used, USD per 1M tokens ({arithmetic['price_source']}):")
        st.dataframe(pd.DataFrame(rows), hide_index=True)
    details = finding["evidence"].get("details") or {}
    if details:
        st.markdown(
            "Details: "
            + " · ".join(f"{key.replace('_', ' ')} **{_value_text(v)}**" for key, v in details.items())
        )


#: Findings shown in full; the rest are folded, one line each.
CARDS = 5
#: Rule id -> the kind of change, in words.
KINDS = {
    "cache-repeated-requests": "Cache repeated requests",
    "prompt-caching": "Make prompts cache-friendly",
    "batch-api": "Batch offline traffic",
    "cap-output": "Cap output length",
    "right-size-model": "Right-size the model",
    "stream-interactive": "Stream interactive calls",
    "retry-pressure": "Back off and spread load",
    "trim-prompts": "Trim prompts",
    "batch-embeddings": "Batch embeddings",
}


def _saving_text(finding: Mapping[str, Any]) -> str:
    parts = []
    if finding["saving_usd_30d"]:
        parts.append(f"{formatting.usd(finding['saving_usd_30d'])} / 30 days")
    if finding["saving_ms_30d"]:
        parts.append(f"{formatting.duration(finding['saving_ms_30d'])} of waiting")
    return " · ".join(parts)


def _body(finding: Mapping[str, Any], state: FilterState, *, folded: bool) -> None:
    """What a finding says, its evidence with links to those calls, and (unless folded) its arithmetic."""
    evidence = finding["evidence"]
    st.markdown(finding["summary"])
    st.markdown("Evidence: " + _evidence_line(evidence))
    links = st.columns(3)
    samples = evidence.get("example_span_ids") or []
    if samples:
        with links[0]:
            explorer_link(
                f"See the {len(samples)} sample call{'s' if len(samples) > 1 else ''} in the explorer",
                state,
                calls=samples,
            )
    if evidence.get("prefix_hash"):
        with links[1]:
            explorer_link("All calls with this prompt prefix", state, prefix=evidence["prefix_hash"])
    if evidence.get("request_hash"):
        with links[2]:
            explorer_link("All calls of this identical request", state, request=evidence["request_hash"])
    if folded:  # expanders cannot nest: the arithmetic follows inline
        _arithmetic(finding)
    else:
        with st.expander("The arithmetic and the prices"):
            _arithmetic(finding)


def _card(rank: int, finding: Mapping[str, Any], state: FilterState) -> None:
    with st.container(border=True):
        text, usd, ms = st.columns([6, 1.3, 1.3])
        text.markdown(f"#### {rank}. {finding['title']}")
        usd.metric(
            "Saving / 30 days",
            formatting.usd(finding["saving_usd_30d"]) if finding["saving_usd_30d"] else "—",
        )
        ms.metric(
            "Time saved / 30 days",
            formatting.duration(finding["saving_ms_30d"]) if finding["saving_ms_30d"] else "—",
        )
        _body(finding, state, folded=False)


def _by_kind(findings: list[Mapping[str, Any]]) -> None:
    frame = pd.DataFrame(
        {
            "kind": [KINDS.get(finding["rule"], finding["rule"]) for finding in findings],
            "usd": [finding["saving_usd_30d"] or 0.0 for finding in findings],
            "minutes": [(finding["saving_ms_30d"] or 0.0) / 60_000 for finding in findings],
        }
    )
    frame = frame.groupby("kind", as_index=False).agg(
        usd=("usd", "sum"), minutes=("minutes", "sum"), found=("usd", "size")
    )
    frame = frame[frame["usd"] > 0]
    if frame.empty:
        return
    chart = charts.bars(
        frame,
        category="kind",
        value="usd",
        title="Possible saving per 30 days, by kind of change",
        x_title="USD per 30 days",
        x_format=charts.money_format(float(frame["usd"].max())),
        tooltip_format="$,.2f",
        extra_tooltips=[
            alt.Tooltip("found:Q", title="Suggestions"),
            alt.Tooltip("minutes:Q", title="Waiting saved (min / 30 days)", format=",.1f"),
        ],
    )
    st.altair_chart(chart, width="stretch")


def _extrapolation_text(observed_days: float) -> str:
    """How the 30-day figures were scaled, in words: a short window is counted as the rules' minimum."""
    observed = formatting.duration(observed_days * 86_400_000)
    text = f"Savings per 30 days are extrapolated from {observed} of calls"
    shortest = Thresholds().min_extrapolation_days
    if observed_days < shortest:
        unit = "day" if shortest == 1 else "days"
        text += f" (counted as {shortest:g} {unit}, the shortest period callscope extrapolates from)"
    return text + "."


def render() -> None:
    state = page.start(
        "Suggestions",
        "What to change to make the calls cheaper and faster, ranked by what it saves. "
        "Each shows its evidence and its arithmetic; savings are extrapolated from the window to 30 days.",
    )
    if state is None:
        return
    st.caption(f"**{state.describe()}**")
    with st.spinner("Running the suggestion rules…"):
        report = data.report(state)
    findings = report.get("suggestions") or []
    savings = report.get("savings") or {}
    observed = (report.get("window") or {}).get("observed_days")
    if not findings:
        st.success(
            "No suggestions for these calls: none of the rules found a pattern worth changing.",
            icon=":material/thumb_up:",
        )
        return
    total_usd, total_ms, count = st.columns(3)
    total_usd.metric("Possible saving / 30 days", formatting.usd(savings.get("usd_30d")), border=True)
    total_ms.metric("Waiting saved / 30 days", formatting.duration(savings.get("ms_30d")), border=True)
    count.metric("Suggestions", formatting.count(len(findings)), border=True)
    if observed:
        st.caption(
            f"{_extrapolation_text(observed)} Prices: {(report.get('prices') or {}).get('source', '')}."
        )
    _by_kind(findings)
    for rank, finding in enumerate(findings[:CARDS], start=1):
        _card(rank, finding, state)
    if len(findings) > CARDS:
        st.markdown(f"**The other {len(findings) - CARDS}**, with smaller savings:")
    for rank, finding in enumerate(findings[CARDS:], start=CARDS + 1):
        with st.expander(f"{rank}. {finding['title']} — {_saving_text(finding)}"):
            _body(finding, state, folded=True)


if __name__ == "__main__":
    render()
