"""Reading what an AppTest run drew: metrics, charts (with their data), tables, errors."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
from streamlit.testing.v1 import AppTest


def assert_healthy(app: AppTest) -> None:
    """No exception and no error box on the page."""
    assert not app.exception, [item.value for item in app.exception]
    assert not app.error, [item.value for item in app.error]


def metrics(app: AppTest) -> dict[str, str]:
    """Metric label -> shown value (the first one of each label)."""
    shown: dict[str, str] = {}
    for item in app.metric:
        shown.setdefault(item.label, item.value)
    return shown


def deltas(app: AppTest) -> dict[str, str]:
    return {item.label: item.delta for item in app.metric if item.delta}


def charts(app: AppTest) -> list[dict[str, Any]]:
    """Every chart's Vega-Lite spec, with ``_data`` holding its rows (decoded from Arrow)."""
    specs = []
    for element in app.get("vega_lite_chart"):
        spec = json.loads(element.proto.spec)
        rows: list[dict[str, Any]] = []
        for dataset in element.proto.datasets:
            rows.extend(pa.ipc.open_stream(dataset.data.data).read_all().to_pylist())
        if element.proto.data.data:
            rows.extend(pa.ipc.open_stream(element.proto.data.data).read_all().to_pylist())
        spec["_data"] = rows
        specs.append(spec)
    return specs


def chart(app: AppTest, title_start: str) -> dict[str, Any]:
    """The chart whose title starts with ``title_start``."""
    found = [spec for spec in charts(app) if str(spec.get("title", "")).startswith(title_start)]
    assert len(found) == 1, [spec.get("title") for spec in charts(app)]
    return found[0]


def texts(app: AppTest) -> str:
    """Everything written as markdown, captions, info/warning/success boxes, joined."""
    kinds = ("markdown", "caption", "info", "warning", "success")
    parts = [getattr(item, "value", "") for kind in kinds for item in app.get(kind)]
    return "\n".join(str(part) for part in parts)
