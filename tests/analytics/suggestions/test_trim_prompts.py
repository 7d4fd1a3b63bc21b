"""Rule 8: trim prompts."""

from __future__ import annotations

import pytest
from callscope.analytics.suggestions import trim_prompts

from tests.analytics.suggestions.conftest import Open
from tests.analytics.suggestions.dataset import BOOK, Dataset


def test_a_quarter_of_a_dominant_prefix_priced_with_its_cached_part(open_ctx: Open) -> None:
    d = Dataset()
    hits = [0, 1024, 1920, 0, 1920, 1920, 0, 2304, 1920, 1920]  # 2304 > the prefix: only 2000 of it counts
    calls = [
        d.call(
            t=i * 3600,
            prefix_hash="L",
            prefix_chars=8000,
            request_model="gpt-4o",
            input_tokens=2500,
            cached_input_tokens=hit,
            output_tokens=100,
        )
        for i, hit in enumerate(hits)
    ]
    ctx = open_ctx(d)
    [finding] = trim_prompts.rule(ctx)

    price = BOOK.lookup("gpt-4o")
    assert price is not None
    prefix = 2000  # 8000 characters / 4
    cached = sum(min(hit, prefix) for hit in hits)
    removed, removed_cached = 0.25 * prefix * 10, 0.25 * cached
    expected = ((removed - removed_cached) * 2.5 + removed_cached * 1.25) / 1e6
    assert (price.input_mtok, price.cached_input_mtok) == (2.5, 1.25)
    assert finding.saving_usd_30d == pytest.approx(expected * 30, abs=1e-9)
    ev = finding.evidence
    assert (ev.calls, ev.prefix_hash) == (10, "L")
    assert ev.details["prefix_share_of_input"] == pytest.approx(0.8)
    assert ev.details["prefix_tokens_estimated_avg"] == pytest.approx(2000)
    assert ev.example_span_ids == tuple(c["span_id"] for c in calls[:5])
    assert finding.arithmetic.inputs["cached_prefix_tokens"] == cached
    assert "assumption" in finding.summary


def test_small_or_minor_prefixes_are_left_alone(open_ctx: Open) -> None:
    d = Dataset()
    for i in range(20):
        d.call(
            t=i, prefix_hash="S", prefix_chars=1600, request_model="gpt-4o", input_tokens=2000
        )  # 400 tokens
        d.call(
            t=i, prefix_hash="M", prefix_chars=8000, request_model="gpt-4o", input_tokens=6000
        )  # 33 % share
    for i in range(9):
        d.call(t=i, prefix_hash="F", prefix_chars=8000, request_model="gpt-4o", input_tokens=2500)  # 9 calls
    assert list(trim_prompts.rule(open_ctx(d))) == []
