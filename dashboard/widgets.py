"""Pieces every page uses: the page header, headline metrics, formatted tables, links to the explorer
and the "no data yet" guide."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import streamlit as st

if TYPE_CHECKING:
    import pandas as pd
    from callscope.dashboard.state import FilterState

__all__ = [
    "EXPLORER_PAGE",
    "Column",
    "explorer_link",
    "explorer_params",
    "metric",
    "no_calls_guide",
    "table",
    "tags_text",
]

#: The explorer page file, relative to the app's entry point (what ``st.page_link`` takes).
EXPLORER_PAGE: Final = "views/explorer.py"
#: Explorer selection parameters in the URL.
PARAM_CALLS: Final = "calls"
PARAM_TRACE: Final = "trace"
PARAM_REQUEST: Final = "request"
PARAM_PREFIX: Final = "prefix"
PARAM_CALL: Final = "call"
SELECTION_PARAMS: Final = (PARAM_CALLS, PARAM_TRACE, PARAM_REQUEST, PARAM_PREFIX, PARAM_CALL)


def metric(
    label: str,
    value: str,
    *,
    delta: str | None = None,
    up_is: str = "neutral",
    help: str | None = None,
) -> None:
    """A headline figure in a card; ``delta`` is its change against the previous period, coloured
    by whether going up is ``good``, ``bad`` or ``neutral``."""
    colors: dict[str, Any] = {"good": "normal", "bad": "inverse", "neutral": "off"}
    st.metric(
        label,
        value,
        delta=delta,
        delta_color=colors[up_is],
        help=help,
        border=True,
    )


@dataclass(frozen=True)
class Column:
    """One column of a :func:`table`: the query's column, its header and how to show it.

    ``kind``: ``text``, ``count``, ``tokens``, ``usd`` (totals), ``usd_small`` (per call),
    ``ms`` (in seconds, minutes or hours, whichever reads best for the column), ``share`` (a bar
    from 0 to 100 %), ``rate`` (a percentage),
    ``time`` (UTC), ``list`` (values joined), ``tags`` (``key=value`` pairs), ``bool``.
    """

    source: str
    label: str
    kind: str = "text"
    help: str | None = None


def _money_format(values: pd.Series) -> str:
    """Cents for large sums; more decimals when the sums are small, so $0.0042 does not read $0.00."""
    largest = values.abs().max() if len(values) else 0
    if largest >= 100 or math.isnan(largest):  # NaN: nothing priced
        return "dollar"
    return "$%.2f" if largest >= 10 else "$%.4f"


#: Duration units for a column of milliseconds: (up to this largest value, divisor, format).
_DURATION_UNITS: Final = ((120_000.0, 1000.0, "%.2f s"), (7_200_000.0, 60_000.0, "%.1f min"))
_HOURS: Final = (3_600_000.0, "%.1f h")


def _duration_unit(values_ms: pd.Series) -> tuple[float, str]:
    """The divisor and format that show a column of milliseconds in seconds, minutes or hours."""
    largest = values_ms.abs().max() if len(values_ms) else 0.0
    for limit, divisor, pattern in _DURATION_UNITS:
        if not largest >= limit:  # also NaN: nothing measured
            return divisor, pattern
    return _HOURS


def _config(column: Column, values: pd.Series) -> Any:
    config = st.column_config
    if column.kind == "usd":
        return config.NumberColumn(column.label, format=_money_format(values), help=column.help)
    if column.kind == "ms":
        return config.NumberColumn(column.label, format=_duration_unit(values)[1], help=column.help)
    kinds: dict[str, Any] = {
        "count": config.NumberColumn(column.label, format="localized", help=column.help),
        "tokens": config.NumberColumn(column.label, format="compact", help=column.help),
        "usd_small": config.NumberColumn(column.label, format="$%.6f", help=column.help),
        "share": config.ProgressColumn(
            column.label, format="percent", min_value=0.0, max_value=1.0, help=column.help
        ),
        "rate": config.NumberColumn(column.label, format="percent", help=column.help),
        "time": config.DatetimeColumn(column.label, format="YYYY-MM-DD HH:mm:ss", help=column.help),
        "bool": config.CheckboxColumn(column.label, help=column.help),
    }
    return kinds.get(column.kind, config.TextColumn(column.label, help=column.help))


def tags_text(value: Any) -> str:
    """A ``tags`` map (a dict, or the list of pairs pandas makes of it) as ``key=value, ...``."""
    if value is None:
        return ""
    pairs = value.items() if isinstance(value, Mapping) else value
    try:
        return ", ".join(f"{key}={item}" for key, item in pairs)
    except (TypeError, ValueError):
        return str(value)


def _text(value: Any) -> str:
    """A cell as text: missing is blank, a whole number has no ``.0`` (pandas makes nullable ints floats)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _list_text(value: Any) -> str:
    if value is None:
        return ""
    try:
        return ", ".join(str(item) for item in value if item is not None)
    except TypeError:
        return str(value)


