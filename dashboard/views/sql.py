"""SQL: ad hoc read-only queries over ``calls``, ``spans`` and ``prices`` on the locked-down connection,
with the schema beside the editor and the result as a table and a chart.

The query runs exactly as ``callscope sql`` runs it (:func:`callscope.analytics.run_user_sql`), so the
refusals read the same. The sidebar filters do not apply here: the SQL says what it selects.
"""

from __future__ import annotations

from typing import Final

import altair as alt
import pandas as pd
import streamlit as st
from callscope.analytics import AnalyticsError
from callscope.dashboard import data, formatting, page
from callscope.dashboard.widgets import Column, table

EXAMPLE: Final = """\
SELECT
    coalesce(request_model, response_model) AS model,
    count(*) AS calls,
    round(sum(cost_usd), 4) AS cost_usd,
    round(quantile_cont(duration_ms, 0.95)) AS p95_ms
FROM calls
WHERE start_time >= now() - INTERVAL 7 DAY
GROUP BY ALL
ORDER BY cost_usd DESC
"""
#: Where the editor's text lives in the URL, so a query can be shared.
PARAM_SQL: Final = "q"


def _schema() -> None:
    st.markdown("**Tables**")
    frame = data.run("schema").df()
    for name, columns in frame.groupby("table_name", sort=False):
        with st.expander(f"`{name}` ({len(columns)} columns)", expanded=name == "calls"):
            table(
                columns,
                [Column("column_name", "Column"), Column("data_type", "Type"), Column("meaning", "Meaning")],
                height=320,
            )


def _chart(frame: pd.DataFrame) -> None:
    numeric = [column for column in frame.columns if pd.api.types.is_numeric_dtype(frame[column])]
    labels = [column for column in frame.columns if column not in numeric]
    if not numeric or len(frame) < 2:
        return
    with st.expander("Chart", expanded=bool(labels)):
        x_col, y_col = st.columns(2)
        x = x_col.selectbox(
            "X", list(frame.columns), index=list(frame.columns).index(labels[0]) if labels else 0, key="sql_x"
        )
        y = y_col.selectbox("Y", numeric, index=0 if numeric[0] != x or len(numeric) == 1 else 1, key="sql_y")
        if not x or not y:
            return
        kind = "T" if pd.api.types.is_datetime64_any_dtype(frame[x]) else ("Q" if x in numeric else "N")
        base = alt.Chart(frame.head(2000), title=f"{y} by {x}")
        mark = (
            base.mark_line(point=True)
            if kind == "T"
            else (base.mark_circle() if kind == "Q" else base.mark_bar())
        )
        encoding_x = alt.X(f"{x}:{kind}", title=x, sort="-y" if kind == "N" else alt.Undefined)
        chart = mark.encode(x=encoding_x, y=alt.Y(f"{y}:Q", title=y), tooltip=list(frame.columns[:8]))
        st.altair_chart(chart.properties(height=320), width="stretch")


def render() -> None:
    page.start(
        "SQL",
        "Read-only SQL over `calls`, `spans` and `prices`, as with `callscope sql`. "
        "The sidebar filters do not "
        "apply: say what you select in the query.",
        needs_calls_in_window=False,
    )
    editor, schema = st.columns([3, 2])
    with schema:
        _schema()
    with editor:
        initial = st.query_params.get(PARAM_SQL) or EXAMPLE
        sql = st.text_area("Query", value=initial, height=260, key="sql_text")
        run = st.button("Run query", type="primary", icon=":material/play_arrow:")
        st.caption("One SELECT (or WITH, DESCRIBE, SUMMARIZE, EXPLAIN); at most 10,000 rows, 30 s.")
    if not sql.strip():
        return
    if run:  # the URL keeps the query that ran, so the view can be shared
        st.query_params[PARAM_SQL] = sql
    try:
        result = data.user_sql(sql)
    except AnalyticsError as err:
        st.error(str(err), icon=":material/block:")
        return
    frame = result.df()
    note = (
        f" (only the first {formatting.count(len(frame))}: the query returned more)"
        if result.truncated
        else ""
    )
    st.caption(f"{formatting.count(len(frame))} rows{note} in {formatting.duration(result.elapsed_ms)}.")
    st.dataframe(frame, hide_index=True)
    _chart(frame)


if __name__ == "__main__":
    render()
