"""Rule 5: right-size the model."""

from __future__ import annotations

from dataclasses import replace

import pytest
from callscope.analytics.suggestions import Thresholds, right_size_model

from tests.analytics.suggestions.conftest import Open
from tests.analytics.suggestions.dataset import Dataset, cost


def classifier(
    d: Dataset, n: int, *, prefix: str, model: str = "gpt-4o", **columns: object
) -> list[dict[str, object]]:
    fields: dict[str, object] = {"request_model": model, "input_tokens": 300, "output_tokens": 2}
    fields.update(columns)
    return [d.call(t=i * 10, prefix_hash=prefix, **fields) for i in range(n)]


def test_price_difference_to_the_smaller_sibling(open_ctx: Open) -> None:
    d = Dataset()
    small = classifier(d, 12, prefix="C", response_model="gpt-4o-2024-08-06", cached_input_tokens=0)
    classifier(d, 1, prefix="C", output_tokens=200)  # one real answer among them: still 12/13 ≥ 80 %
    classifier(d, 10, prefix="D")  # half of prompt D's calls are long: not a classifier
    classifier(d, 10, prefix="D", output_tokens=500)
    classifier(d, 20, prefix="M", model="gpt-4o-mini")  # already the small model
    classifier(d, 20, prefix="T", tool_count=2)  # tool calls are not classification
    ctx = open_ctx(d)
    [finding] = right_size_model.rule(ctx)

    expected = 12 * (cost("gpt-4o", 300, 0, 2) - cost("gpt-4o-mini", 300, 0, 2))
    assert finding.saving_usd_30d == pytest.approx(expected * 30, abs=1e-9)
    assert round(finding.saving_usd_30d, 2) == 0.26
    ev = finding.evidence
    assert (ev.calls, ev.prefix_hash, ev.models) == (12, "C", ("gpt-4o", "gpt-4o-mini"))
    assert ev.example_span_ids == tuple(c["span_id"] for c in small[:5])
    assert ev.details == {"all_calls_with_prompt": 13, "smaller_model": "gpt-4o-mini"}
    assert set(finding.arithmetic.prices) == {"gpt-4o", "gpt-4o-mini"}
    assert "before switching" in finding.summary


def test_mapping_is_a_threshold(open_ctx: Open) -> None:
    d = Dataset()
    classifier(d, 12, prefix="C", model="gpt-4.1")
    assert len(list(right_size_model.rule(open_ctx(d)))) == 1
    no_mapping = replace(Thresholds(), smaller_models=(("gpt-4o", "gpt-4o-mini"),))
    assert list(right_size_model.rule(open_ctx(d, thresholds=no_mapping))) == []


def test_long_answers_find_nothing(open_ctx: Open) -> None:
    d = Dataset()
    classifier(d, 30, prefix="C", output_tokens=40)
    classifier(d, 30, prefix="E", input_tokens=5000)
    classifier(d, 9, prefix="F")  # too few
    assert list(right_size_model.rule(open_ctx(d))) == []
