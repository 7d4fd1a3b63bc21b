"""Chat Completions through the real SDK: create, parse, the stream helper; sync and async."""

from __future__ import annotations

import json
from typing import Any

import pydantic
import pytest
from callscope.instrumentation import attributes as A

from tests.instrumentation import fakes
from tests.instrumentation.conftest import Telemetry
from tests.instrumentation.fakes import FakeOpenAI

MESSAGES: Any = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Say this is a test"},
]


def test_create_records_the_call(traced: Telemetry, fake: FakeOpenAI) -> None:
    client = fake.client()
    result = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, temperature=0.2, max_completion_tokens=50, seed=7, n=1
    )
    assert result.choices[0].message.content == "Hello there!"

    span = traced.span()
    assert span.name == "chat gpt-4o-mini"
    assert span.kind.name == "CLIENT"
    attrs = traced.attrs()
    assert attrs[A.OPERATION] == "chat"
    assert attrs[A.API_TYPE] == "chat_completions"
    assert attrs[A.PROVIDER] == "openai"
    assert attrs[A.SERVER_ADDRESS] == "api.openai.com"
    assert attrs[A.SERVER_PORT] == 443
    assert attrs[A.REQUEST_MODEL] == "gpt-4o-mini"
    assert attrs[A.RESPONSE_MODEL] == "gpt-4o-mini-2024-07-18"
    assert attrs[A.RESPONSE_ID] == "chatcmpl-CS1"
    assert attrs[A.FINISH_REASONS] == ("stop",)
    assert attrs[A.REQUEST_TEMPERATURE] == 0.2
    assert attrs[A.REQUEST_MAX_TOKENS] == 50
    assert attrs[A.REQUEST_SEED] == 7
    assert A.REQUEST_CHOICE_COUNT not in attrs  # n=1 is not reported
    assert A.STREAM not in attrs
    # tokens exactly as billed, and their cost
    assert attrs[A.INPUT_TOKENS] == 2000
    assert attrs[A.OUTPUT_TOKENS] == 500
    assert attrs[A.CACHED_INPUT_TOKENS] == 1024
    assert attrs[A.REASONING_TOKENS] == 0
    assert attrs[A.USAGE_SOURCE] == "api"
    assert attrs[A.COST_USD] == pytest.approx(0.0005232, rel=1e-12)
    assert attrs[A.PRICE_MODEL] == "gpt-4o-mini"
    assert attrs[A.STATUS] == "ok"
    assert attrs[A.RESPONSE_SERVICE_TIER] == "default"
    assert attrs[A.SYSTEM_FINGERPRINT] == "fp_cs1"
    # request shape without content
    assert attrs[A.REQUEST_MESSAGE_COUNT] == 2
    assert attrs[A.REQUEST_INPUT_CHARS] == len("You are terse.") + len("Say this is a test")
    assert attrs[A.REQUEST_PREFIX_CHARS] == len("You are terse.")
    assert len(attrs[A.REQUEST_HASH]) == 32
    assert len(attrs[A.PREFIX_HASH]) == 32
    # headers and the single attempt
    assert attrs[A.REQUEST_ID] == "req_cs_0001"
    assert attrs[A.SERVER_PROCESSING_MS] == 321.0
    assert attrs[A.RATELIMIT_REMAINING_TOKENS] == 199950
    assert attrs[A.RATELIMIT_LIMIT_REQUESTS] == 10000
    assert attrs[A.RATELIMIT_RESET_REQUESTS_MS] == 6.0
    assert attrs[A.RATELIMIT_RESET_TOKENS_MS] == 90500.0
    assert attrs[A.HTTP_STATUS] == 200
    assert attrs[A.ATTEMPTS] == 1
    assert attrs[A.ATTEMPT_STATUSES] == ("200",)
    assert attrs[A.RETRY_WAIT_MS] == 0.0
    assert A.RETRY_AFTER_MS not in attrs
    assert A.INPUT_MESSAGES not in attrs
    assert A.OUTPUT_MESSAGES not in attrs


async def test_async_create_matches_sync(traced: Telemetry, fake: FakeOpenAI) -> None:
    client = fake.async_client()
    result = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert result.choices[0].message.content == "Hello there!"
    attrs = traced.attrs()
    assert attrs[A.INPUT_TOKENS] == 2000
    assert attrs[A.CACHED_INPUT_TOKENS] == 1024
    assert attrs[A.COST_USD] == pytest.approx(0.0005232, rel=1e-12)
    assert attrs[A.ATTEMPTS] == 1
    assert attrs[A.REQUEST_ID] == "req_cs_0001"


def test_same_request_same_hash_and_noise_ignored(traced: Telemetry, fake: FakeOpenAI) -> None:
    client = fake.client()
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, user="alice")
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, user="bob", metadata={"a": "b"})
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[MESSAGES[0], {"role": "user", "content": "x"}]
    )
    first, second, third = (dict[str, Any](s.attributes or {}) for s in traced.spans())
    assert first[A.REQUEST_HASH] == second[A.REQUEST_HASH]  # user/metadata do not change the answer
    assert first[A.REQUEST_HASH] != third[A.REQUEST_HASH]
    assert first[A.PREFIX_HASH] == third[A.PREFIX_HASH]  # same system prompt


