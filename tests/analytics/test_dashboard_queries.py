"""The named queries added for the dashboard: ``filter_options`` and ``explorer_calls``."""

from __future__ import annotations

from pathlib import Path

import pytest
from callscope.analytics import Filters, UnknownQuery, connect

from tests.analytics.builders import at, call, write_calls


def _log(root: Path) -> list[dict[str, object]]:
    mini = {"service_name": "api", "request_model": "gpt-4o-mini", "request_hash": "r1", "prefix_hash": "p1"}
    rows = [
        call(start_time=at(0), tags={"feature": "search", "team": "a"}, cost_usd=0.01, **mini),
        call(start_time=at(1), tags={"feature": "search"}, cost_usd=0.03, **mini),
        call(
            start_time=at(2),
            service_name="bot",
            response_model="gpt-4o-2024-08-06",
            tags={"feature": "chat"},
            request_hash="r2",
            prefix_hash="p1",
            cost_usd=0.02,
            status="error",
        ),
        call(start_time=at(3), service_name="bot", request_model="gpt-4o", trace_id="t" * 32, cost_usd=None),
    ]
    write_calls(root, rows)
    return rows


def test_filter_options_lists_services_models_and_tags_by_use(tmp_path: Path) -> None:
    _log(tmp_path)
    with connect(str(tmp_path)) as analytics:
        rows = analytics.run_query("filter_options").rows()
        options = [(row["field"], row["tag_key"], row["value"], row["calls"]) for row in rows]
        assert options == [
            ("model", None, "gpt-4o-mini", 2),
            ("model", None, "gpt-4o", 1),
            ("model", None, "gpt-4o-2024-08-06", 1),  # answered, nothing asked for
            ("service", None, "api", 2),
            ("service", None, "bot", 2),
            ("tag", "feature", "feature=search", 2),
            ("tag", "feature", "feature=chat", 1),
            ("tag", "team", "team=a", 1),
        ]
        # Values of a tag key are capped per key; the filters apply like everywhere else.
        capped = analytics.run_query("filter_options", Filters(services="api"), limit=1).rows()
        assert [(row["field"], row["value"]) for row in capped] == [
            ("model", "gpt-4o-mini"),
            ("service", "api"),
            ("tag", "feature=search"),
            ("tag", "team=a"),
        ]


def test_explorer_calls_selects_pages_and_counts(tmp_path: Path) -> None:
    rows = _log(tmp_path)
    with connect(str(tmp_path)) as analytics:
        every = analytics.run_query("explorer_calls").rows()
        assert [row["span_id"] for row in every] == [row["span_id"] for row in reversed(rows)]  # newest first
        assert {row["matching_calls"] for row in every} == {4}
        picked = f"{rows[0]['span_id']},{rows[2]['span_id']},ffffffffffffffff"
        chosen = analytics.run_query("explorer_calls", span_ids=picked, order="oldest").rows()
        assert [row["span_id"] for row in chosen] == [rows[0]["span_id"], rows[2]["span_id"]]
        assert chosen[0]["matching_calls"] == 2
        assert [r["span_id"] for r in analytics.run_query("explorer_calls", request_hash="r1").rows()] == [
            rows[1]["span_id"],
            rows[0]["span_id"],
        ]
        assert len(analytics.run_query("explorer_calls", prefix_hash="p1")) == 3
        assert [r["span_id"] for r in analytics.run_query("explorer_calls", trace_id="t" * 32).rows()] == [
            rows[3]["span_id"]
        ]
        by_cost = analytics.run_query("explorer_calls", order="cost", limit=2, offset=1).rows()
        assert [row["cost_usd"] for row in by_cost] == [0.02, 0.01]
        assert by_cost[0]["matching_calls"] == 4
        # The filters scope it like any named query.
        failed = analytics.run_query("explorer_calls", Filters(status="error")).rows()
        assert [row["span_id"] for row in failed] == [rows[2]["span_id"]]
        assert failed[0]["tags"] == {"feature": "chat"}
        with pytest.raises(UnknownQuery):
            analytics.run_query("explorer_calls", order="random")
