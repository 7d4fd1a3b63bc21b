"""Rule 4: cap output length."""

from __future__ import annotations

import math

import pytest
from callscope.analytics.suggestions import cap_output

from tests.analytics.suggestions.conftest import Open
from tests.analytics.suggestions.dataset import BOOK, Dataset


def writer(
    d: Dataset, outputs: list[int], *, model: str = "gpt-4o", **columns: object
) -> list[dict[str, object]]:
    return [
        d.call(t=i * 30, request_model=model, output_tokens=out, duration_ms=10.0 * out, **columns)
        for i, out in enumerate(outputs)
    ]


def p90(values: list[int]) -> int:
    """Nearest rank: the smallest value with at least 90 % of the values at or below it."""
    return sorted(values)[math.ceil(0.9 * len(values)) - 1]


def test_tokens_above_the_p90_are_priced(open_ctx: Open) -> None:
    d = Dataset()
    outputs = [100] * 15 + [150, 180, 400, 900, 1200]
    rows = writer(d, outputs)
    writer(d, [5000] * 5, max_output_tokens=8000)  # capped calls are not this rule's business
    writer(d, [3000] * 5, reasoning_tokens=2500)  # reasoning models are left out
    ctx = open_ctx(d)
    [finding] = cap_output.rule(ctx)

    cap = p90(outputs)
    assert cap == 400
    excess = sum(out - cap for out in outputs if out > cap)
    assert excess == 1300
    price = BOOK.lookup("gpt-4o")
    assert price is not None
    assert price.output_mtok == 10.0
    assert finding.saving_usd_30d == pytest.approx(excess * 10.0 / 1e6 * 30, abs=1e-9)
    expected_ms = sum(10.0 * out * (out - cap) / out for out in outputs if out > cap)
    assert expected_ms == 13000.0
    assert finding.saving_ms_30d == pytest.approx(expected_ms * 30)
    ev = finding.evidence
    assert ev.calls == 2
    assert ev.example_span_ids == (rows[18]["span_id"], rows[19]["span_id"])
    assert ev.details["suggested_cap_tokens"] == 400
    assert ev.details["tail_calls"] == 2
    assert ev.details["truncated_calls"] == 0
    assert ev.details["uncapped_calls"] == 20
    assert finding.arithmetic.inputs["excess_output_tokens"] == 1300
    assert "400" in finding.title


def test_truncated_calls_alone_are_enough(open_ctx: Open) -> None:
    d = Dataset()
    writer(d, [300] * 18)
    cut = writer(d, [4096, 4096], finish_reasons=["length"])
    [finding] = cap_output.rule(open_ctx(d))
    assert finding.evidence.details["truncated_calls"] == 2
    assert finding.evidence.details["suggested_cap_tokens"] == 300
    assert finding.evidence.example_span_ids == tuple(c["span_id"] for c in cut)
    assert finding.saving_usd_30d == pytest.approx(2 * (4096 - 300) * 10.0 / 1e6 * 30, abs=1e-9)


def test_even_outputs_or_too_few_calls_find_nothing(open_ctx: Open) -> None:
    d = Dataset()
    writer(d, list(range(100, 120)))  # p90 = 118, nothing beyond 2 × 118
    writer(d, [100] * 17 + [5000, 5000], model="gpt-4.1", service_name="small")  # 19 uncapped calls only
    writer(
        d, [100] * 18 + [2000, 2000], finish_reasons=["stop"], max_output_tokens=2000, service_name="capped"
    )
    assert list(cap_output.rule(open_ctx(d))) == []
