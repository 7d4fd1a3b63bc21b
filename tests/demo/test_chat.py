"""Chat Completions through the real openai SDK, sync and async."""

from __future__ import annotations

import json
from collections.abc import Callable

import openai
import pydantic
import pytest
from openai.types.chat import ChatCompletionFunctionToolParam, ChatCompletionMessageParam

from callscope.demo import OUTPUT_TOKENS_HEADER, ModelStats, Simulator
from callscope.demo.tokens import ApproximateTokenizer, get_tokenizer

O200K = get_tokenizer()
HELLO: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "Hello world, how are you?"}
]  # 7 tokens + 3 + 1 (role) + 3 priming
HELLO_TOKENS = 14
WEATHER_TOOL: ChatCompletionFunctionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}


def test_plain_completion_has_the_api_shape_and_exact_usage(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=HELLO)
    completion = raw.parse()
    assert completion.id.startswith("chatcmpl-")
    assert len(completion.id) == len("chatcmpl-") + 29
    assert completion.object == "chat.completion"
    assert completion.model == "gpt-4o-mini-2024-07-18"
    assert completion.system_fingerprint
    assert completion.system_fingerprint.startswith("fp_")
    assert completion.service_tier == "default"
    choice = completion.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    usage = completion.usage
    assert usage is not None
    assert usage.prompt_tokens == HELLO_TOKENS
    assert usage.completion_tokens == O200K.count(choice.message.content or "")
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.prompt_tokens_details
    assert usage.prompt_tokens_details.cached_tokens == 0
    assert usage.completion_tokens_details
    assert usage.completion_tokens_details.reasoning_tokens == 0
    assert completion._request_id == raw.headers["x-request-id"]
    assert raw.headers["x-request-id"].startswith("req_")
    assert len(raw.headers["x-request-id"]) == 36
    assert int(raw.headers["openai-processing-ms"]) >= 0
    assert raw.headers["openai-version"] == "2020-10-01"


def test_stream_with_usage_matches_the_plain_answer(client: openai.OpenAI) -> None:
    plain = client.chat.completions.create(model="gpt-4o", messages=HELLO)
    stream = client.chat.completions.create(
        model="gpt-4o", messages=HELLO, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-2].choices[0].finish_reason == "stop"
    final = chunks[-1]
    assert final.choices == []
    assert final.usage is not None
    assert all(c.usage is None for c in chunks[:-1])
    assert plain.usage is not None
    assert final.usage.completion_tokens == O200K.count(text) == plain.usage.completion_tokens
    assert len({c.id for c in chunks}) == 1


def test_stream_without_include_usage_has_no_usage_chunk(client: openai.OpenAI) -> None:
    chunks = list(client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, stream=True))
    assert all(c.choices for c in chunks)
    assert all(c.usage is None for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_n_choices_stream_side_by_side_and_sum_their_tokens(client: openai.OpenAI) -> None:
    plain = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, n=3)
    assert [c.index for c in plain.choices] == [0, 1, 2]
    texts = [c.message.content or "" for c in plain.choices]
    assert len(set(texts)) == 3
    assert plain.usage
    assert plain.usage.completion_tokens == sum(O200K.count(t) for t in texts)
    streamed = ["", "", ""]
    for chunk in client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, n=3, stream=True):
        for choice in chunk.choices:
            streamed[choice.index] += choice.delta.content or ""
    assert streamed == texts


def test_length_cap_truncates_at_exactly_max_tokens(client: openai.OpenAI) -> None:
    long_answer = {OUTPUT_TOKENS_HEADER: "200"}
    for completion in (
        client.chat.completions.create(
            model="gpt-4o-mini", messages=HELLO, extra_headers=long_answer, max_tokens=12
        ),
        client.chat.completions.create(
            model="gpt-4o-mini", messages=HELLO, extra_headers=long_answer, max_completion_tokens=12
        ),
    ):
        assert completion.choices[0].finish_reason == "length"
        assert completion.usage
        assert completion.usage.completion_tokens == 12
        assert O200K.count(completion.choices[0].message.content or "") == 12


def test_output_tokens_header_fixes_the_answer_length(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o", messages=HELLO, extra_headers={OUTPUT_TOKENS_HEADER: "1"}
    )
    assert completion.usage
    assert completion.usage.completion_tokens == 1
    assert completion.choices[0].finish_reason == "stop"


def test_reasoning_model_reports_reasoning_tokens_and_rejects_max_tokens(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model="o4-mini", messages=HELLO, max_completion_tokens=5000)
    usage = completion.usage
    assert usage
    assert usage.completion_tokens_details
    reasoning = usage.completion_tokens_details.reasoning_tokens or 0
    assert reasoning > 0
    assert usage.completion_tokens == reasoning + O200K.count(completion.choices[0].message.content or "")
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="o4-mini", messages=HELLO, max_tokens=50)
    assert (caught.value.code, caught.value.param) == ("unsupported_parameter", "max_tokens")


