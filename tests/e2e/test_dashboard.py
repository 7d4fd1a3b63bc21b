"""The dashboard on the demo's data, in headless Chromium: ``callscope dashboard`` serves what the demo wrote.

Reuses the browser helpers of ``tests/dashboard/browser.py`` (Debian's chromium through Playwright,
the server started and stopped as a user would, pages waited on until drawn).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from callscope.dashboard import formatting

from tests.dashboard.browser import PAGES, Server, assert_no_errors, browser, page, serve, settle
from tests.e2e.conftest import DemoRun, callscope

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

__all__ = ["browser", "page"]  # the browser and a fresh page per test, as tests/dashboard has them


@pytest.fixture(scope="module")
def demo_dashboard(parquet_run: DemoRun) -> Iterator[Server]:
    yield from serve(parquet_run.data)


def test_the_overview_shows_the_demo_calls(demo_dashboard: Server, page: Page, parquet_run: DemoRun) -> None:
    page.goto(demo_dashboard.url)
    settle(page, **PAGES[""])
    assert_no_errors(page)
    calls = page.get_by_test_id("stMetric").filter(has_text="Calls").first.inner_text()
    assert formatting.count(parquet_run.truth.calls) in calls


def test_the_suggestions_page_lists_every_planted_pattern(
    demo_dashboard: Server, page: Page, parquet_run: DemoRun
) -> None:
    report = json.loads(callscope("report", "--data", str(parquet_run.data), "--format", "json").stdout)
    page.goto(f"{demo_dashboard.url}/suggestions")
    settle(page)
    assert_no_errors(page)
    count = page.get_by_test_id("stMetric").filter(has_text="Suggestions").first.inner_text()
    assert count.split()[-1] == str(len(report["suggestions"])) == "9"
    # The largest in full (a heading each), the others folded under their title.
    text = page.get_by_test_id("stMain").inner_text()
    for rank, finding in enumerate(report["suggestions"], start=1):
        assert f"{rank}. {finding['title']}" in text, text
