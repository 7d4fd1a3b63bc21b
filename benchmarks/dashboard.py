"""Time the dashboard on a large call log: the overview's first render, then filter changes.

    python benchmarks/dashboard.py [--rows 1000000] [--repeat 5] [--browser]

Uses ``benchmarks/datagen.py`` (cached under ``benchmarks/.data/``) and shows the last 7 days of
the generated data (14 days in all, so the overview also reads the 7 days before for its changes).

- **Floor**: the overview's named queries run directly on a new analytics connection (no Streamlit).
- **AppTest** (in-process, the same code path as the server without the websocket): the
  overview's first render with a new dataset connection and empty caches, then ``--repeat``
  filter changes, each to a value never asked for before (so nothing comes from the cache),
  then a change back to an earlier value (served from the cache).
- **Browser** (``--browser``): the real ``callscope dashboard`` server and headless Chromium:
  from opening the URL to the charts drawn and the script idle, then a filter change made in
  the page (a service chosen in the sidebar) to the charts redrawn.

Prints a Markdown table of medians (and the worst run) in seconds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from benchmarks.datagen import DEFAULT_END, dataset_for  # noqa: E402

LAST_DAY: date = DEFAULT_END.date()  # the generator's last day of calls
WINDOW = {
    "range": "Custom dates",
    "dates": [(LAST_DAY - timedelta(days=6)).isoformat(), LAST_DAY.isoformat()],
}
FILTER_CHANGES: list[tuple[str, list[str]]] = [
    ("service", ["api"]),
    ("service", ["support-bot"]),
    ("model", ["gpt-4o"]),
    ("tag", ["feature=search"]),
    ("service", ["batch-summarizer"]),
    ("model", ["gpt-4.1-mini"]),
    ("tag", ["customer=customer-07"]),
    ("service", ["search"]),
]


def _timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


#: The queries the overview's first render runs (sidebar options and extent, the page's figures).
OVERVIEW_QUERIES: list[tuple[str, bool, dict[str, Any]]] = [
    ("filter_options", False, {}),
    ("dataset_extent", False, {}),
    ("dataset_extent", True, {}),
    ("overview", True, {}),
    ("spend_over_time", True, {"by": "model"}),
    ("cost_drivers", True, {"limit": 8}),
]


def queries_alone(root: Path, repeat: int) -> dict[str, list[float]]:
    """The floor: the overview's queries run directly, on a new connection each time."""
    from callscope.analytics import connect
    from callscope.dashboard.state import FilterState

    state = FilterState.from_widgets(WINDOW)
    times = []
    for _ in range(max(1, repeat // 2)):
        started = time.perf_counter()
        with connect(str(root)) as analytics:
            for name, scoped, params in OVERVIEW_QUERIES:
                analytics.run_query(name, state.filters() if scoped else None, **params)
        times.append(time.perf_counter() - started)
    return {"floor: the overview's queries alone, new connection": times}


def apptest(root: Path, repeat: int) -> dict[str, list[float]]:
    import streamlit as st
    from callscope.dashboard.server import APP_PATH
    from streamlit.testing.v1 import AppTest

    def app(data: Path) -> AppTest:
        os.environ["CALLSCOPE_DATA"] = str(data)
        test = AppTest.from_file(str(APP_PATH), default_timeout=300)
        test.query_params = dict(WINDOW)
        return test

    # Warm-up on an empty dataset: imports (Streamlit, Altair, DuckDB) are not the dashboard's cost.
    empty = ROOT / ".data" / "empty-dataset"
    empty.mkdir(parents=True, exist_ok=True)
    app(empty).run()
    results: dict[str, list[float]] = {"first render": [], "filter change": [], "filter change (cached)": []}
    for run in range(max(1, repeat // 2)):
        st.cache_data.clear()
        st.cache_resource.clear()
        overview = app(root)
        results["first render"].append(_timed(overview.run))
        assert not overview.exception, overview.exception
        assert overview.metric, "the overview drew nothing"
        if run == 0:
            print(f"  overview: {[(m.label, m.value) for m in overview.metric[:5]]}", file=sys.stderr)
    for key, value in FILTER_CHANGES[:repeat]:
        other = "model" if key != "model" else "service"
        overview.multiselect(key=other).set_value([])
        overview.multiselect(key=key).set_value(value)
        results["filter change"].append(_timed(overview.run))
        assert not overview.exception, overview.exception
    for key, value in FILTER_CHANGES[: max(1, repeat // 2)]:
        for name in ("service", "model", "tag"):
            overview.multiselect(key=name).set_value(value if name == key else [])
        results["filter change (cached)"].append(_timed(overview.run))
    return results


def browser(root: Path, repeat: int) -> dict[str, list[float]]:
    import socket

    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("--browser needs Debian's chromium (apt-get install -y chromium)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "callscope", "dashboard", "--data", str(root), "--port", str(port)],
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    idle = '[data-testid="stApp"][data-test-script-state="notRunning"]'
    results: dict[str, list[float]] = {
        "browser: first render (new server)": [],
        "browser: first render (warm server, new session)": [],
        "browser: filter change": [],
    }
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        query = "range=Custom+dates&dates=" + "&dates=".join(WINDOW["dates"])
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(executable_path=chromium, headless=True, args=flags)
            page = launched.new_page(viewport={"width": 1440, "height": 1000})

            def drawn() -> None:
                page.wait_for_selector(idle, timeout=120_000)
                page.locator('[data-testid="stVegaLiteChart"]').nth(1).locator("canvas, svg").first.wait_for()
                page.wait_for_selector(idle, timeout=120_000)

            started = time.perf_counter()
            page.goto(f"{url}/?{query}")
            page.wait_for_selector("h1", timeout=120_000)
            drawn()
            results["browser: first render (new server)"].append(time.perf_counter() - started)
            for _ in range(2):  # another visitor: the queries are cached, the page is drawn anew
                other = launched.new_page(viewport={"width": 1440, "height": 1000})
                started = time.perf_counter()
                other.goto(f"{url}/?{query}")
                other.wait_for_selector("h1", timeout=120_000)
                other.wait_for_selector(idle, timeout=120_000)
                other.locator('[data-testid="stVegaLiteChart"]').nth(1).locator(
                    "canvas, svg"
                ).first.wait_for()
                results["browser: first render (warm server, new session)"].append(
                    time.perf_counter() - started
                )
                other.close()
            services = page.get_by_test_id("stSidebar").locator('[data-testid="stMultiSelect"]').first
            for index in range(repeat):
                services.click()
                options = page.get_by_role("option").filter(has_not_text="Select all")
                if index >= options.count():
                    page.keyboard.press("Escape")
                    break
                option = options.nth(0)
                started = time.perf_counter()
                option.click()
                page.keyboard.press("Escape")
                page.wait_for_selector(
                    '[data-testid="stApp"][data-test-script-state="running"]', timeout=10_000
                )
                drawn()
                results["browser: filter change"].append(time.perf_counter() - started)
            launched.close()
    finally:
        server.terminate()
        server.wait(30)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--browser", action="store_true", help="also time the real server in headless Chromium"
    )
    args = parser.parse_args()
    root = dataset_for(args.rows)
    results = queries_alone(root, args.repeat)
    results.update(apptest(root, args.repeat))
    if args.browser:
        results.update(browser(root, args.repeat))
    print(f"| {args.rows:,} calls, 7-day window | median | worst | runs |")
    print("|---|---:|---:|---:|")
    for name, times in results.items():
        if times:
            print(f"| {name} | {statistics.median(times):.2f} s | {max(times):.2f} s | {len(times)} |")


if __name__ == "__main__":
    main()
