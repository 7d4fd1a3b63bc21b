"""Explorer: the calls themselves, filterable and sortable, one call's full detail with its HTTP attempts,
and the filtered set as CSV or Parquet.

Opened from a suggestion or another page, the URL says which calls to show: ``calls=<span ids>``,
``trace=<trace id>``, ``request=<request hash>`` or ``prefix=<prefix hash>``, and ``call=<span id>``
for the detail below the table.
"""

from __future__ import annotations

import io
import json
from typing import Any, Final

import pandas as pd
import streamlit as st
from callscope.analytics.filters import STATUSES
from callscope.dashboard import data, formatting, page
from callscope.dashboard.state import FilterState
from callscope.dashboard.widgets import (
    PARAM_CALL,
    PARAM_CALLS,
    PARAM_PREFIX,
    PARAM_REQUEST,
    PARAM_TRACE,
    SELECTION_PARAMS,
    Column,
    table,
    tags_text,
)

ORDERS: Final = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "cost": "Most expensive first",
    "duration": "Slowest first",
    "tokens": "Most tokens first",
}
PAGE_SIZE: Final = 50
COLUMNS: Final = (
    Column("start_time", "Time (UTC)", "time"),
    Column("service_name", "Service"),
    Column("model", "Model"),
    Column("operation", "Operation"),
    Column("status", "Status"),
    Column("error_type", "Error"),
    Column("input_tokens", "Input tokens", "count"),
    Column("output_tokens", "Output tokens", "count"),
    Column("cached_input_tokens", "Cached", "count"),
    Column("cost_usd", "Cost", "usd_small"),
    Column("duration_ms", "Latency", "ms"),
    Column("ttft_ms", "First chunk", "ms"),
    Column("attempts", "Attempts", "count"),
    Column("stream", "Stream", "bool"),
    Column("tags", "Tags", "tags"),
    Column("span_id", "Span"),
    Column("trace_id", "Trace"),
)


def _selection() -> dict[str, str]:
    """The selection the URL asks for, as ``explorer_calls`` parameters."""
    params = st.query_params
    selection = {
        "span_ids": params.get(PARAM_CALLS, ""),
        "trace_id": params.get(PARAM_TRACE, ""),
        "request_hash": params.get(PARAM_REQUEST, ""),
        "prefix_hash": params.get(PARAM_PREFIX, ""),
    }
    return {name: value.strip() for name, value in selection.items() if value and value.strip()}


def _describe(selection: dict[str, str]) -> str:
    if "span_ids" in selection:
        count = len([s for s in selection["span_ids"].split(",") if s])
        return f"the {count} call{'s' if count > 1 else ''} a suggestion names as its evidence"
    if "trace_id" in selection:
        return f"the calls of trace `{selection['trace_id']}`"
    if "request_hash" in selection:
        return f"the identical requests with hash `{selection['request_hash']}`"
    return f"the calls whose prompt starts with prefix `{selection['prefix_hash']}`"


def _clear_selection() -> None:
    for name in SELECTION_PARAMS:
        if name in st.query_params:
            del st.query_params[name]


def _export(state: FilterState, selection: dict[str, str], kind: str) -> bytes:
    result = data.run_uncached("explorer_calls", state, limit=data.EXPORT_LIMIT, **selection)
    frame = result.arrow().drop(["matching_calls"])
    if kind == "parquet":
        import pyarrow.parquet as pq

        sink = io.BytesIO()
        pq.write_table(frame, sink, compression="zstd")
        return sink.getvalue()
    rows = frame.to_pandas()
    rows["tags"] = rows["tags"].map(lambda value: json.dumps(dict(value)) if value is not None else "")
    rows["finish_reasons"] = rows["finish_reasons"].map(
        lambda value: ",".join(value) if value is not None else ""
    )
    text: str = rows.to_csv(index=False)
    return text.encode()


