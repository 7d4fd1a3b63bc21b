"""The start of every page: its title, the filters in force, and the empty-dataset / empty-window cases."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Final

import streamlit as st
from callscope.dashboard import charts, data, formatting
from callscope.dashboard.state import RANGES, FilterState
from callscope.dashboard.widgets import no_calls_guide

__all__ = ["FILTERS_KEY", "comparison", "current_filters", "start", "time_domain"]

if TYPE_CHECKING:
    from callscope.analytics import QueryResult

#: Where the shell leaves this run's filters for the page.
FILTERS_KEY: Final = "_callscope_filters"


def current_filters() -> FilterState:
    """The filters the sidebar set for this run."""
    state = st.session_state.get(FILTERS_KEY)
    return state if isinstance(state, FilterState) else FilterState()


def comparison(state: FilterState) -> str | None:
    """What the deltas compare with, e.g. ``vs the 7 days before``; ``None`` for an open window."""
    if state.range == "all":
        return None
    if state.range == "custom" and state.dates is not None:
        days = (state.dates[1] - state.dates[0] + timedelta(days=1)).days
        return f"vs the {days} day{'s' if days > 1 else ''} before"
    label = RANGES.get(state.range, "")
    return f"vs the {label.removeprefix('Last ')} before" if label else None


def start(title: str, blurb: str, *, needs_calls_in_window: bool = True) -> FilterState | None:
    """Show the page header; return the filters, or ``None`` (after saying why) when there is
    nothing to show: no calls at all, or none matching the filters."""
    st.title(title)
    st.caption(blurb)
    if not data.analytics().has_calls:
        no_calls_guide(data.location())
        return None
    state = current_filters()
    if needs_calls_in_window:
        extent = data.run("dataset_extent", state).first() or {}
        if not extent.get("calls"):
            _no_calls_in_window(state)
            return None
    return state


def time_domain(result: QueryResult, state: FilterState) -> list[str] | None:
    """The time axis of an over-time chart of ``result``: the whole window, or, when its buckets
    would be too thin for that, from the first to the last call the filters select (the same on
    every chart of the page)."""
    extent = data.run("dataset_extent", state).first() or {}
    return charts.window_domain(
        result.filters,
        bucket=result.params.get("bucket"),
        extent=(extent.get("first_call"), extent.get("last_call")),
    )


def _no_calls_in_window(state: FilterState) -> None:
    everything = data.run("dataset_extent").first() or {}
    st.warning(
        f"No calls match **{state.describe()}**. "
        f"The dataset has {formatting.count(everything.get('calls'))} calls "
        f"from {formatting.moment(everything.get('first_call'))} "
        f"to {formatting.moment(everything.get('last_call'))}: "
        "choose a longer time range (All time shows everything) or remove a filter.",
        icon=":material/filter_alt_off:",
    )
