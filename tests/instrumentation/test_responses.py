"""The Responses API: create, parse, streams, the stream helper and resuming through retrieve."""

from __future__ import annotations

import json
from typing import Any

import openai
import pydantic
import pytest
from callscope.instrumentation import OpenAIInstrumentor
from callscope.instrumentation import attributes as A

from tests.instrumentation import fakes
from tests.instrumentation.conftest import Telemetry
from tests.instrumentation.fakes import FakeOpenAI

TOOLS: Any = [{"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {}}}]


def test_create(traced: Telemetry, fake: FakeOpenAI) -> None:
    result = fake.client().responses.create(
        model="gpt-4o-mini",
        instructions="You are a helpful assistant.",
        input=[{"role": "user", "content": "Say this is a test"}],
        tools=TOOLS,
        max_output_tokens=100,
        reasoning={"effort": "low"},
    )
    assert result.output_text == "This is a test."
    span = traced.span()
    assert span.name == "chat gpt-4o-mini"
    attrs = traced.attrs()
    assert attrs[A.API_TYPE] == "responses"
    assert attrs[A.RESPONSE_ID] == "resp_CS3"
    assert attrs[A.FINISH_REASONS] == ("stop",)
    assert attrs[A.INPUT_TOKENS] == 2000
    assert attrs[A.CACHED_INPUT_TOKENS] == 1024
    assert attrs[A.OUTPUT_TOKENS] == 500
    assert attrs[A.COST_USD] == pytest.approx(0.0005232, rel=1e-12)
    assert attrs[A.REQUEST_MAX_TOKENS] == 100
    assert attrs[A.REQUEST_REASONING_EFFORT] == "low"
    assert attrs[A.REQUEST_TOOL_COUNT] == 1
    assert attrs[A.REQUEST_MESSAGE_COUNT] == 1
    assert attrs[A.REQUEST_PREFIX_CHARS] > len("You are a helpful assistant.")  # instructions + tools
    assert attrs[A.PREFIX_HASH]
    assert attrs[A.STATUS] == "ok"


def test_incomplete_and_failed_responses(traced: Telemetry, fake: FakeOpenAI) -> None:
    incomplete = fakes.response_object(status="incomplete", incomplete_reason="max_output_tokens")
    failed = fakes.response_object(status="failed")
    failed["error"] = {"code": "server_error", "message": "The model failed"}
    fake.add(fakes.json_reply(incomplete), fakes.json_reply(failed))
    client = fake.client()
    client.responses.create(model="gpt-4o-mini", input="hi")
    client.responses.create(model="gpt-4o-mini", input="hi")
    first, second = (dict[str, Any](s.attributes or {}) for s in traced.spans())
    assert first[A.FINISH_REASONS] == ("length",)
    assert first[A.STATUS] == "ok"
    assert second[A.STATUS] == "error"
    assert second[A.ERROR_TYPE] == "response.failed"
    assert second[A.ERROR_CODE] == "server_error"


class Answer(pydantic.BaseModel):
    value: int


async def test_parse_sync_and_async(traced: Telemetry, fake: FakeOpenAI) -> None:
    text = json.dumps({"value": 3})
    fake.add(fakes.json_reply(fakes.response_object(text)), fakes.json_reply(fakes.response_object(text)))
    parsed = fake.client().responses.parse(model="gpt-4o-mini", input="n?", text_format=Answer)
    assert parsed.output_parsed == Answer(value=3)
    parsed = await fake.async_client().responses.parse(model="gpt-4o-mini", input="n?", text_format=Answer)
    assert parsed.output_parsed == Answer(value=3)
    for span in traced.spans():
        attrs = dict[str, Any](span.attributes or {})
        assert attrs[A.REQUEST_RESPONSE_FORMAT] == "json_schema"
        assert attrs[A.INPUT_TOKENS] == 2000


def test_stream(traced: Telemetry, fake: FakeOpenAI) -> None:
    stream = fake.client().responses.create(model="gpt-4o-mini", input="Say this is a test", stream=True)
    assert isinstance(stream, openai.Stream)
    events = [e.type for e in stream]
    assert events[-1] == "response.completed"
    assert "stream_options" not in fake.bodies()[0]  # nothing injected: usage comes in response.completed
    attrs = traced.attrs()
    assert attrs[A.INPUT_TOKENS] == 2000
    assert attrs[A.STREAM_CHUNKS] == len(events)
    assert attrs[A.STREAM_END] == "exhausted"
    assert attrs[A.STATUS] == "ok"
    assert attrs[A.TIME_TO_FIRST_CHUNK] > 0  # first output delta, not response.created
    assert attrs[A.RESPONSE_MODEL] == "gpt-4o-mini-2024-07-18"


def test_stream_without_terminal_event_is_incomplete(traced: Telemetry, fake: FakeOpenAI) -> None:
    fake.add(fakes.sse_reply(fakes.sse(fakes.response_events(terminal=False), named=True, done=False)))
    list(fake.client().responses.create(model="gpt-4o-mini", input="x", stream=True))
    attrs = traced.attrs()
    assert attrs[A.STATUS] == "incomplete"
    assert attrs[A.RESPONSE_ID] == "resp_CS3"  # from response.created
    assert A.INPUT_TOKENS not in attrs


def test_stream_helper_and_final_response(traced: Telemetry, fake: FakeOpenAI) -> None:
    with fake.client().responses.stream(model="gpt-4o-mini", input="Say this is a test") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text == "This is a test."
    attrs = traced.attrs()
    assert attrs[A.INPUT_TOKENS] == 2000
    assert attrs[A.STATUS] == "ok"


def test_stream_resumed_through_retrieve(traced: Telemetry, fake: FakeOpenAI) -> None:
    client = fake.client()
    with client.responses.stream(response_id="resp_CS3", starting_after=5) as stream:
        numbers = [e.sequence_number for e in stream]
        final = stream.get_final_response()
    assert numbers[0] == 6
    assert final.output_text == "This is a test."
    request = fake.requests[0]
    assert request.method == "GET"
    assert request.url.path.endswith("/responses/resp_CS3")
    span = traced.span()
    attrs = traced.attrs()
    assert span.name == "chat"
    assert attrs[A.STREAM_RESUMED] is True
    assert A.REQUEST_MODEL not in attrs  # the GET names no model...
    assert attrs[A.RESPONSE_MODEL] == "gpt-4o-mini-2024-07-18"  # ...the events do
    assert attrs[A.INPUT_TOKENS] == 2000
    assert attrs[A.STATUS] == "ok"


def test_plain_retrieve_is_not_a_generation(traced: Telemetry, fake: FakeOpenAI) -> None:
    fake.add(fakes.json_reply(fakes.response_object()))
    fake.client().responses.retrieve("resp_CS3")
    assert traced.spans() == []  # fetching a stored response bills nothing: no call span


async def test_async_stream_helper_and_resume(traced: Telemetry, fake: FakeOpenAI) -> None:
    client = fake.async_client()
    async with client.responses.stream(model="gpt-4o-mini", input="x") as stream:
        final = await stream.get_final_response()
    async with client.responses.stream(response_id="resp_CS3", starting_after=3) as stream:
        async for _ in stream:
            pass
    fresh, resumed = (dict[str, Any](s.attributes or {}) for s in traced.spans())
    assert final.output_text == "This is a test."
    assert fresh[A.STATUS] == resumed[A.STATUS] == "ok"
    assert resumed[A.STREAM_RESUMED] is True
    assert A.STREAM_RESUMED not in fresh


def test_events_identical_to_uninstrumented(traced: Telemetry, fake: FakeOpenAI) -> None:
    seen = [e.to_dict() for e in fake.client().responses.create(model="gpt-4o-mini", input="x", stream=True)]
    OpenAIInstrumentor().uninstrument()
    plain = [
        e.to_dict()
        for e in FakeOpenAI().client().responses.create(model="gpt-4o-mini", input="x", stream=True)
    ]
    assert seen == plain
