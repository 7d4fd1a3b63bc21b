from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from callscope.analytics import FilterError, Filters
from callscope.analytics.filters import parse_tag, parse_time

NOW = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", NOW - timedelta(days=7)),
        ("24h", NOW - timedelta(hours=24)),
        ("30m", NOW - timedelta(minutes=30)),
        ("90s", NOW - timedelta(seconds=90)),
        ("2w", NOW - timedelta(weeks=2)),
        ("1.5h", NOW - timedelta(minutes=90)),
        ("now", NOW),
        ("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC)),
        ("2026-03-01T10:30", datetime(2026, 3, 1, 10, 30, tzinfo=UTC)),
        ("2026-03-01T10:30:00Z", datetime(2026, 3, 1, 10, 30, tzinfo=UTC)),
        ("2026-03-01T12:30:00+02:00", datetime(2026, 3, 1, 10, 30, tzinfo=UTC)),
    ],
)
def test_parse_time(text: str, expected: datetime) -> None:
    assert parse_time(text, NOW) == expected


def test_parse_time_takes_datetimes_and_dates() -> None:
    naive = datetime(2026, 3, 1, 8, 0)
    assert parse_time(naive, NOW) == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    assert parse_time(date(2026, 3, 1), NOW) == datetime(2026, 3, 1, tzinfo=UTC)
    assert parse_time(None, NOW) is None


@pytest.mark.parametrize("text", ["7x", "yesterday", "2026-13-01", "-3d"])
def test_bad_times_are_filter_errors(text: str) -> None:
    with pytest.raises(FilterError, match="cannot read the time"):
        parse_time(text, NOW)


def test_resolve_pins_relative_times_and_previous_window() -> None:
    resolved = Filters(since="7d", services="api").resolve(NOW)
    assert resolved.since == NOW - timedelta(days=7)
    assert resolved.until is None
    assert resolved.end == NOW
    assert resolved.services == ("api",)
    previous = resolved.previous()
    assert previous is not None
    assert (previous.since, previous.until) == (NOW - timedelta(days=14), NOW - timedelta(days=7))
    assert previous.services == ("api",)
    assert Filters().resolve(NOW).previous() is None


def test_empty_window_is_refused() -> None:
    with pytest.raises(FilterError, match="time range is empty"):
        Filters(since="2026-03-02", until="2026-03-01").resolve(NOW)


def test_tags_from_mapping_and_strings() -> None:
    assert Filters(tags={"feature": "search", "team": ["a", "b"], "customer": None}).tags == (
        ("customer", ()),
        ("feature", ("search",)),
        ("team", ("a", "b")),
    )
    assert Filters(tags=["feature=search", "feature=chat", "customer"]).tags == (
        ("customer", ()),
        ("feature", ("search", "chat")),
    )
    assert parse_tag("a=b=c") == ("a", "b=c")
    with pytest.raises(FilterError):
        parse_tag("=x")


def test_unknown_status_is_refused() -> None:
    with pytest.raises(FilterError, match="unknown status"):
        Filters(status="failed")


def test_describe_is_json_ready() -> None:
    described = Filters(since="2026-03-01", models=["gpt-4o"], tags={"f": "x"}).resolve(NOW).describe()
    assert described == {
        "since": "2026-03-01T00:00:00+00:00",
        "until": None,
        "services": [],
        "models": ["gpt-4o"],
        "operations": [],
        "environments": [],
        "status": [],
        "tags": {"f": ["x"]},
    }
