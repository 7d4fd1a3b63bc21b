"""The Responses API through the real openai SDK: plain, streamed, incomplete, resumed, parsed."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import openai
import pydantic
import pytest
from openai.types.responses import FunctionToolParam

from callscope.demo import OUTPUT_TOKENS_HEADER, Simulator
from callscope.demo.tokens import get_tokenizer

O200K = get_tokenizer()
EXPECTED_EVENTS = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
]


def test_plain_response_has_the_api_shape_and_exact_usage(client: openai.OpenAI) -> None:
    response = client.responses.create(model="gpt-4o-mini", instructions="Be brief.", input="Say hi")
    assert response.id.startswith("resp_")
    assert response.object == "response"
    assert response.status == "completed"
    assert response.incomplete_details is None
    assert response.model == "gpt-4o-mini-2024-07-18"
    assert [item.type for item in response.output] == ["message"]
    assert response.output[0].type == "message"
    assert response.output[0].id.startswith("msg_")
    usage = response.usage
    assert usage is not None
    # developer message (3 + 1 + "Be brief.") + user message (3 + 1 + "Say hi") + 3 priming
    assert usage.input_tokens == 3 + 1 + O200K.count("Be brief.") + 3 + 1 + O200K.count("Say hi") + 3
    assert usage.output_tokens == O200K.count(response.output_text)
    assert usage.input_tokens_details.cached_tokens == 0
    assert usage.output_tokens_details.reasoning_tokens == 0


def test_stream_event_sequence_is_the_apis(client: openai.OpenAI) -> None:
    events: list[Any] = list(client.responses.create(model="gpt-4o", input="Say hi", stream=True))
    kinds = [event.type for event in events]
    collapsed = [kind for i, kind in enumerate(kinds) if i == 0 or kind != kinds[i - 1]]
    assert collapsed == EXPECTED_EVENTS
    assert [event.sequence_number for event in events] == list(range(len(events)))
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    completed = events[-1]
    assert completed.type == "response.completed"
    assert completed.response.output_text == deltas
    assert completed.response.usage
    assert completed.response.usage.output_tokens == O200K.count(deltas)
    assert events[0].response.id == completed.response.id


def test_stream_helper_returns_the_final_response(client: openai.OpenAI) -> None:
    with client.responses.stream(model="gpt-4o-mini", input="Say hi") as stream:
        text = "".join(event.delta for event in stream if event.type == "response.output_text.delta")
        final = stream.get_final_response()
    assert final.output_text == text
    assert final.status == "completed"


def test_max_output_tokens_makes_the_response_incomplete(client: openai.OpenAI) -> None:
    headers = {OUTPUT_TOKENS_HEADER: "300"}
    response = client.responses.create(
        model="gpt-4o", input="Write", max_output_tokens=20, extra_headers=headers
    )
    assert response.status == "incomplete"
    assert response.incomplete_details
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.usage
    assert response.usage.output_tokens == 20 == O200K.count(response.output_text)
    events: list[Any] = list(
        client.responses.create(
            model="gpt-4o", input="Write", max_output_tokens=20, extra_headers=headers, stream=True
        )
    )
    assert events[-1].type == "response.incomplete"
    assert events[-1].response.incomplete_details.reason == "max_output_tokens"


def test_below_the_minimum_max_output_tokens_is_a_bad_request(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model="gpt-4o", input="x", max_output_tokens=5)
    assert (caught.value.param, caught.value.code) == ("max_output_tokens", "integer_below_min_value")


def test_reasoning_model_adds_a_reasoning_item_and_tokens(client: openai.OpenAI) -> None:
    response = client.responses.create(model="o3", input="Think", max_output_tokens=20_000)
    assert [item.type for item in response.output] == ["reasoning", "message"]
    usage = response.usage
    assert usage
    assert usage.output_tokens_details.reasoning_tokens > 0
    assert usage.output_tokens == usage.output_tokens_details.reasoning_tokens + O200K.count(
        response.output_text
    )


def test_retrieve_and_resume_a_stream(simulator: Simulator, client: openai.OpenAI) -> None:
    events: list[Any] = list(client.responses.create(model="gpt-4o-mini", input="Say hi", stream=True))
    response_id = events[0].response.id
    assert client.responses.retrieve(response_id).output_text == events[-1].response.output_text
    resumed = list(client.responses.retrieve(response_id, stream=True, starting_after=3))
    assert [e.sequence_number for e in resumed] == list(range(4, len(events)))
    with client.responses.stream(response_id=response_id, starting_after=5) as stream:
        later = [event.sequence_number for event in stream]
        final = stream.get_final_response()
    assert later == list(range(6, len(events)))
    assert final.id == response_id
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve("resp_missing")


def test_previous_response_id_carries_the_conversation(client: openai.OpenAI) -> None:
    first = client.responses.create(model="gpt-4o-mini", input="Remember: blue.")
    second = client.responses.create(model="gpt-4o-mini", input="Which color?", previous_response_id=first.id)
    assert first.usage
    assert second.usage
    # The first prompt (its reply priming opens the assistant turn), the answer, the end of that turn.
    carried = first.usage.input_tokens + first.usage.output_tokens + 1
    assert second.usage.input_tokens == carried + 3 + 1 + O200K.count("Which color?") + 3


class Weather(pydantic.BaseModel):
    city: str
    celsius: int


def test_function_tools_and_parse(client: openai.OpenAI) -> None:
    tool: FunctionToolParam = {
        "type": "function",
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
        "strict": True,
    }
    response = client.responses.create(model="gpt-4o", input="Weather?", tools=[tool], tool_choice="required")
    calls = [item for item in response.output if item.type == "function_call"]
    assert calls
    assert "city" in json.loads(calls[0].arguments)
    with client.responses.stream(
        model="gpt-4o", input="Weather?", tools=[tool], tool_choice="required"
    ) as stream:
        final = stream.get_final_response()
    assert next(item.type for item in final.output) == "function_call"
    parsed = client.responses.parse(model="gpt-4o-mini", input="Weather in Oslo", text_format=Weather)
    assert isinstance(parsed.output_parsed, Weather)


async def test_async_stream_helper(async_client: openai.AsyncOpenAI) -> None:
    async with async_client.responses.stream(model="gpt-4.1", input="Say hi") as stream:
        async for _ in stream:
            pass
        final = await stream.get_final_response()
    assert final.status == "completed"
    assert final.usage
    assert final.usage.output_tokens == O200K.count(final.output_text)


def test_sse_framing_on_the_wire(simulator: Simulator) -> None:
    response = httpx2.post(
        f"{simulator.base_url}/responses",
        json={"model": "gpt-4o-mini", "input": "hi", "stream": True},
        headers={"Authorization": "Bearer sk-test"},
    )
    assert response.headers["content-type"].startswith("text/event-stream")
    blocks = response.text.strip().split("\n\n")
    assert blocks[0].startswith("event: response.created\ndata: {")
    for block in blocks:
        event, data = block.split("\n")
        assert json.loads(data.removeprefix("data: "))["type"] == event.removeprefix("event: ")
