"""Driving the real ``callscope dashboard`` server in headless Chromium: shared by the browser tests.

Starts the server on a free loopback port as a user would (and stops it with Ctrl+C), launches
Debian's chromium through Playwright, waits for a page's script run, charts and tables, and takes
full-page screenshots under ``test-output/screenshots/``. Used by ``tests/dashboard/test_browser.py``
and ``tests/e2e/test_dashboard.py``.

Needs Debian's ``chromium`` (``make test`` installs it) and the ``playwright`` package (never its
browser download). ``CALLSCOPE_SCREENSHOT_DATA=<dataset>`` screenshots another dataset instead of
the planted one (e.g. the demo's, for the docs).
"""

from __future__ import annotations

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

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

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


def free_port() -> int:
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


def serve(data: Path) -> Iterator[Server]:
    port = free_port()
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


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    opened = browser.new_page(viewport={"width": 1440, "height": 1000})
    yield opened
    opened.close()


def settle(page: Page, *, charts: int = 0, tables: int = 0) -> None:
    """Wait for the script run to finish and the charts and tables to draw."""
    page.wait_for_selector("h1", timeout=60_000)
    page.wait_for_selector(IDLE, timeout=60_000)
    for index in range(charts):
        page.locator(CHART).nth(index).locator("canvas, svg").first.wait_for(timeout=30_000)
    for index in range(tables):
        page.locator(TABLE).nth(index).wait_for(state="attached", timeout=30_000)
    page.wait_for_selector(IDLE, timeout=60_000)
    page.wait_for_function(NO_SKELETONS, timeout=30_000)


def screenshot(page: Page, name: str) -> None:
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


def assert_no_errors(page: Page) -> None:
    shown: list[Any] = page.locator(ERRORS).all_inner_texts()
    assert shown == []
