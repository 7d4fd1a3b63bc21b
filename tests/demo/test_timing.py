"""The latency model, checked on the planned replies (simulated seconds), never on wall-clock time."""

from __future__ import annotations

import json
from typing import Any

import pytest

from callscope.demo import DEFAULT_MODELS, SimulatorConfig
from callscope.demo._engine import Engine, Reply, Request

GPT4O = DEFAULT_MODELS["gpt-4o"]
O3 = DEFAULT_MODELS["o3"]


def plan(engine: Engine, body: dict[str, Any], path: str = "/v1/chat/completions", **headers: str) -> Reply:
    request = Request("POST", path, {}, {"authorization": "Bearer sk", **headers}, json.dumps(body).encode())
    return engine.handle(request)


@pytest.fixture
def engine() -> Engine:
    # No jitter and no queueing: every duration is the profile's arithmetic.
    return Engine(SimulatorConfig(jitter=0, queue_ms=0, network_ms=40))


def chat(content: str, **params: Any) -> dict[str, Any]:
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": content}], **params}


def test_time_to_first_token_grows_with_the_input(engine: Engine) -> None:
    short = plan(engine, chat("hi", stream=True))
    long = plan(engine, chat("hi" + " policy" * 4000, stream=True))
    prompt_short = short.record.input_tokens
    prompt_long = long.record.input_tokens
    assert prompt_long - prompt_short == 4000
    assert short.ready_s == pytest.approx(
        GPT4O.ttft_ms / 1000 + prompt_short / GPT4O.prefill_tokens_per_second
    )
    assert long.ready_s - short.ready_s == pytest.approx(4000 / GPT4O.prefill_tokens_per_second)
    assert short.network_s == pytest.approx(0.040)
    assert short.token_s == pytest.approx(1 / GPT4O.tokens_per_second)


def test_a_plain_answer_is_ready_after_the_whole_generation(engine: Engine) -> None:
    reply = plan(engine, chat("hi"), **{"x-simulator-output-tokens": "150"})
    first = GPT4O.ttft_ms / 1000 + reply.record.input_tokens / GPT4O.prefill_tokens_per_second
    assert reply.record.output_tokens == 150
    assert reply.ready_s == pytest.approx(first + 150 / GPT4O.tokens_per_second)
    assert reply.events is None


def test_cached_input_is_prefilled_faster(engine: Engine) -> None:
    system = {"role": "system", "content": "rules" + " policy" * 3000}
    body = {"model": "gpt-4o", "stream": True, "messages": [system, {"role": "user", "content": "a"}]}
    cold = plan(engine, body)
    warm = plan(engine, {**body, "messages": [system, {"role": "user", "content": "b"}]})
    cached = warm.record.cached_tokens
    assert cold.record.cached_tokens == 0
    assert cached > 2900
    saved = cached / GPT4O.prefill_tokens_per_second * (1 - 1 / GPT4O.cached_prefill_speedup)
    assert cold.ready_s - warm.ready_s == pytest.approx(saved)


def test_reasoning_models_think_before_the_first_token(engine: Engine) -> None:
    reply = plan(engine, {**chat("hi", stream=True), "model": "o3"})
    reasoning = reply.record.reasoning_tokens
    assert reasoning > 0
    expected = O3.ttft_ms / 1000 + reply.record.input_tokens / O3.prefill_tokens_per_second
    assert reply.ready_s == pytest.approx(expected + reasoning / O3.tokens_per_second)


def test_stream_events_are_spaced_by_the_generation_rate(engine: Engine) -> None:
    reply = plan(engine, chat("hi", stream=True), **{"x-simulator-output-tokens": "20"})
    assert reply.events is not None
    offsets = [offset for offset, _ in reply.events]
    assert offsets == sorted(offsets)
    assert offsets[0] == 0  # the role chunk with the first token
    assert offsets[-1] == 20  # [DONE] once all 20 tokens are out


def test_responses_streams_announce_the_response_before_the_first_token(engine: Engine) -> None:
    reply = plan(engine, {"model": "gpt-4o", "input": "hi", "stream": True}, path="/v1/responses")
    assert reply.events is not None
    assert [offset for offset, _ in reply.events[:2]] == [-1, -1]  # created, in_progress: after queueing only
    assert b"response.created" in reply.events[0][1]


def test_service_tiers_change_speed(engine: Engine) -> None:
    default = plan(engine, chat("hi", stream=True))
    flex = plan(engine, chat("hi", stream=True, service_tier="flex"))
    priority = plan(engine, chat("hi", stream=True, service_tier="priority"))
    assert priority.token_s < default.token_s < flex.token_s
    assert priority.ready_s < default.ready_s < flex.ready_s