def test_required_tool_call_has_schema_valid_arguments(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=HELLO,
        tools=[WEATHER_TOOL],
        tool_choice="required",
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls or []
    assert calls
    assert all(call.id.startswith("call_") for call in calls)
    for call in calls:
        assert call.type == "function"
        assert call.function.name == "get_weather"
        arguments = json.loads(call.function.arguments)
        assert set(arguments) == {"city", "unit"}
        assert arguments["unit"] in ("c", "f")


def test_auto_tool_choice_is_decided_by_the_seed_and_answers_after_a_tool_result(
    client: openai.OpenAI,
) -> None:
    decisions = set()
    for i in range(12):
        messages: list[ChatCompletionMessageParam] = [
            {"role": "user", "content": f"What is the weather in city number {i}?"}
        ]
        completion = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=messages,
            tools=[WEATHER_TOOL],
        )
        decisions.add(completion.choices[0].finish_reason)
    assert decisions == {"stop", "tool_calls"}
    follow_up: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function",
                                               "function": {"name": "get_weather", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "18C, sunny"},
    ]  # fmt: skip
    answer = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=follow_up,
        tools=[WEATHER_TOOL],
    )
    assert answer.choices[0].finish_reason == "stop"
    assert answer.choices[0].message.content


def test_stream_helper_accumulates_text_and_tool_calls(client: openai.OpenAI) -> None:
    with client.chat.completions.stream(
        model="gpt-4o-mini",
        messages=HELLO,
        stream_options={"include_usage": True},
    ) as stream:
        deltas = [event.delta for event in stream if event.type == "content.delta"]
        final = stream.get_final_completion()
    assert "".join(deltas) == final.choices[0].message.content
    assert final.usage
    assert final.usage.completion_tokens == O200K.count("".join(deltas))
    with client.chat.completions.stream(
        model="gpt-4o-mini",
        messages=HELLO,
        tools=[WEATHER_TOOL],
        tool_choice="required",
    ) as stream:
        final = stream.get_final_completion()
    calls = final.choices[0].message.tool_calls or []
    assert calls
    assert json.loads(calls[0].function.arguments)["unit"] in ("c", "f")


class Verdict(pydantic.BaseModel):
    label: str
    confidence: float
    reasons: list[str]


def test_parse_with_a_pydantic_model(client: openai.OpenAI) -> None:
    completion = client.chat.completions.parse(model="gpt-4o-mini", messages=HELLO, response_format=Verdict)
    parsed = completion.choices[0].message.parsed
    assert isinstance(parsed, Verdict)
    assert parsed.reasons
    tool = openai.pydantic_function_tool(Verdict, name="record_verdict")
    with_tool = client.chat.completions.parse(
        model="gpt-4o-mini", messages=HELLO, tools=[tool], tool_choice="required"
    )
    calls = with_tool.choices[0].message.tool_calls or []
    assert calls
    assert isinstance(calls[0].function.parsed_arguments, Verdict)


def test_the_approximate_tokenizer_keeps_usage_consistent(start_simulator: Callable[..., Simulator]) -> None:
    sim = start_simulator(exact_tokens=False)
    approx = ApproximateTokenizer()
    with openai.OpenAI(base_url=sim.base_url, api_key="sk", max_retries=0) as sdk:
        text, usage = "", None
        for chunk in sdk.chat.completions.create(
            model="gpt-4o", messages=HELLO, stream=True, stream_options={"include_usage": True}
        ):
            text += "".join(c.delta.content or "" for c in chunk.choices)
            usage = chunk.usage or usage
    assert usage is not None
    assert usage.completion_tokens == approx.count(text)
    assert usage.prompt_tokens == 3 + approx.count("user") + approx.count("Hello world, how are you?") + 3


def test_json_object_mode_needs_the_word_json(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="gpt-4o", messages=HELLO, response_format={"type": "json_object"}
        )
    assert caught.value.param == "messages"
    completion = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Answer in JSON."}],
        response_format={"type": "json_object"},
    )
    assert isinstance(json.loads(completion.choices[0].message.content or ""), dict)


def test_service_tier_is_echoed(client: openai.OpenAI) -> None:
    assert (
        client.chat.completions.create(model="gpt-4o", messages=HELLO, service_tier="flex").service_tier
        == "flex"
    )
    priority = client.chat.completions.create(model="gpt-4o", messages=HELLO, service_tier="priority")
    assert priority.service_tier == "priority"


async def test_async_client_plain_and_stream(async_client: openai.AsyncOpenAI) -> None:
    plain = await async_client.chat.completions.create(model="gpt-4.1-mini", messages=HELLO)
    stream = await async_client.chat.completions.create(
        model="gpt-4.1-mini", messages=HELLO, stream=True, stream_options={"include_usage": True}
    )
    text, usage = "", None
    async for chunk in stream:
        text += "".join(c.delta.content or "" for c in chunk.choices)
        usage = chunk.usage or usage
    assert text == plain.choices[0].message.content
    assert usage is not None
    assert usage.completion_tokens == O200K.count(text)


def test_stats_count_what_was_served(simulator: Simulator, client: openai.OpenAI) -> None:
    before = simulator.stats()
    completion = client.chat.completions.create(model="gpt-4.1-nano", messages=HELLO)
    after = simulator.stats()
    assert completion.usage is not None
    assert after.requests == before.requests + 1
    assert after.input_tokens - before.input_tokens == HELLO_TOKENS
    assert after.output_tokens - before.output_tokens == completion.usage.completion_tokens
    assert (
        after.models["gpt-4.1-nano"].requests == before.models.get("gpt-4.1-nano", ModelStats()).requests + 1
    )
    record = simulator.requests()[-1]
    assert record.request_id == completion._request_id
    assert (record.endpoint, record.model, record.status, record.completed) == (
        "chat.completions",
        "gpt-4.1-nano",
        200,
        True,
    )
    assert record.output_tokens == completion.usage.completion_tokens
    assert "simulator_bug" not in after.by_error
