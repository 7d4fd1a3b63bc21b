"""Rule 2: make prompts cache-friendly."""

from __future__ import annotations

import pytest
from callscope.analytics.suggestions import cache_friendly_prefix

from tests.analytics.suggestions.conftest import Open
from tests.analytics.suggestions.dataset import BOOK, Dataset


def chatbot(
    d: Dataset, *, cached: list[int], prefix_chars: int = 8000, start: float = 0.0
) -> list[dict[str, object]]:
    """Calls 60 s apart sharing one 8,000-character (2,000-token) prefix on gpt-4o."""
    return [
        d.call(
            t=start + i * 60,
            prefix_hash="P",
            prefix_chars=prefix_chars,
            request_model="gpt-4o",
            input_tokens=2500,
            cached_input_tokens=hit,
            output_tokens=150,
        )
        for i, hit in enumerate(cached)
    ]


def test_missed_cache_reads_are_priced_at_the_discount(open_ctx: Open) -> None:
    d = Dataset()
    hits = [0, 0, 0, 1024, 0, 0, 0, 0, 0, 0, 0]
    calls = chatbot(d, cached=hits)
    d.call(
        t=2000, prefix_hash="P", prefix_chars=8000, request_model="gpt-4o", input_tokens=2500
    )  # 20 min later
    # Short prefixes (1,000 tokens) cannot be cached at all; an embedding has no prompt cache.
    chatbot(d, cached=[0] * 8, prefix_chars=4000, start=5000)
    d.call(t=6000, prefix_hash="E", prefix_chars=9000, operation="embeddings", input_tokens=3000)
    ctx = open_ctx(d, period_days=1.0)
    [finding] = cache_friendly_prefix.rule(ctx)

    # Time is cut into 5-minute windows (T0 starts one): calls 0-4, 5-9 and 10. The first call of
    # each window warms the cache; the other 8 could each have read ⌊2000/128⌋×128 = 1920 tokens.
    could_hit = [i for i in range(11) if i % 5 != 0 and i < 10]
    cacheable = len(could_hit) * 1920
    missed = sum(max(1920 - hits[i], 0) for i in could_hit)
    assert missed == 7 * 1920 + 896
    price = BOOK.lookup("gpt-4o")
    assert price is not None
    assert price.input_mtok is not None
    assert price.cached_input_mtok is not None
    expected = missed * (price.input_mtok - price.cached_input_mtok) / 1e6
    assert finding.saving_usd_30d == pytest.approx(expected * 30, abs=1e-9)
    assert round(finding.saving_usd_30d, 2) == 0.54
    assert finding.saving_ms_30d == 0
    ev = finding.evidence
    assert ev.calls == 8
    assert ev.prefix_hash == "P"
    assert ev.example_span_ids == tuple(str(c["span_id"]) for c in calls[:5])
    assert ev.details["cacheable_tokens"] == cacheable
    assert ev.details["cached_tokens"] == 1024
    assert ev.details["missed_tokens"] == missed
    assert finding.arithmetic.inputs["missed_tokens"] == missed
    assert finding.arithmetic.prices["gpt-4o"]["cached_input_mtok"] == 1.25


def test_prefix_served_from_the_cache_is_fine(open_ctx: Open) -> None:
    d = Dataset()
    chatbot(d, cached=[0] + [1920] * 10)  # every call after the first hit the cache
    chatbot(d, cached=[0] * 10, prefix_chars=4000, start=9000)  # too short to be cached
    for i in range(10):  # long prefix, but calls an hour apart: the cache would have expired
        d.call(
            t=20_000 + i * 3600, prefix_hash="Q", prefix_chars=8000, request_model="gpt-4o", input_tokens=2500
        )
    assert list(cache_friendly_prefix.rule(open_ctx(d))) == []