def _detail(span_id: str) -> None:
    row = data.run("call_detail", span_id=span_id).first()
    if row is None:
        st.warning(f"No call with span id `{span_id}` in the dataset.")
        return
    st.subheader(f"Call `{span_id}`")
    cost, latency, tokens, status = st.columns(4)
    cost.metric("Cost", formatting.usd(row.get("cost_usd")), border=True)
    latency.metric(
        "Latency",
        formatting.duration(row.get("duration_ms")),
        border=True,
        help=f"Server {formatting.duration(row.get('server_processing_ms'))}, "
        f"first chunk {formatting.duration(row.get('ttft_ms'))}, "
        f"backoff {formatting.duration(row.get('retry_wait_ms'))}.",
    )
    tokens.metric(
        "Tokens in / out",
        f"{formatting.count(row.get('input_tokens'))} / {formatting.count(row.get('output_tokens'))}",
        border=True,
        help=f"Cached input {formatting.count(row.get('cached_input_tokens'))}, "
        f"reasoning {formatting.count(row.get('reasoning_tokens'))}.",
    )
    status.metric(
        "Status",
        f"{row.get('status') or '—'}" + (f" · {row['http_status']}" if row.get("http_status") else ""),
        border=True,
    )
    fields, attempts = st.columns([3, 2])
    with fields:
        shown = {
            key: value for key, value in row.items() if value is not None and key not in ("key", "attributes")
        }
        shown["tags"] = tags_text(row.get("tags"))
        st.dataframe(
            pd.DataFrame({"field": list(shown), "value": [_text(value) for value in shown.values()]}),
            hide_index=True,
            column_config={"field": "Field", "value": st.column_config.TextColumn("Value", width="large")},
            height=420,
        )
    with attempts:
        st.markdown("**HTTP attempts**")
        table(
            data.run("call_attempts", span_id=span_id).df(),
            [
                Column("attempt", "Attempt", "count"),
                Column("status", "Outcome"),
                Column("duration_ms", "Duration", "ms"),
            ],
        )
        if row.get("attributes"):
            with st.expander("Other span attributes"):
                st.json(row["attributes"])


def _text(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return formatting.moment(value, seconds=True) if hasattr(value, "tzinfo") else value.isoformat()
    if isinstance(value, float):
        return f"{value:,.6g}"
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def render() -> None:
    state = page.start("Explorer", "Every call, with its tokens, cost, latency, retries and tags.")
    if state is None:
        return
    selection = _selection()
    if selection:
        left, right = st.columns([5, 1])
        left.info(f"Showing {_describe(selection)}, within the filters.", icon=":material/filter_alt:")
        right.button("Show all calls", on_click=_clear_selection, icon=":material/close:")
    order_col, status_col, page_col = st.columns([2, 3, 1])
    order = order_col.selectbox(
        "Sort", list(ORDERS), format_func=ORDERS.__getitem__, key="order", bind="query-params"
    )
    statuses = status_col.multiselect(
        "Status", list(STATUSES), key="status", bind="query-params", placeholder="Any status"
    )
    scoped = state.with_status(statuses)
    number = page_col.number_input("Page", min_value=1, value=1, step=1, key="explorer_page")
    result = data.run(
        "explorer_calls",
        scoped,
        order=order or "newest",
        limit=PAGE_SIZE,
        offset=(int(number) - 1) * PAGE_SIZE,
        **selection,
    )
    frame = result.df()
    matching = int(frame["matching_calls"].iloc[0]) if not frame.empty else 0
    first = (int(number) - 1) * PAGE_SIZE
    st.caption(
        f"{formatting.count(matching)} calls match; showing {first + 1:,}–{first + len(frame):,}."
        if matching
        else "No calls match on this page."
    )
    table(frame, COLUMNS, key="explorer_table")
    downloads = st.container(horizontal=True)
    note = f" (the first {data.EXPORT_LIMIT:,})" if matching > data.EXPORT_LIMIT else ""
    downloads.download_button(
        f"CSV{note}",
        data=lambda: _export(scoped, selection, "csv"),
        file_name="callscope-calls.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )
    downloads.download_button(
        f"Parquet{note}",
        data=lambda: _export(scoped, selection, "parquet"),
        file_name="callscope-calls.parquet",
        mime="application/vnd.apache.parquet",
        icon=":material/download:",
        on_click="ignore",
    )
    if frame.empty:
        return
    wanted = st.query_params.get(PARAM_CALL)
    choices = list(dict.fromkeys(([wanted] if wanted else []) + frame["span_id"].tolist()))
    labels = {
        row["span_id"]: f"{formatting.moment(row['start_time'], seconds=True)} · {row['model']} · "
        f"{formatting.usd(row['cost_usd'])} · {formatting.duration(row['duration_ms'])} · {row['status']}"
        for row in result.rows()
    }
    chosen = st.selectbox(
        "Call detail",
        choices,
        format_func=lambda span: labels.get(span, span),
        key=PARAM_CALL,
        bind="query-params",
    )
    if chosen:
        _detail(chosen)


if __name__ == "__main__":
    render()
