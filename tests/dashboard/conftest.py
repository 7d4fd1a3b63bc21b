"""Fixtures: the planted call log on disk, an empty and a missing dataset, and AppTest sessions on them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from callscope.analytics import Analytics, connect
from callscope.dashboard.server import APP_PATH
from streamlit.testing.v1 import AppTest

from callscope.config import ENV_DATA_DIR
from tests.dashboard.fixture import CallLog, anchor_now, build

OpenApp = Callable[..., AppTest]


@pytest.fixture(scope="session")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CallLog]:
    """The planted call log written as Parquet: ``(root, log)``."""
    log = build(anchor_now())
    root = log.write(tmp_path_factory.mktemp("dashboard-data"))
    return root, log


@pytest.fixture(scope="session")
def data_root(planted: tuple[Path, CallLog]) -> Path:
    return planted[0]


@pytest.fixture(scope="session")
def anchor(planted: tuple[Path, CallLog]) -> datetime:
    return planted[1].anchor


@pytest.fixture(scope="session")
def analytics(data_root: Path) -> Iterator[Analytics]:
    """The analytics API on the same dataset: what the dashboard's figures must equal."""
    with connect(str(data_root)) as opened:
        yield opened


@pytest.fixture
def open_app(monkeypatch: pytest.MonkeyPatch) -> OpenApp:
    """``open_app(root, page=None, params=None)``: the app on dataset ``root``, run once (on ``page``)."""

    def _open(root: Path, page: str | None = None, params: dict[str, object] | None = None) -> AppTest:
        monkeypatch.setenv(ENV_DATA_DIR, str(root))
        app = AppTest.from_file(str(APP_PATH), default_timeout=90)
        app.query_params = dict(params or {})
        if page is not None:  # page URL paths are the file names, so this works before the first run
            app.switch_page(f"views/{page}.py")
        return app.run()

    return _open
