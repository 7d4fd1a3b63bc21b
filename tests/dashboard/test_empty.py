"""No calls at all (an empty folder, a folder that does not exist), or none in the window: every page
says what to do instead of failing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dashboard.conftest import OpenApp
from tests.dashboard.elements import assert_healthy, texts

PAGES = ("overview", "cost", "latency", "errors", "suggestions", "explorer", "sql")


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("kind", ["empty", "missing"])
def test_every_page_explains_how_to_get_data(open_app: OpenApp, tmp_path: Path, page: str, kind: str) -> None:
    root = tmp_path / "data"
    if kind == "empty":
        (root / "calls").mkdir(parents=True)
    app = open_app(root, page=page)
    assert_healthy(app)
    assert f"No calls recorded yet in `{root}`." in texts(app)
    code = [block.value for block in app.code]
    assert "import callscope\ncallscope.instrument()" in code
    assert "callscope demo" in code
    assert not app.get("vega_lite_chart")
    if page == "sql":  # the schema is there to write queries against, data or not
        assert "Tables" in texts(app)


def test_no_calls_in_the_window_says_what_the_dataset_has(open_app: OpenApp, data_root: Path) -> None:
    app = open_app(data_root, params={"range": "Custom dates", "dates": ["2020-01-01", "2020-01-07"]})
    assert_healthy(app)
    [warning] = app.warning
    assert warning.value.startswith(
        "No calls match **Jan 01, 2020 – Jan 07, 2020 (UTC)**. The dataset has 234 calls"
    )
    assert "All time shows everything" in warning.value
    assert not app.metric


def test_a_file_instead_of_a_dataset_is_a_message(open_app: OpenApp, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "calls.parquet"
    not_a_folder.write_text("not parquet")
    app = open_app(not_a_folder)
    assert not app.exception
    assert app.error, "a dataset that cannot be read is shown as an error box, not a traceback"
