"""The frame around every page: page config, navigation, the global filters in the sidebar.

The filter widgets are keyed by their URL parameter names and bound to the URL
(``bind="query-params"``), so they persist across pages and a view is shared by its URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import streamlit as st
from callscope.analytics import AnalyticsError
from callscope.dashboard import data, formatting
from callscope.dashboard.page import FILTERS_KEY
from callscope.dashboard.state import (
    DEFAULT_RANGE,
    PARAM_DATES,
    PARAM_MODEL,
    PARAM_RANGE,
    PARAM_SERVICE,
    PARAM_TAG,
    RANGE_CODES,
    RANGES,
    FilterState,
)

from callscope.errors import CallscopeError

__all__ = ["PAGES", "PageSpec", "main"]

HERE: Final = Path(__file__).resolve().parent
#: Seconds between checks for newly written files (live refresh).
WATCH_INTERVAL_S: Final = 10


@dataclass(frozen=True)
class PageSpec:
    """One page: its script under ``views/``, title, icon and URL path."""

    script: str
    title: str
    icon: str
    url_path: str


PAGES: Final = (
    PageSpec("views/overview.py", "Overview", ":material/space_dashboard:", "overview"),
    PageSpec("views/cost.py", "Cost", ":material/payments:", "cost"),
    PageSpec("views/latency.py", "Latency", ":material/timer:", "latency"),
    PageSpec("views/errors.py", "Errors & retries", ":material/error:", "errors"),
    PageSpec("views/suggestions.py", "Suggestions", ":material/lightbulb:", "suggestions"),
    PageSpec("views/explorer.py", "Explorer", ":material/manage_search:", "explorer"),
    PageSpec("views/sql.py", "SQL", ":material/terminal:", "sql"),
)


def main() -> None:
    """Run one script pass of the app (the body of ``app.py``).

    The page is drawn before the sidebar: the filters it needs are already known (the widgets'
    values from the last run, or the URL on the first), and the sidebar's option lists (a scan
    of the whole dataset) are computed on a worker thread meanwhile. If the widgets then hold
    other values (a URL value that is not an option), the script runs once more with theirs.
    """
    st.set_page_config(page_title="callscope", page_icon=":material/query_stats:", layout="wide")
    pages = [
        st.Page(
            HERE / spec.script, title=spec.title, icon=spec.icon, url_path=spec.url_path, default=index == 0
        )
        for index, spec in enumerate(PAGES)
    ]
    navigation = st.navigation(pages, position="top")
    try:
        has_calls = data.analytics().has_calls
        options = data.in_background(_options) if has_calls else None
        state = FilterState.from_widgets(_requested())
        st.session_state[FILTERS_KEY] = state
        try:
            navigation.run()
        except CallscopeError as err:  # e.g. a query the dataset's files cannot answer: said, not raised
            st.error(str(err), icon=":material/error:")
        with st.sidebar:
            shown = _sidebar(has_calls, options.result() if options else _Options())
    except CallscopeError as err:
        # A dataset that cannot be read at all: a message, never a traceback.
        st.error(str(err), icon=":material/error:")
        return
    if shown != state and not st.session_state.get(_RECONCILING):
        st.session_state[_RECONCILING] = True
        st.rerun()
    st.session_state[_RECONCILING] = False


#: Set while the script reruns to take the widgets' values (never twice in a row).
_RECONCILING: Final = "_callscope_reconciling"


def _requested() -> dict[str, Any]:
    """The filter values asked for: the widgets' from the last run, else the URL's."""
    values: dict[str, Any] = {}
    for name in _PARAMS:
        if name in st.session_state:
            values[name] = st.session_state[name]
        elif name == PARAM_RANGE:
            values[name] = st.query_params.get(name)
        elif name == PARAM_DATES:
            values[name] = [_date(text) for text in st.query_params.get_all(name)]
        else:
            values[name] = st.query_params.get_all(name)
    return values


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class _Options:
    """What the filter widgets offer, and the dataset's extent (for the caption and default dates)."""

    values: dict[str, list[str]] = field(default_factory=lambda: {"service": [], "model": [], "tag": []})
    extent: dict[str, Any] = field(default_factory=dict)


def _options() -> _Options:
    values: dict[str, list[str]] = {"service": [], "model": [], "tag": []}
    for row in data.run("filter_options").rows():
        values[row["field"]].append(row["value"])
    return _Options(values, data.run("dataset_extent").first() or {})


def _sidebar(has_calls: bool, available: _Options) -> FilterState:
    """The filter widgets; the filters they hold."""
    st.markdown("#### Filters")
    options, extent = available.values, available.extent
    label = st.selectbox(
        "Time range",
        list(RANGE_CODES),  # labels: a bound widget puts the label in the URL
        index=list(RANGES).index(DEFAULT_RANGE),
        key=PARAM_RANGE,
        bind="query-params",
        help="Relative ranges end now; every figure is compared with the period of equal length before.",
    )
    if RANGE_CODES.get(label or "") == "custom":
        last = _day(extent.get("last_call")) or datetime.now(UTC).date()
        st.date_input(
            "Days (UTC)",
            value=(last - timedelta(days=6), last),
            key=PARAM_DATES,
            bind="query-params",
            format="YYYY-MM-DD",
        )
    st.multiselect(
        "Services", options["service"], key=PARAM_SERVICE, bind="query-params", placeholder="All services"
    )
    st.multiselect(
        "Models",
        options["model"],
        key=PARAM_MODEL,
        bind="query-params",
        placeholder="All models",
        help="A call matches by the model it asked for or the one that answered.",
    )
    st.multiselect(
        "Tags",
        options["tag"],
        key=PARAM_TAG,
        bind="query-params",
        placeholder="Any tags",
        help="Set in your app with `with callscope.tags(feature=...)`. Values of one key: any of them; "
        "different keys: all of them.",
    )
    state = FilterState.from_widgets({name: st.session_state.get(name) for name in _PARAMS})
    if state != FilterState():
        st.button("Clear filters", icon=":material/filter_alt_off:", on_click=_clear, width="stretch")
    st.divider()
    _dataset_caption(has_calls, extent)
    if has_calls:
        _watch(data.dataset_signature())
    return state


_PARAMS: Final = (PARAM_RANGE, PARAM_DATES, PARAM_SERVICE, PARAM_MODEL, PARAM_TAG)


def _clear() -> None:
    st.session_state[PARAM_RANGE] = RANGES[DEFAULT_RANGE]
    for name in (PARAM_SERVICE, PARAM_MODEL, PARAM_TAG):
        st.session_state[name] = []


def _day(value: Any) -> date | None:
    return value.astimezone(UTC).date() if isinstance(value, datetime) else None


def _dataset_caption(has_calls: bool, extent: dict[str, Any]) -> None:
    where = data.location()
    if not has_calls:
        st.caption(f"Dataset `{where}`: no calls yet.")
        return
    try:
        files = len(data.analytics().files("calls"))
    except AnalyticsError:
        files = 0
    st.caption(
        f"Dataset `{where}`: {formatting.count(extent.get('calls'))} calls in {files:,} files, "
        f"from {formatting.moment(extent.get('first_call'))} "
        f"to {formatting.moment(extent.get('last_call'))}. "
        "Times are UTC."
    )


@st.fragment(run_every=WATCH_INTERVAL_S)
def _watch(signature: str) -> None:
    """Rerun the page when the collector has written new files since it was drawn."""
    if data.dataset_signature() != signature:
        st.rerun(scope="app")
