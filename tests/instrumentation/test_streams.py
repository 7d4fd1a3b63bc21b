"""Streams stay streams, still get usage, and end their span exactly once however they end."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable
from typing import Any

import openai
import pytest
from callscope.instrumentation import OpenAIInstrumentor
from callscope.instrumentation import attributes as A

from tests.instrumentation import fakes
from tests.instrumentation.conftest import Telemetry
from tests.instrumentation.fakes import FakeOpenAI

MESSAGES: Any = [{"role": "user", "content": "Say this is a test"}]


def _dumps(chunks: list[Any]) -> list[Any]:
    # to_dict() drops unset fields, so it also shows whether "usage" appeared on a chunk
    return [c.to_dict() for c in chunks]


def _without_callscope(action: Callable[[openai.OpenAI], Any]) -> Any:
    OpenAIInstrumentor().uninstrument()
    return action(FakeOpenAI().client())


def test_stream_is_transparent_and_gets_usage(traced: Telemetry, fake: FakeOpenAI) -> None:
    stream = fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    assert type(stream) is openai.Stream
    seen = _dumps(list(stream))

    # the request asked for usage on the caller's behalf...
    assert fake.bodies()[0]["stream_options"] == {"include_usage": True}
    # ...but the caller saw exactly what an uninstrumented run sees
    plain = _without_callscope(
        lambda c: _dumps(list(c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)))
    )
    assert seen == plain
    assert all("usage" not in chunk for chunk in seen)

    attrs = traced.attrs()
    assert attrs[A.STREAM] is True
    assert attrs[A.USAGE_INJECTED] is True
    assert attrs[A.INPUT_TOKENS] == 12
    assert attrs[A.OUTPUT_TOKENS] == 5
    assert attrs[A.STREAM_CHUNKS] == len(seen) == 7
    assert attrs[A.STREAM_END] == "exhausted"
    assert attrs[A.STATUS] == "ok"
    assert attrs[A.FINISH_REASONS] == ("stop",)
    assert attrs[A.RESPONSE_ID] == "chatcmpl-CS2"
    assert attrs[A.TIME_TO_FIRST_CHUNK] > 0
    assert attrs[A.TIME_PER_CHUNK_MS] >= 0
    assert attrs[A.COST_USD] == pytest.approx((12 * 0.15 + 5 * 0.6) / 1e6, rel=1e-12)


@pytest.mark.parametrize("compact", [True, False], ids=["openai-json", "spaced-json"])
def test_usage_chunk_is_dropped_before_the_sdk_parses_it(
    traced: Telemetry, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, compact: bool
) -> None:
    from callscope.instrumentation._chat import ChatStream

    seen_by_callscope: list[Any] = []
    original = ChatStream.on_chunk

    def spy(self: ChatStream, chunk: Any) -> bool:
        seen_by_callscope.append(chunk)
        return original(self, chunk)

    monkeypatch.setattr(ChatStream, "on_chunk", spy)
    fake.add(fakes.sse_reply(fakes.sse(fakes.chat_chunks(include_usage=True), compact=compact)))
    chunks = list(fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    assert len(chunks) == 7
    # the SDK never built a model for the usage chunk: it was taken from the raw event
    assert len(seen_by_callscope) == 7
    assert all(c.usage is None for c in seen_by_callscope)
    attrs = traced.attrs()
    assert attrs[A.INPUT_TOKENS] == 12
    assert attrs[A.OUTPUT_TOKENS] == 5


def test_a_usage_chunk_that_is_not_json_is_left_to_the_sdk(traced: Telemetry, fake: FakeOpenAI) -> None:
    body = fakes.sse(fakes.chat_chunks(), done=False) + b'data: {"usage":{broken\n\n'
    fake.add(fakes.sse_reply(body))
    with pytest.raises(json.JSONDecodeError):  # what the SDK raises on bad JSON, callscope or not
        list(fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    assert traced.attrs()[A.STATUS] == "error"


def test_caller_who_asked_for_usage_gets_it(traced: Telemetry, fake: FakeOpenAI) -> None:
    stream = fake.client().chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.prompt_tokens == 12
    attrs = traced.attrs()
    assert A.USAGE_INJECTED not in attrs
    assert attrs[A.STREAM_CHUNKS] == 8
    assert attrs[A.INPUT_TOKENS] == 12


def test_injection_can_be_switched_off(telemetry: Telemetry, fake: FakeOpenAI) -> None:
    telemetry.instrument(inject_stream_usage=False)
    list(fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    assert "stream_options" not in fake.bodies()[0]
    attrs = telemetry.attrs()
    assert A.INPUT_TOKENS not in attrs
    assert A.USAGE_SOURCE not in attrs
    assert A.COST_USD not in attrs
    assert attrs[A.STATUS] == "ok"


async def test_async_stream_is_transparent(traced: Telemetry, fake: FakeOpenAI) -> None:
    stream = await fake.async_client().chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    )
    assert type(stream) is openai.AsyncStream
    seen = [c.to_dict() async for c in stream]
    assert len(seen) == 7
    assert all("usage" not in c for c in seen)
    attrs = traced.attrs()
    assert attrs[A.INPUT_TOKENS] == 12
    assert attrs[A.STREAM_END] == "exhausted"
    assert attrs[A.STATUS] == "ok"


# --- every way a stream can end ------------------------------------------------------------


def _create(fake: FakeOpenAI) -> openai.Stream[Any]:
    return fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)


def test_break_then_close(traced: Telemetry, fake: FakeOpenAI) -> None:
    stream = _create(fake)
    for i, _ in enumerate(stream):
        if i == 1:
            break
    assert traced.spans() == []  # a break alone does not end it: the caller may go on
    stream.close()
    stream.close()
    attrs = traced.attrs()
    assert attrs[A.STREAM_END] == "closed"
    assert attrs[A.STATUS] == "incomplete"
    assert attrs[A.STREAM_CHUNKS] == 2
    assert A.INPUT_TOKENS not in attrs  # the usage chunk never arrived


def test_with_block_exhausted(traced: Telemetry, fake: FakeOpenAI) -> None:
    with _create(fake) as stream:
        chunks = list(stream)
    assert len(chunks) == 7
    attrs = traced.attrs()
    assert attrs[A.STREAM_END] == "exhausted"
    assert attrs[A.STATUS] == "ok"


def test_with_block_left_early(traced: Telemetry, fake: FakeOpenAI) -> None:
    with _create(fake) as stream:
        next(iter(stream))
    attrs = traced.attrs()
    assert attrs[A.STREAM_END] == "closed"
    assert attrs[A.STATUS] == "incomplete"
    assert attrs[A.STREAM_CHUNKS] == 1


def test_closed_before_reading(traced: Telemetry, fake: FakeOpenAI) -> None:
    stream = _create(fake)
    assert stream.response.headers["x-request-id"] == "req_cs_0001"
    stream.close()
    attrs = traced.attrs()
    assert attrs[A.STREAM_END] == "closed"
    assert attrs[A.STREAM_CHUNKS] == 0
    assert A.TIME_TO_FIRST_CHUNK not in attrs


@pytest.mark.parametrize("read", [0, 3])
def test_abandoned_stream_ends_when_collected(traced: Telemetry, fake: FakeOpenAI, read: int) -> None:
    stream = _create(fake)
    iterator = iter(stream)
    for _ in range(read):
        next(iterator)
    del stream, iterator
    gc.collect()
    attrs = traced.attrs()
    assert attrs[A.STREAM_END] == "abandoned"
    assert attrs[A.STATUS] == "incomplete"
    assert attrs[A.STREAM_CHUNKS] == read


def test_cut_mid_way_is_an_error(traced: Telemetry, fake: FakeOpenAI) -> None:
    import httpx2

    head = fakes.sse(fakes.chat_chunks(include_usage=True)[:3], done=False)
    fake.add(
        httpx2.Response(200, stream=fakes.CutStream(head), headers={"content-type": "text/event-stream"})
    )
    stream = _create(fake)
    got: list[Any] = []
    with pytest.raises(openai.APIConnectionError):
        got.extend(stream)
    assert len(got) == 3
    attrs = traced.attrs()
    assert attrs[A.STREAM_END] == "error"
    assert attrs[A.STATUS] == "error"
    assert attrs[A.ERROR_TYPE] == "APIConnectionError"
    assert attrs[A.STREAM_CHUNKS] == 3


def test_stream_ending_without_finish_reason_is_incomplete(traced: Telemetry, fake: FakeOpenAI) -> None:
    body = fakes.sse(fakes.chat_chunks(finish_reason=None), done=False)
    fake.add(fakes.sse_reply(body))
    assert len(list(_create(fake))) == 6
    attrs = traced.attrs()
    assert attrs[A.STREAM_END] == "exhausted"
    assert attrs[A.STATUS] == "incomplete"


def test_error_event_in_stream(traced: Telemetry, fake: FakeOpenAI) -> None:
    body = (
        fakes.sse(fakes.chat_chunks()[:2], done=False)
        + b'data: {"error": {"message": "boom", "code": "server_error"}}\n\n'
    )
    fake.add(fakes.sse_reply(body))
    with pytest.raises(openai.APIError):
        list(_create(fake))
    attrs = traced.attrs()
    assert attrs[A.STATUS] == "error"
    assert attrs[A.ERROR_CODE] == "server_error"
    assert attrs[A.ERROR_MESSAGE] == "boom"


async def test_async_endings(traced: Telemetry, fake: FakeOpenAI) -> None:
    client = fake.async_client()

    async def create() -> openai.AsyncStream[Any]:
        return await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)

    async with await create() as stream:
        async for _ in stream:
            break
    stream = await create()
    await stream.close()
    stream = await create()
    async for _ in stream:
        pass
    stream = await create()
    await stream.__anext__()
    del stream
    gc.collect()
    ends = [dict[str, Any](s.attributes or {})[A.STREAM_END] for s in traced.spans()]
    assert ends == ["closed", "closed", "exhausted", "abandoned"]


async def test_async_cut_mid_way(traced: Telemetry, fake: FakeOpenAI) -> None:
    import httpx2

    head = fakes.sse(fakes.chat_chunks(include_usage=True)[:2], done=False)
    fake.add(
        httpx2.Response(200, stream=fakes.CutStream(head), headers={"content-type": "text/event-stream"})
    )
    stream = await fake.async_client().chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    )
    with pytest.raises(openai.APIConnectionError):
        async for _ in stream:
            pass
    attrs = traced.attrs()
    assert attrs[A.STREAM_END] == "error"
    assert attrs[A.STREAM_CHUNKS] == 2


# --- the chat.completions.stream() helper ------------------------------------------------------


def test_stream_helper_final_completion_is_unchanged(traced: Telemetry, fake: FakeOpenAI) -> None:
    with fake.client().chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
        events = [e.type for e in stream]
        final = stream.get_final_completion()
    OpenAIInstrumentor().uninstrument()
    with FakeOpenAI().client().chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as plain:
        plain_events = [e.type for e in plain]
        plain_final = plain.get_final_completion()
    assert events == plain_events
    assert final.model_dump() == plain_final.model_dump()
    assert final.usage is None  # as without callscope: the caller did not ask for usage
    attrs = traced.attrs()
    assert attrs[A.INPUT_TOKENS] == 12  # ...yet callscope has it
    assert attrs[A.STATUS] == "ok"
    assert attrs[A.STREAM_END] == "exhausted"


def test_stream_helper_left_early_is_closed(traced: Telemetry, fake: FakeOpenAI) -> None:
    with fake.client().chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
        for _ in stream:
            break
    attrs = traced.attrs()
    assert attrs[A.STREAM_END] == "closed"
    assert attrs[A.STATUS] == "incomplete"


async def test_async_stream_helper(traced: Telemetry, fake: FakeOpenAI) -> None:
    async with fake.async_client().chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
        final = await stream.get_final_completion()
    assert final.choices[0].message.content == "This is a test."
    attrs = traced.attrs()
    assert attrs[A.INPUT_TOKENS] == 12
    assert attrs[A.STATUS] == "ok"
