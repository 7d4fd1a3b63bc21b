"""End to end: the real ``callscope dashboard`` server on loopback, driven in headless Chromium.

Opens every page, waits for the script to finish and the charts and tables to draw, checks that
no error box or exception shows, follows a suggestion to its calls in the explorer, checks that
the filters survive navigation in the URL, and saves a full-page screenshot of each page under
``test-output/screenshots/`` (``empty-*.png`` for the empty dataset).

Needs Debian's ``chromium`` (``make test`` installs it) and the ``playwright`` package (never its
browser download). ``CALLSCOPE_SCREENSHOT_DATA=<dataset>`` screenshots another dataset instead of
the planted one (e.g. the demo's, for the docs).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-quic",
]
#: URL path -> what the page must draw on real data.
PAGES: dict[str, dict[str, int]] = {
    "": {"charts": 2, "tables": 1},
    "cost": {"charts": 2, "tables": 3},
    "latency": {"charts": 4, "tables": 1},
    "errors": {"charts": 4, "tables": 2},
    "suggestions": {"charts": 0, "tables": 0},
    "explorer": {"charts": 0, "tables": 2},
    "sql": {"charts": 1, "tables": 2},
}
CHART = '[data-testid="stVegaLiteChart"]'
TABLE = '[data-testid="stDataFrame"]'
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
#: Placeholders shown while an element's code is still loading.
NO_SKELETONS = "!document.querySelector('[data-testid=stSkeleton], [data-testid=stSkeletonElement]')"


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]
    data: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (make test installs it: apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield launched
        launched.close()


def _serve(data: Path) -> Iterator[Server]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "callscope", "dashboard", "--data", str(data), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                assert time.monotonic() < deadline, "the dashboard did not start within 60 s"
                time.sleep(0.2)
        assert process.stdout is not None
        assert process.stdout.readline().strip().startswith(f"callscope dashboard: {url}")
        yield Server(url, process, data)
    finally:
        process.send_signal(signal.SIGINT)  # as Ctrl+C
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            pytest.fail("the dashboard did not stop on Ctrl+C")
        assert process.returncode == 0, output
        assert "callscope dashboard: stopped." in output


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from tests.dashboard.fixture import anchor_now, build

    chosen = os.environ.get("CALLSCOPE_SCREENSHOT_DATA")
    data = Path(chosen) if chosen else build(anchor_now()).write(tmp_path_factory.mktemp("browser-data"))
    yield from _serve(data)


@pytest.fixture(scope="module")
def served_empty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _serve(tmp_path_factory.mktemp("browser-empty") / "nothing-yet")


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    opened = browser.new_page(viewport={"width": 1440, "height": 1000})
    yield opened
    opened.close()


def _settle(page: Page, *, charts: int = 0, tables: int = 0) -> None:
    """Wait for the script run to finish and the charts and tables to draw."""
    page.wait_for_selector("h1", timeout=60_000)
    page.wait_for_selector(IDLE, timeout=60_000)
    for index in range(charts):
        page.locator(CHART).nth(index).locator("canvas, svg").first.wait_for(timeout=30_000)
    for index in range(tables):
        page.locator(TABLE).nth(index).wait_for(state="attached", timeout=30_000)
    page.wait_for_selector(IDLE, timeout=60_000)
    page.wait_for_function(NO_SKELETONS, timeout=30_000)


def _screenshot(page: Page, name: str) -> None:
    """A full-page screenshot: Streamlit scrolls inside the page, so grow the viewport to fit it all."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = page.evaluate(
        "Math.max(...[...document.querySelectorAll('[data-testid=stMain], [data-testid=stAppViewContainer]')]"
        ".map(e => e.scrollHeight), document.body.scrollHeight)"
    )
    page.set_viewport_size({"width": 1440, "height": min(int(height) + 40, 12_000)})
    page.wait_for_timeout(800)  # charts re-fit to the new size
    page.wait_for_function(NO_SKELETONS, timeout=30_000)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 1000})


def _assert_no_errors(page: Page) -> None:
    shown: list[Any] = page.locator(ERRORS).all_inner_texts()
    assert shown == []


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_renders(served: Server, page: Page, path: str) -> None:
    page.goto(f"{served.url}/{path}")
    expected = PAGES[path]
    _settle(page, **expected)
    _assert_no_errors(page)
    assert page.locator(CHART).count() >= expected.get("charts", 0)
    assert page.locator(TABLE).count() >= expected.get("tables", 0)
    _screenshot(page, path or "overview")


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_renders_on_an_empty_dataset(served_empty: Server, page: Page, path: str) -> None:
    page.goto(f"{served_empty.url}/{path}")
    _settle(page)
    _assert_no_errors(page)
    assert page.get_by_text("No calls recorded yet in").count() == 1
    # Code blocks draw once their highlighter has loaded.
    page.locator('[data-testid="stCode"]', has_text="callscope.instrument()").wait_for(timeout=30_000)
    assert page.locator(CHART).count() == 0
    _screenshot(page, f"empty-{path or 'overview'}")


def test_a_suggestion_opens_its_calls_in_the_explorer(served: Server, page: Page) -> None:
    page.goto(f"{served.url}/suggestions")
    _settle(page)
    link = page.get_by_role("link", name=re.compile(r"See the \d+ sample calls? in the explorer")).first
    wanted = int(re.search(r"\d+", link.inner_text()).group())  # type: ignore[union-attr]
    link.click()
    page.wait_for_url(re.compile(r"/explorer\?.*calls="), timeout=30_000)
    _settle(page, tables=1)
    _assert_no_errors(page)
    assert page.get_by_text("a suggestion names as its evidence").count() == 1
    assert page.get_by_text(f"{wanted} calls match; showing 1–{wanted}.").count() == 1
    # The detail below the table is the first of those calls.
    ids = re.search(r"calls=([0-9a-f%,C]+)", page.url).group(1).replace("%2C", ",").split(",")  # type: ignore[union-attr]
    heading = page.locator("h3", has_text="Call ").first.inner_text()
    assert any(span_id in heading for span_id in ids)
    _screenshot(page, "explorer-from-suggestion")


def test_filters_live_in_the_url_across_pages(served: Server, page: Page) -> None:
    page.goto(served.url)
    _settle(page, charts=2)
    services = page.get_by_test_id("stSidebar").locator('[data-testid="stMultiSelect"]').first
    services.click()
    option = page.get_by_role("option").filter(has_not_text="Select all").first
    chosen = option.inner_text().strip()
    option.click()
    page.keyboard.press("Escape")
    page.wait_for_url(re.compile(rf"[?&]service={re.escape(quote_plus(chosen))}(&|$)"), timeout=30_000)
    _settle(page, charts=2)
    page.get_by_role("link", name="Errors & retries").first.click()
    page.wait_for_url(
        re.compile(rf"/errors\?(.*&)?service={re.escape(quote_plus(chosen))}(&|$)"), timeout=30_000
    )
    _settle(page)
    _assert_no_errors(page)
    assert page.get_by_test_id("stSidebar").get_by_text(chosen, exact=True).count() >= 1


def test_new_calls_appear_without_a_reload(served: Server, page: Page) -> None:
    if os.environ.get("CALLSCOPE_SCREENSHOT_DATA"):
        pytest.skip("writes to the dataset: only on the planted one")
    from tests.dashboard.fixture import CallLog, anchor_now

    page.goto(served.url)
    _settle(page, charts=2)
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
