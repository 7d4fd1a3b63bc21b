"""The dashboard's Altair charts: every one with a title, axis titles with units and readable tooltips.

Builders take a pandas DataFrame straight from a named query and return an ``alt.Chart``;
the pages only choose columns and words. Times are shown in UTC (the partitions' clock),
durations in seconds once they pass two seconds, money with a dollar sign.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal

import altair as alt

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BAR_STEP",
    "bars",
    "color_scale",
    "money_format",
    "over_time",
    "scatter",
    "stacked_bars",
    "time_axis",
    "time_axis_format",
    "utc_naive",
    "window_domain",
]

#: d3 formats.
MONEY_TIP: Final = "$,.4~f"
COUNT: Final = ",.0f"
#: A palette long enough for a dozen models before colours repeat.
PALETTE: Final = (
    "#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2",
    "#EECA3B", "#FF9DA6", "#9D755D", "#BAB0AC", "#1F77B4", "#8C564B",
)  # fmt: skip
_TIME_FORMATS: Final = {
    "second": "%H:%M:%S",
    "minute": "%H:%M",
    "hour": "%b %d %H:%M",
    "day": "%b %d",
    "week": "%b %d",
    "month": "%b %Y",
}
_BUCKET_WORDS: Final = {
    "second": "second",
    "minute": "minute",
    "hour": "hour",
    "day": "day",
    "week": "week",
    "month": "month",
}
#: Vega-Lite time units matching the analytics buckets: a bar spans its whole bucket.
_TIME_UNITS: Final = {
    "second": "yearmonthdatehoursminutesseconds",
    "minute": "yearmonthdatehoursminutes",
    "hour": "yearmonthdatehours",
    "day": "yearmonthdate",
    "week": "yearweek",
    "month": "yearmonth",
}
#: Rough width of each bucket, to tell whether a window is worth drawing whole (months as 30 days).
_BUCKET_SECONDS: Final = {
    "second": 1,
    "minute": 60,
    "hour": 3600,
    "day": 86_400,
    "week": 7 * 86_400,
    "month": 30 * 86_400,
}
#: A window holding more buckets than this is not stretched over the axis (see :func:`window_domain`).
MAX_WINDOW_BUCKETS: Final = 500
#: Characters of legend labels a line under a full-width chart holds.
_WIDE_LINE: Final = 120
#: Height of one bar (or group of bars) on a chart with a category axis.
BAR_STEP: Final = 26


def money_format(largest: float) -> str:
    """A d3 dollar format with enough decimals to tell the ticks of an axis reaching ``largest`` apart."""
    if largest >= 20:
        return "$,.0f"
    if largest >= 2:
        return "$,.1f"
    if largest >= 0.2:
        return "$,.2f"
    return "$,.3f" if largest >= 0.02 else "$,.4f"


def utc_naive(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """``frame`` with its UTC timestamp columns made naive, so the browser shows UTC wall time."""
    frame = frame.copy()
    for column in columns:
        if column in frame and getattr(frame[column].dt, "tz", None) is not None:
            frame[column] = frame[column].dt.tz_convert("UTC").dt.tz_localize(None)
    return frame


def time_axis_format(bucket: str | None) -> str:
    return _TIME_FORMATS.get(bucket or "", "%b %d %H:%M")


def time_axis(bucket: str | None, *, bars: bool = False) -> alt.Axis:
    """A UTC time axis labelled for the bucket width (one tick per day, not two "Nov 23"s).

    Under ``bars`` each spanning a bucket, a label starts at its bar's left edge, over the bar.
    """
    interval = bucket if bucket in ("day", "week", "month") else None
    return alt.Axis(
        format=time_axis_format(bucket),
        labelAngle=0,
        labelOverlap=True,
        tickCount={"interval": interval, "step": 1} if interval else alt.Undefined,
        labelAlign="left" if bars and interval else alt.Undefined,
        labelOffset=3 if bars and interval else alt.Undefined,
    )


def per_bucket(bucket: str | None) -> str:
    """``per day``, ``per hour``..."""
    return f"per {_BUCKET_WORDS.get(bucket or '', 'period')}"


def color_scale(domain: Sequence[str]) -> alt.Scale:
    """The same colour for the same value on every chart (``domain`` in a fixed order)."""
    values = list(dict.fromkeys(domain))
    palette = [PALETTE[index % len(PALETTE)] for index in range(len(values))]
    return alt.Scale(domain=values, range=palette) if values else alt.Scale(range=list(PALETTE))


def _legend(
    title: str,
    labels: Sequence[object] = (),
    *,
    orient: Literal["right", "bottom"] = "right",
    line_chars: int = 48,
) -> alt.Legend:
    """A legend beside the chart (or under it, in as many columns as its labels' length allows)."""
    if orient == "right":
        return alt.Legend(title=title or None, orient="right", labelLimit=240)
    columns = _legend_columns(labels, line_chars)
    return alt.Legend(title=title or None, orient=orient, columns=columns, labelLimit=360)


def _legend_columns(labels: Sequence[object], line_chars: int) -> int:
    """As many columns as labels of the longest length fit in a line of ``line_chars`` characters."""
    longest = max((len(str(label)) for label in labels), default=12)
    return max(1, min(5, line_chars // (longest + 6)))


def _legend_height(title: str, labels: Sequence[object], line_chars: int) -> int:
    """Pixels a legend under a chart takes: Streamlit fits the whole chart, legend included, in
    its height, so the plot would shrink by this much."""
    rows = -(-len(labels) // _legend_columns(labels, line_chars))
    return 16 * rows + (16 if title else 0) + 24


def window_domain(
    filters: Mapping[str, Any] | None,
    now: datetime | None = None,
    *,
    bucket: str | None = None,
    extent: tuple[datetime | None, datetime | None] | None = None,
) -> list[str] | None:
    """The x domain covering a query's whole time window (naive UTC ISO, like the plotted times),
    so an empty stretch shows as empty rather than disappearing; ``None`` for an open window.

    When the window holds more than :data:`MAX_WINDOW_BUCKETS` buckets of ``bucket``, it is not
    drawn whole: the analytics pick the bucket from the span of the calls, so 25 seconds of calls
    in a 7-day window come per second, and stretched over the week their bars would be slivers.
    The domain is then ``extent`` (the first and last call the filters select, so every chart of
    a page shares one axis) widened to whole buckets, else ``None`` (the axis fits the data).
    """
    since = (filters or {}).get("since")
    if not since:
        return None
    until = (filters or {}).get("until")
    end = datetime.fromisoformat(until) if until else (now or datetime.now(UTC))
    start = datetime.fromisoformat(since)
    width = _BUCKET_SECONDS.get(bucket or "")
    if width and (end - start).total_seconds() > MAX_WINDOW_BUCKETS * width:
        first, last = extent or (None, None)
        if first is None or last is None or bucket in ("week", "month"):
            return None
        start, end = _floor(first, width), _floor(last, width) + timedelta(seconds=width)
    return [moment.astimezone(UTC).replace(tzinfo=None).isoformat() for moment in (start, end)]


def _floor(moment: datetime, seconds: int) -> datetime:
    """``moment`` truncated to a multiple of ``seconds`` since the epoch (UTC: whole days at most)."""
    stamp = moment.timestamp()
    return datetime.fromtimestamp(stamp - stamp % seconds, UTC)


def over_time(
    frame: pd.DataFrame,
    *,
    value: str,
    title: str,
    y_title: str,
    bucket: str | None,
    color: str | None = None,
    color_title: str = "",
    scale: alt.Scale | None = None,
    kind: str = "bar",
    y_format: str = COUNT,
    tooltip_format: str | None = None,
    extra_tooltips: Sequence[alt.Tooltip] = (),
    domain: list[str] | None = None,
    legend: bool = True,
    height: int = 300,
) -> alt.Chart:
    """A value per time bucket: stacked bars (``kind="bar"``), stacked areas or lines by ``color``.

    ``domain`` (see :func:`window_domain`) stretches the time axis over the whole window. The
    legend of ``color`` goes under the chart, which grows by its height: the plot keeps ``height``.
    """
    data = utc_naive(frame, "bucket_start")
    time_format = time_axis_format(bucket)
    tooltips: list[Any] = [alt.Tooltip("bucket_start:T", title="Time (UTC)", format=time_format)]
    if color:
        tooltips.append(alt.Tooltip(f"{color}:N", title=color_title or color))
    tooltips.append(alt.Tooltip(f"{value}:Q", title=y_title, format=tooltip_format or y_format))
    tooltips.extend(extra_tooltips)
    base = alt.Chart(data, title=title)
    mark: alt.Chart
    if kind == "line":
        mark = base.mark_line(point=len(data) <= 60)
    elif kind == "area":
        mark = base.mark_area(opacity=0.85)
    else:
        mark = base.mark_bar()
    unit = _TIME_UNITS.get(bucket or "") if kind == "bar" else None
    time_unit: dict[str, Any] = {"timeUnit": unit} if unit else {}  # a bar spans its whole bucket
    encoding: dict[str, Any] = {
        "x": alt.X(
            "bucket_start:T",
            **time_unit,
            title=f"Time (UTC, {per_bucket(bucket)})",
            axis=time_axis(bucket, bars=unit is not None),
            scale=alt.Scale(domain=domain) if domain else alt.Undefined,
        ),
        "y": alt.Y(
            f"{value}:Q",
            title=y_title,
            axis=alt.Axis(format=y_format),
            stack=None if kind == "line" else "zero",
        ),
        "tooltip": tooltips,
    }
    if color:
        labels = data[color].unique().tolist()
        encoding["color"] = alt.Color(
            f"{color}:N",
            title=color_title,
            scale=scale or alt.Undefined,
            # Under the chart: beside it, a legend of long model names overlapped the last bars.
            legend=_legend(color_title, labels, orient="bottom", line_chars=_WIDE_LINE) if legend else None,
        )
        encoding["order"] = alt.Order(f"{color}:N")
        if legend:
            height += _legend_height(color_title, labels, _WIDE_LINE)
    return mark.encode(**encoding).properties(height=height)


def bars(
    frame: pd.DataFrame,
    *,
    category: str,
    value: str,
    title: str,
    x_title: str,
    y_title: str = "",
    x_format: str = COUNT,
    tooltip_format: str | None = None,
    color: str | None = None,
    scale: alt.Scale | None = None,
    extra_tooltips: Sequence[alt.Tooltip] = (),
) -> alt.Chart:
    """Horizontal bars, largest first, one per ``category`` (labelled by the title: no axis title)."""
    tooltips: list[Any] = [
        alt.Tooltip(f"{category}:N", title=y_title or category),
        alt.Tooltip(f"{value}:Q", title=x_title, format=tooltip_format or x_format),
        *extra_tooltips,
    ]
    encoding: dict[str, Any] = {
        "y": alt.Y(f"{category}:N", title=None, sort="-x", axis=alt.Axis(labelLimit=280)),
        "x": alt.X(f"{value}:Q", title=x_title, axis=alt.Axis(format=x_format, tickCount=6)),
        "tooltip": tooltips,
    }
    if color:
        encoding["color"] = alt.Color(f"{color}:N", scale=scale or alt.Undefined, legend=None)
    chart: alt.Chart = (
        alt.Chart(frame, title=title).mark_bar().encode(**encoding).properties(height=alt.Step(BAR_STEP))
    )
    return chart


def stacked_bars(
    frame: pd.DataFrame,
    *,
    category: str,
    value: str,
    part: str,
    title: str,
    x_title: str,
    y_title: str = "",
    part_title: str = "",
    parts: Sequence[str] = (),
    colors: Sequence[str] = (),
    x_format: str = COUNT,
    normalize: bool = False,
) -> alt.Chart:
    """Horizontal bars split into ``part`` segments (a long-format frame), in the order ``parts``."""
    order = {name: index for index, name in enumerate(parts)}
    data = frame.assign(_order=frame[part].map(order).fillna(len(order)))
    scale = alt.Scale(domain=list(parts), range=list(colors)) if parts and colors else alt.Undefined
    chart: alt.Chart = (
        alt.Chart(data, title=title)
        .mark_bar()
        .encode(
            y=alt.Y(f"{category}:N", title=None, axis=alt.Axis(labelLimit=280), sort=None),
            x=alt.X(
                f"{value}:Q",
                title=x_title,
                stack="normalize" if normalize else "zero",
                axis=alt.Axis(format=".0%" if normalize else x_format),
            ),
            color=alt.Color(
                f"{part}:N",
                title=part_title,
                scale=scale,
                sort=list(parts),
                legend=_legend(part_title, parts, orient="bottom"),
            ),
            order=alt.Order("_order:Q"),
            tooltip=[
                alt.Tooltip(f"{category}:N", title=y_title or category),
                alt.Tooltip(f"{part}:N", title=part_title or part),
                alt.Tooltip(f"{value}:Q", title=x_title if not normalize else "value", format=x_format),
            ],
        )
        .properties(height=alt.Step(BAR_STEP + 6))
    )
    return chart


def scatter(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    title: str,
    x_title: str,
    y_title: str,
    color: str | None = None,
    color_title: str = "",
    scale: alt.Scale | None = None,
    tooltips: Sequence[alt.Tooltip] = (),
    x_format: str = COUNT,
    y_format: str = COUNT,
    height: int = 380,
) -> alt.Chart:
    """One point per row."""
    encoding: dict[str, Any] = {
        "x": alt.X(f"{x}:Q", title=x_title, axis=alt.Axis(format=x_format)),
        "y": alt.Y(f"{y}:Q", title=y_title, axis=alt.Axis(format=y_format)),
        "tooltip": list(tooltips),
    }
    if color:
        labels = frame[color].unique().tolist()
        encoding["color"] = alt.Color(
            f"{color}:N", title=color_title, scale=scale or alt.Undefined, legend=_legend(color_title, labels)
        )
    chart: alt.Chart = (
        alt.Chart(frame, title=title)
        .mark_circle(size=28, opacity=0.55)
        .encode(**encoding)
        .properties(height=height)
        .interactive()
    )
    return chart