class Answer(pydantic.BaseModel):
    value: int


@pytest.mark.parametrize("is_async", [False, True])
async def test_parse(traced: Telemetry, fake: FakeOpenAI, is_async: bool) -> None:
    fake.add(fakes.json_reply(fakes.chat_completion(json.dumps({"value": 42}))))
    kwargs = {"model": "gpt-4o-mini", "messages": MESSAGES, "response_format": Answer}
    if is_async:
        parsed = await fake.async_client().chat.completions.parse(**kwargs)
    else:
        parsed = fake.client().chat.completions.parse(**kwargs)
    assert parsed.choices[0].message.parsed == Answer(value=42)
    attrs = traced.attrs()
    assert attrs[A.REQUEST_RESPONSE_FORMAT] == "json_schema"
    assert attrs[A.OUTPUT_TYPE] == "json"
    assert attrs[A.INPUT_TOKENS] == 2000
    assert attrs[A.STATUS] == "ok"


def test_parse_failure_after_billing_keeps_tokens(traced: Telemetry, fake: FakeOpenAI) -> None:
    import openai

    fake.add(fakes.json_reply(fakes.chat_completion('{"value": 4', finish_reason="length")))
    with pytest.raises(openai.LengthFinishReasonError):
        fake.client().chat.completions.parse(model="gpt-4o-mini", messages=MESSAGES, response_format=Answer)
    attrs = traced.attrs()
    assert attrs[A.STATUS] == "error"
    assert attrs[A.ERROR_TYPE] == "LengthFinishReasonError"
    assert attrs[A.INPUT_TOKENS] == 2000  # the API billed them even though parsing failed
    assert attrs[A.FINISH_REASONS] == ("length",)


def test_tools_and_service_tier(traced: Telemetry, fake: FakeOpenAI) -> None:
    tools: Any = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    client = fake.client()
    client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES[1:], tools=tools, service_tier="flex"
    )
    attrs = traced.attrs()
    assert attrs[A.REQUEST_TOOL_COUNT] == 1
    assert attrs[A.REQUEST_SERVICE_TIER] == "flex"
    assert attrs[A.PREFIX_HASH]  # tools alone are a prefix
    assert attrs[A.REQUEST_PREFIX_CHARS] > 0
    assert A.CACHED_INPUT_TOKENS in attrs


def test_legacy_completions(traced: Telemetry, fake: FakeOpenAI) -> None:
    payload = {
        "id": "cmpl-1",
        "object": "text_completion",
        "created": 1,
        "model": "gpt-3.5-turbo-instruct",
        "choices": [{"text": "hi", "index": 0, "logprobs": None, "finish_reason": "length"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 16, "total_tokens": 19},
    }
    fake.add(fakes.json_reply(payload))
    fake.client().completions.create(model="gpt-3.5-turbo-instruct", prompt="Say", max_tokens=16)
    attrs = traced.attrs()
    assert traced.span().name == "text_completion gpt-3.5-turbo-instruct"
    assert attrs[A.OPERATION] == "text_completion"
    assert attrs[A.INPUT_TOKENS] == 3
    assert attrs[A.OUTPUT_TOKENS] == 16
    assert attrs[A.FINISH_REASONS] == ("length",)
    assert attrs[A.REQUEST_MAX_TOKENS] == 16


def test_uninstrumented_paths_are_not_traced(traced: Telemetry, fake: FakeOpenAI) -> None:
    import httpx2

    fake.add(httpx2.Response(200, json={"object": "list", "data": []}))
    fake.client().models.list()
    assert traced.spans() == []


def test_embeddings(traced: Telemetry, fake: FakeOpenAI) -> None:
    result = fake.client().embeddings.create(
        model="text-embedding-3-small", input=["hello", "world!"], dimensions=4, encoding_format="float"
    )
    assert len(result.data[0].embedding) == 4
    span = traced.span()
    assert span.name == "embeddings text-embedding-3-small"
    attrs = traced.attrs()
    assert attrs[A.OPERATION] == "embeddings"
    assert attrs[A.INPUT_TOKENS] == 8
    assert A.OUTPUT_TOKENS not in attrs
    assert attrs[A.EMBEDDINGS_DIMENSION_COUNT] == 4
    assert attrs[A.REQUEST_ENCODING_FORMATS] == ("float",)
    assert attrs[A.REQUEST_MESSAGE_COUNT] == 2
    assert attrs[A.REQUEST_INPUT_CHARS] == 11
    assert attrs[A.COST_USD] == pytest.approx(8 * 0.02 / 1e6, rel=1e-12)
    assert A.PREFIX_HASH not in attrs


async def test_async_embeddings(traced: Telemetry, fake: FakeOpenAI) -> None:
    await fake.async_client().embeddings.create(model="text-embedding-3-small", input="hello")
    attrs = traced.attrs()
    assert attrs[A.INPUT_TOKENS] == 8
    assert attrs[A.STATUS] == "ok"
