"""End to end: the real ``callscope dashboard`` server on loopback, driven in headless Chromium.

Opens every page, waits for the script to finish and the charts and tables to draw, checks that
no error box or exception shows, follows a suggestion to its calls in the explorer, checks that
the filters survive navigation in the URL, and saves a full-page screenshot of each page under
``test-output/screenshots/`` (``empty-*.png`` for the empty dataset). ``CALLSCOPE_SCREENSHOT_DATA=<dataset>``
screenshots another dataset instead of the planted one (e.g. the demo's, for the docs).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote_plus

import pytest

from tests.dashboard.browser import (
    CHART,
    PAGES,
    TABLE,
    Server,
    assert_no_errors,
    browser,
    page,
    screenshot,
    serve,
    settle,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

__all__ = ["browser", "page"]  # fixtures used by the tests below


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from tests.dashboard.fixture import anchor_now, build

    chosen = os.environ.get("CALLSCOPE_SCREENSHOT_DATA")
    data = Path(chosen) if chosen else build(anchor_now()).write(tmp_path_factory.mktemp("browser-data"))
    yield from serve(data)


@pytest.fixture(scope="module")
def served_empty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serve(tmp_path_factory.mktemp("browser-empty") / "nothing-yet")


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_renders(served: Server, page: Page, path: str) -> None:
    page.goto(f"{served.url}/{path}")
    expected = PAGES[path]
    settle(page, **expected)
    assert_no_errors(page)
    assert page.locator(CHART).count() >= expected.get("charts", 0)
    assert page.locator(TABLE).count() >= expected.get("tables", 0)
    screenshot(page, path or "overview")


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_renders_on_an_empty_dataset(served_empty: Server, page: Page, path: str) -> None:
    page.goto(f"{served_empty.url}/{path}")
    settle(page)
    assert_no_errors(page)
    assert page.get_by_text("No calls recorded yet in").count() == 1
    # Code blocks draw once their highlighter has loaded.
    page.locator('[data-testid="stCode"]', has_text="callscope.instrument()").wait_for(timeout=30_000)
    assert page.locator(CHART).count() == 0
    screenshot(page, f"empty-{path or 'overview'}")


def test_a_suggestion_opens_its_calls_in_the_explorer(served: Server, page: Page) -> None:
    page.goto(f"{served.url}/suggestions")
    settle(page)
    link = page.get_by_role("link", name=re.compile(r"See the \d+ sample calls? in the explorer")).first
    wanted = int(re.search(r"\d+", link.inner_text()).group())  # type: ignore[union-attr]
    link.click()
    page.wait_for_url(re.compile(r"/explorer\?.*calls="), timeout=30_000)
    settle(page, tables=1)
    assert_no_errors(page)
    assert page.get_by_text("a suggestion names as its evidence").count() == 1
    assert page.get_by_text(f"{wanted} calls match; showing 1–{wanted}.").count() == 1
    # The detail below the table is the first of those calls.
    ids = re.search(r"calls=([0-9a-f%,C]+)", page.url).group(1).replace("%2C", ",").split(",")  # type: ignore[union-attr]
    heading = page.locator("h3", has_text="Call ").first.inner_text()
    assert any(span_id in heading for span_id in ids)
    screenshot(page, "explorer-from-suggestion")


def test_filters_live_in_the_url_across_pages(served: Server, page: Page) -> None:
    page.goto(served.url)
    settle(page, charts=2)
    services = page.get_by_test_id("stSidebar").locator('[data-testid="stMultiSelect"]').first
    services.click()
    option = page.get_by_role("option").filter(has_not_text="Select all").first
    chosen = option.inner_text().strip()
    option.click()
    page.keyboard.press("Escape")
    page.wait_for_url(re.compile(rf"[?&]service={re.escape(quote_plus(chosen))}(&|$)"), timeout=30_000)
    settle(page, charts=2)
    page.get_by_role("link", name="Errors & retries").first.click()
    page.wait_for_url(
        re.compile(rf"/errors\?(.*&)?service={re.escape(quote_plus(chosen))}(&|$)"), timeout=30_000
    )
    settle(page)
    assert_no_errors(page)
    assert page.get_by_test_id("stSidebar").get_by_text(chosen, exact=True).count() >= 1


def test_new_calls_appear_without_a_reload(served: Server, page: Page) -> None:
    if os.environ.get("CALLSCOPE_SCREENSHOT_DATA"):
        pytest.skip("writes to the dataset: only on the planted one")
    from tests.dashboard.fixture import CallLog, anchor_now

    page.goto(served.url)
    settle(page, charts=2)
    calls = page.get_by_test_id("stMetric").filter(has_text="Calls").first.get_by_test_id("stMetricValue")
    before = int(calls.inner_text().replace(",", ""))
    more = CallLog(anchor_now())
    for i in range(7):
        more.call(2 + i, span_id=f"{0xB0000 + i:016x}", trace_id=f"{0xB0000 + i:032x}")
    more.write(served.data, name="late-browser")  # a new file, as the collector writes them
    # The page checks the file listing every 10 s and redraws when it changed: no reload, no click.
    page.wait_for_function(
        "expected => [...document.querySelectorAll('[data-testid=stMetric]')].some(m =>"
        " m.innerText.startsWith('Calls') && m.innerText.includes(expected))",
        arg=f"{before + 7:,}",
        timeout=40_000,
    )
