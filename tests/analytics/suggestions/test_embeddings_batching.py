"""Rule 10: batch embeddings."""

from __future__ import annotations

import pytest
from callscope.analytics.suggestions import embeddings_batching

from tests.analytics.suggestions.conftest import Open
from tests.analytics.suggestions.dataset import Dataset


def embed(d: Dataset, n: int, *, start: float, **columns: object) -> list[dict[str, object]]:
    fields: dict[str, object] = {
        "operation": "embeddings",
        "api": "embeddings",
        "request_model": "text-embedding-3-small",
        "input_messages": 1,
        "input_tokens": 50,
        "output_tokens": None,
        "duration_ms": 200.0,
        "service_name": "search",
    }
    fields.update(columns)
    return [d.call(t=start + i * 2, **fields) for i in range(n)]


def test_round_trips_saved_per_burst(open_ctx: Open) -> None:
    d = Dataset()
    first = embed(d, 24, start=0)
    embed(d, 1, start=50, duration_ms=300.0)  # same 60-second window: 25 calls, slowest 300 ms
    embed(d, 12, start=600)  # a second burst of 12
    embed(d, 9, start=1200)  # 9 calls: not a burst
    ctx = open_ctx(d)
    [finding] = embeddings_batching.rule(ctx)

    burst1 = (24 * 200.0 + 300.0) - 1 * 300.0
    burst2 = 12 * 200.0 - 1 * 200.0
    assert finding.saving_ms_30d == pytest.approx((burst1 + burst2) * 30)
    assert finding.saving_usd_30d == 0
    ev = finding.evidence
    assert ev.calls == 37
    assert ev.details == {"bursts": 2, "batched_requests": 2}
    assert ev.example_span_ids == tuple(c["span_id"] for c in first[:5])
    assert ev.models == ("text-embedding-3-small",)


def test_batched_or_sparse_embeddings_find_nothing(open_ctx: Open) -> None:
    d = Dataset()
    embed(d, 40, start=0, input_messages=64)  # already many inputs per request
    for minute in range(30):
        embed(d, 5, start=minute * 60)
    assert list(embeddings_batching.rule(open_ctx(d))) == []