def _prepared(frame: pd.DataFrame, columns: Sequence[Column]) -> pd.DataFrame:
    present = [column for column in columns if column.source in frame.columns]
    data = frame[[column.source for column in present]].copy()
    for column in present:
        if column.kind == "ms":
            data[column.source] = data[column.source].astype("float64")
        elif column.kind == "tags":
            data[column.source] = data[column.source].map(tags_text)
        elif column.kind == "list":
            data[column.source] = data[column.source].map(_list_text)
        elif column.kind == "time" and getattr(data[column.source].dt, "tz", None) is not None:
            data[column.source] = data[column.source].dt.tz_convert("UTC").dt.tz_localize(None)
        elif column.kind == "text":
            data[column.source] = data[column.source].map(_text)
    return data


def table(
    frame: pd.DataFrame, columns: Sequence[Column], *, height: int | None = None, key: str | None = None
) -> None:
    """A read-only table of ``frame`` showing ``columns`` with their units."""
    data = _prepared(frame, columns)
    config: dict[str, Any] = {}
    for column in columns:
        if column.source in data.columns:
            config[column.source] = _config(column, data[column.source])
            if column.kind == "ms":
                data[column.source] = data[column.source] / _duration_unit(data[column.source])[0]
    st.dataframe(data, hide_index=True, column_config=config, height=height or "auto", key=key)


def explorer_params(
    state: FilterState, **selection: str | Sequence[str] | None
) -> dict[str, str | list[str]]:
    """URL parameters opening the explorer on ``state``'s filters and a selection of calls."""
    params = state.query_params()
    for name, value in selection.items():
        if value is None or value == "" or (not isinstance(value, str) and not value):
            continue
        params[name] = value if isinstance(value, str) else ",".join(value)
    return params


def explorer_link(
    label: str, state: FilterState, *, help: str | None = None, **selection: str | Sequence[str] | None
) -> None:
    """A link to the explorer showing the calls of ``selection`` (``calls=[span ids]``, ``trace=...``,
    ``request=...``, ``prefix=...``) under the current filters."""
    st.page_link(
        EXPLORER_PAGE,
        label=label,
        icon=":material/manage_search:",
        query_params=explorer_params(state, **selection),
        help=help,
    )


def no_calls_guide(where: str) -> None:
    """What to show when the dataset holds no calls: how to produce some."""
    st.info(f"No calls recorded yet in `{where}`.", icon=":material/inbox:")
    st.markdown(
        "callscope shows what your OpenAI calls cost, how long they take and why they fail, as soon as "
        "an instrumented app has made a few. Three ways to get there:"
    )
    first, second, third = st.columns(3)
    with first, st.container(border=True):
        st.markdown("**Instrument your app** (one line, before the OpenAI client is created)")
        st.code("import callscope\ncallscope.instrument()", language="python")
    with second, st.container(border=True):
        st.markdown("**Or run it unchanged** under callscope")
        st.code("callscope run -- python app.py", language="bash")
    with third, st.container(border=True):
        st.markdown("**Or try the demo**: a local OpenAI simulator and a realistic workload")
        st.code("callscope demo", language="bash")
    st.caption(
        f"Calls land in `{where}` (Parquet, one folder per day); this page refreshes when they arrive. "
        "Looking at another dataset? Start the dashboard with `callscope dashboard --data DIR`."
    )
