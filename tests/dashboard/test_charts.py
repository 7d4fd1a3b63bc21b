"""The chart builders: time axes for every bucket width, the window's domain, legends that keep clear."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
from callscope.analytics import BUCKETS
from callscope.dashboard import charts

WEEK = {"since": "2026-11-23T00:00:00+00:00", "until": "2026-11-30T00:00:00+00:00"}


def spend_frame(bucket_starts: list[datetime]) -> pd.DataFrame:
    rows = [{"bucket_start": moment, "key": "gpt-4o-mini", "cost_usd": 0.01} for moment in bucket_starts]
    return pd.DataFrame(rows)


def spec(chart: Any) -> dict[str, Any]:
    return dict(chart.to_dict())


def test_every_bucket_has_a_time_unit_a_format_and_a_word() -> None:
    frame = spend_frame([datetime(2026, 11, 29, 12, 0, second, tzinfo=UTC) for second in range(3)])
    for bucket in BUCKETS[1:]:
        chart = charts.over_time(frame, value="cost_usd", title="t", y_title="y", bucket=bucket)
        x = spec(chart)["encoding"]["x"]
        assert x["timeUnit"].startswith("yearm" if bucket != "week" else "yearweek"), bucket
        assert charts.per_bucket(bucket) == f"per {bucket}"
    second = spec(charts.over_time(frame, value="cost_usd", title="t", y_title="y", bucket="second"))
    assert second["encoding"]["x"]["timeUnit"] == "yearmonthdatehoursminutesseconds"
    assert second["encoding"]["x"]["axis"]["format"] == "%H:%M:%S"


def test_the_window_is_drawn_whole_unless_its_buckets_would_be_slivers() -> None:
    whole = ["2026-11-23T00:00:00", "2026-11-30T00:00:00"]
    assert charts.window_domain(WEEK) == whole
    assert charts.window_domain(WEEK, bucket="hour") == whole  # 168 bars
    assert charts.window_domain(WEEK, bucket="day") == whole
    # 25 seconds of calls in a week come per second: the axis fits them instead.
    assert charts.window_domain(WEEK, bucket="second") is None
    assert charts.window_domain(WEEK, bucket="minute") is None  # 10,080 buckets
    day = {"since": "2026-11-29T00:00:00+00:00", "until": "2026-11-29T06:00:00+00:00"}
    assert charts.window_domain(day, bucket="minute") == ["2026-11-29T00:00:00", "2026-11-29T06:00:00"]
    assert charts.window_domain({"since": None}, bucket="hour") is None


def test_a_window_too_wide_for_its_buckets_is_drawn_from_the_first_call_to_the_last() -> None:
    extent = (
        datetime(2026, 11, 29, 12, 0, 3, 500_000, tzinfo=UTC),
        datetime(2026, 11, 29, 12, 0, 27, tzinfo=UTC),
    )
    assert charts.window_domain(WEEK, bucket="second", extent=extent) == [
        "2026-11-29T12:00:03",
        "2026-11-29T12:00:28",  # the last call's bar ends a second after it starts
    ]
    assert charts.window_domain(WEEK, bucket="minute", extent=extent) == [
        "2026-11-29T12:00:00",
        "2026-11-29T12:01:00",
    ]
    assert charts.window_domain(WEEK, bucket="hour", extent=extent) == [
        "2026-11-23T00:00:00",
        "2026-11-30T00:00:00",
    ]
    assert charts.window_domain(WEEK, bucket="second", extent=(None, None)) is None


def test_the_legend_of_a_chart_over_time_sits_under_it() -> None:
    frame = pd.concat(
        [
            spend_frame([datetime(2026, 11, day, tzinfo=UTC) for day in range(23, 30)]),
            spend_frame([datetime(2026, 11, 29, tzinfo=UTC)]).assign(
                key="ft:gpt-4o-mini-2024-07-18:acme:support-bot:9a8b7c6d"
            ),
        ]
    )
    chart = charts.over_time(
        frame,
        value="cost_usd",
        title="Spend per day by model",
        y_title="Spend (USD)",
        bucket="day",
        color="key",
        color_title="Model",
        domain=charts.window_domain(WEEK, bucket="day"),
    )
    legend = spec(chart)["encoding"]["color"]["legend"]
    assert legend["orient"] == "bottom"
    assert legend["columns"] >= 1
