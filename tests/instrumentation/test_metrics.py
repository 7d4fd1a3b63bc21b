"""GenAI client metrics with the conventions' buckets, and the cost counter."""

from __future__ import annotations

from typing import Any

import pytest
from callscope.instrumentation import attributes as A
from callscope.instrumentation._metrics import COST_METRIC, DURATION_BUCKETS, TOKEN_BUCKETS

from tests.instrumentation import fakes
from tests.instrumentation.conftest import Telemetry
from tests.instrumentation.fakes import FakeOpenAI

MESSAGES: Any = [{"role": "user", "content": "hi"}]


def test_metrics_for_plain_and_streamed_calls(traced: Telemetry, fake: FakeOpenAI) -> None:
    client = fake.client()
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    list(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    points = traced.metric_points()

    durations = points["gen_ai.client.operation.duration"]
    assert sum(p.count for p in durations) == 2
    assert tuple(durations[0].explicit_bounds) == DURATION_BUCKETS
    base = durations[0].attributes
    assert base[A.OPERATION] == "chat"
    assert base[A.PROVIDER] == "openai"
    assert base[A.REQUEST_MODEL] == "gpt-4o-mini"
    assert base[A.RESPONSE_MODEL] == "gpt-4o-mini-2024-07-18"
    assert base[A.SERVER_ADDRESS] == "api.openai.com"

    tokens = points["gen_ai.client.token.usage"]
    assert tuple(tokens[0].explicit_bounds) == TOKEN_BUCKETS
    by_type = {p.attributes["gen_ai.token.type"]: p.sum for p in tokens}
    assert by_type == {"input": 2000 + 12, "output": 500 + 5}

    assert sum(p.count for p in points["gen_ai.client.operation.time_to_first_chunk"]) == 1
    per_chunk = points["gen_ai.client.operation.time_per_output_chunk"]
    assert sum(p.count for p in per_chunk) == 1
    assert tuple(per_chunk[0].explicit_bounds) == DURATION_BUCKETS

    (cost,) = points[COST_METRIC]  # both calls: same model, operation and provider
    assert cost.value == pytest.approx(0.0005232 + (12 * 0.15 + 5 * 0.6) / 1e6, rel=1e-9)
    assert dict(cost.attributes) == {
        A.RESPONSE_MODEL: "gpt-4o-mini-2024-07-18",
        A.OPERATION: "chat",
        A.PROVIDER: "openai",
    }
    list(fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    (cost,) = traced.metric_points()[COST_METRIC]
    assert cost.value == pytest.approx(0.0005232 + 2 * (12 * 0.15 + 5 * 0.6) / 1e6, rel=1e-9)  # cumulative


def test_error_type_on_duration(traced: Telemetry, fake: FakeOpenAI) -> None:
    import openai

    fake.add(fakes.error_reply(400, "invalid_request_error", "bad"))
    with pytest.raises(openai.BadRequestError):
        fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    durations = traced.metric_points()["gen_ai.client.operation.duration"]
    assert durations[0].attributes[A.ERROR_TYPE] == "BadRequestError"
    assert "gen_ai.client.token.usage" not in traced.metric_points()  # nothing counted, nothing reported
