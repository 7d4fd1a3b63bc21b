"""Filters live in the URL: a shared link reproduces the view, and changing a filter changes the figures."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from callscope.analytics import Analytics, Filters
from callscope.dashboard import formatting

from tests.dashboard.conftest import OpenApp
from tests.dashboard.elements import assert_healthy, chart, deltas, metrics


def test_url_parameters_set_the_filters(open_app: OpenApp, data_root: Path, analytics: Analytics) -> None:
    params = {"range": "Last 30 days", "service": ["batch-jobs"], "tag": ["feature=digest"]}
    app = open_app(data_root, params=params)
    assert_healthy(app)
    assert app.selectbox(key="range").value == "Last 30 days"
    assert app.multiselect(key="service").value == ["batch-jobs"]
    assert app.multiselect(key="tag").value == ["feature=digest"]
    expected = analytics.run_query(
        "overview", Filters(since="30d", services="batch-jobs", tags=["feature=digest"])
    ).first()
    assert expected is not None
    assert metrics(app)["Calls"] == "30"
    assert metrics(app)["Spend"] == formatting.usd(expected["cost_usd"])
    # The parameters stay in the URL for the next run and for whoever the link is shared with.
    assert app.query_params == {"range": "Last 30 days", "service": "batch-jobs", "tag": "feature=digest"}
    # ... and across a page switch.
    app.switch_page("views/errors.py").run()
    assert_healthy(app)
    assert app.multiselect(key="service").value == ["batch-jobs"]
    assert metrics(app)["Failed calls"] == "0"


def test_custom_dates_from_the_url(
    open_app: OpenApp, data_root: Path, analytics: Analytics, anchor: datetime
) -> None:
    day = (anchor.date() - timedelta(days=1)).isoformat()
    app = open_app(data_root, params={"range": "Custom dates", "dates": [day, day]})
    assert_healthy(app)
    expected = analytics.run_query("overview", Filters(since=day, until=f"{day}T23:59:59.999999")).first()
    assert expected is not None
    assert expected["calls"]
    assert metrics(app)["Calls"] == formatting.count(expected["calls"])


def test_unknown_values_in_the_url_are_dropped(open_app: OpenApp, data_root: Path) -> None:
    app = open_app(data_root, params={"service": ["no-such-service"], "range": "Forever"})
    assert_healthy(app)
    assert app.multiselect(key="service").value == []
    assert app.selectbox(key="range").value == "Last 7 days"
    assert metrics(app)["Calls"] == "194"


def test_a_filter_change_changes_the_figures(
    open_app: OpenApp, data_root: Path, analytics: Analytics
) -> None:
    app = open_app(data_root)
    assert metrics(app)["Calls"] == "194"
    app.multiselect(key="model").set_value(["gpt-4o"]).run()
    assert_healthy(app)
    expected = analytics.run_query("overview", Filters(since="7d", models="gpt-4o")).first()
    assert expected is not None
    assert metrics(app)["Calls"] == "48" == formatting.count(expected["calls"])
    assert metrics(app)["Spend"] == formatting.usd(expected["cost_usd"])
    spend = chart(app, "Spend per ")
    assert {row["key"] for row in spend["_data"]} == {"gpt-4o"}
    assert sum(row["cost_usd"] for row in spend["_data"]) == pytest.approx(expected["cost_usd"])
    app.selectbox(key="range").set_value("All time").run()
    assert metrics(app)["Calls"] == "48"
    assert not deltas(app)  # all time has no previous period to compare with
    [clear] = [button for button in app.button if button.label == "Clear filters"]
    clear.click().run()
    assert metrics(app)["Calls"] == "194"
