"""``with_raw_response`` / ``with_streaming_response``, touched before or after instrument()."""

from __future__ import annotations

import gc
from typing import Any

import openai
import pytest
from callscope.instrumentation import attributes as A

from tests.instrumentation.conftest import Telemetry
from tests.instrumentation.fakes import FakeOpenAI

MESSAGES: Any = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize("touch_first", [True, False], ids=["touched-before", "touched-after"])
def test_raw_response_any_order(telemetry: Telemetry, fake: FakeOpenAI, touch_first: bool) -> None:
    client = fake.client()
    if touch_first:
        # binds the resource methods (cached_property) before callscope patches anything
        raw_create = client.chat.completions.with_raw_response.create
        streaming_create = client.chat.completions.with_streaming_response.create
        embed = client.embeddings.with_raw_response.create
    telemetry.instrument()
    if not touch_first:
        raw_create = client.chat.completions.with_raw_response.create
        streaming_create = client.chat.completions.with_streaming_response.create
        embed = client.embeddings.with_raw_response.create

    raw = raw_create(model="gpt-4o-mini", messages=MESSAGES)
    assert raw.headers["x-request-id"] == "req_cs_0001"
    completion = raw.parse()
    assert completion.choices[0].message.content == "Hello there!"
    assert raw.parse() is completion  # the SDK's cache: callscope's parse did not replace the object
    with streaming_create(model="gpt-4o-mini", messages=MESSAGES) as response:
        usage = response.parse().usage
        assert usage is not None
        assert usage.prompt_tokens == 2000
    embed(model="text-embedding-3-small", input="x").parse()

    spans = [dict[str, Any](s.attributes or {}) for s in telemetry.spans()]
    assert [s[A.OPERATION] for s in spans] == ["chat", "chat", "embeddings"]
    for attrs in spans:
        assert attrs[A.STATUS] == "ok"
        assert attrs[A.INPUT_TOKENS] in (2000, 8)
        assert attrs[A.ATTEMPTS] == 1


def test_raw_response_never_parsed_still_recorded(traced: Telemetry, fake: FakeOpenAI) -> None:
    raw = fake.client().chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES)
    assert raw.status_code == 200
    attrs = traced.attrs()  # ended at once: the body was already read
    assert attrs[A.INPUT_TOKENS] == 2000
    assert attrs[A.REQUEST_ID] == "req_cs_0001"


def test_raw_stream(traced: Telemetry, fake: FakeOpenAI) -> None:
    raw = fake.client().chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    )
    assert traced.spans() == []
    stream = raw.parse()
    assert isinstance(stream, openai.Stream)
    chunks = list(stream)
    assert len(chunks) == 7
    assert all(c.usage is None for c in chunks)
    attrs = traced.attrs()
    assert attrs[A.INPUT_TOKENS] == 12
    assert attrs[A.STREAM_END] == "exhausted"


def test_streaming_response_with_sse(traced: Telemetry, fake: FakeOpenAI) -> None:
    client = fake.client()
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    ) as response:
        chunks = list(response.parse())
    assert len(chunks) == 7
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    ) as response:
        lines = list(response.iter_lines())  # raw SSE: callscope sees no chunks, only the end
    assert any(line.startswith("data: ") for line in lines)
    parsed, raw_lines = (dict[str, Any](s.attributes or {}) for s in traced.spans())
    assert parsed[A.INPUT_TOKENS] == 12
    assert parsed[A.STATUS] == "ok"
    assert raw_lines[A.STATUS] == "ok"
    assert A.INPUT_TOKENS not in raw_lines


def test_streaming_response_left_unread(traced: Telemetry, fake: FakeOpenAI) -> None:
    with fake.client().chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    ) as response:
        assert response.headers["x-request-id"] == "req_cs_0001"
    attrs = traced.attrs()
    assert attrs[A.STATUS] == "incomplete"


def test_raw_stream_never_parsed_is_abandoned(traced: Telemetry, fake: FakeOpenAI) -> None:
    raw = fake.client().chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    )
    del raw
    gc.collect()
    attrs = traced.attrs()
    assert attrs[A.STATUS] == "incomplete"
    assert attrs[A.STREAM_END] == "abandoned"


async def test_async_raw_and_streaming(traced: Telemetry, fake: FakeOpenAI) -> None:
    client = fake.async_client()
    raw = await client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES)
    assert raw.parse().choices[0].message.content == "Hello there!"
    async with client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=MESSAGES
    ) as response:
        completion = await response.parse()
    assert completion.usage is not None
    async with client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    ) as response:
        stream = await response.parse()
        assert isinstance(stream, openai.AsyncStream)
        n = len([c async for c in stream])
    assert n == 7
    spans = [dict[str, Any](s.attributes or {}) for s in traced.spans()]
    assert [s[A.INPUT_TOKENS] for s in spans] == [2000, 2000, 12]
    assert all(s[A.STATUS] == "ok" for s in spans)


def test_responses_and_parse_through_raw(traced: Telemetry, fake: FakeOpenAI) -> None:
    client = fake.client()
    raw = client.responses.with_raw_response.create(model="gpt-4o-mini", input="x")
    assert raw.parse().output_text == "This is a test."
    with client.responses.with_streaming_response.create(model="gpt-4o-mini", input="x", stream=True) as r:
        events = list(r.parse())
    assert events[-1].type == "response.completed"
    first, second = (dict[str, Any](s.attributes or {}) for s in traced.spans())
    assert first[A.INPUT_TOKENS] == second[A.INPUT_TOKENS] == 2000
