"""The global filters: widget values -> analytics filters and URL parameters."""

from __future__ import annotations

from datetime import UTC, date, datetime

from callscope.dashboard.state import FilterState


def test_defaults_are_the_last_seven_days() -> None:
    state = FilterState.from_widgets({})
    assert state == FilterState(range="7d")
    assert state.relative
    assert state.filters().since == "7d"
    assert state.query_params() == {}
    assert state.describe() == "Last 7 days"


def test_widget_values_become_filters_and_url_parameters() -> None:
    state = FilterState.from_widgets(
        {
            "range": "Last 30 days",
            "service": ["api", "bot"],
            "model": ["gpt-4o"],
            "tag": ["feature=search", "team=x"],
        }
    )
    filters = state.filters()
    assert (filters.since, filters.services, filters.models) == ("30d", ("api", "bot"), ("gpt-4o",))
    assert filters.tags == (("feature", ("search",)), ("team", ("x",)))
    assert state.query_params() == {
        "range": "Last 30 days",
        "service": ["api", "bot"],
        "model": ["gpt-4o"],
        "tag": ["feature=search", "team=x"],
    }
    assert state.describe() == "Last 30 days · services api, bot · model gpt-4o · tags feature=search, team=x"


def test_custom_dates_are_whole_utc_days() -> None:
    state = FilterState.from_widgets(
        {"range": "Custom dates", "dates": (date(2026, 11, 7), date(2026, 11, 1))}
    )
    assert state.dates == (date(2026, 11, 1), date(2026, 11, 7))
    assert not state.relative
    resolved = state.filters().resolve()
    assert resolved.since == datetime(2026, 11, 1, tzinfo=UTC)
    assert resolved.until == datetime(2026, 11, 8, tzinfo=UTC)
    assert state.query_params() == {"range": "Custom dates", "dates": ["2026-11-01", "2026-11-07"]}
    # While the second day is being picked, the range is the first day alone.
    assert FilterState.from_widgets({"range": "Custom dates", "dates": (date(2026, 11, 3),)}).dates == (
        date(2026, 11, 3),
        date(2026, 11, 3),
    )


def test_all_time_and_unknown_ranges() -> None:
    assert FilterState.from_widgets({"range": "All time"}).filters().since is None
    assert FilterState.from_widgets({"range": "forever"}).range == "7d"
    assert FilterState.from_widgets({"range": "Custom dates"}).range == "all"  # no dates picked


def test_status_narrows_without_touching_the_rest() -> None:
    state = FilterState(services=("api",)).with_status(["error"])
    assert state.filters().status == ("error",)
    assert state.services == ("api",)
    assert state.key() != FilterState(services=("api",)).key()
