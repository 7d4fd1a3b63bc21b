"""Content only when opted in; API keys and auth headers never."""

from __future__ import annotations

import json
from typing import Any

import pytest
from callscope.instrumentation import attributes as A

from tests.instrumentation import fakes
from tests.instrumentation.conftest import Telemetry
from tests.instrumentation.fakes import FakeOpenAI

SECRET_PROMPT = "my secret prompt 4711"
MESSAGES: Any = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": SECRET_PROMPT},
]


def _everything_exported(telemetry: Telemetry) -> str:
    parts = []
    for span in telemetry.spans():
        parts.append(span.to_json())
    data = telemetry.reader.get_metrics_data()
    parts.append(data.to_json() if data is not None else "")
    return "\n".join(parts)


def _calls(fake: FakeOpenAI) -> None:
    client = fake.client()
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    list(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    client.responses.create(model="gpt-4o-mini", instructions="Be brief.", input=SECRET_PROMPT)
    client.embeddings.create(model="text-embedding-3-small", input=SECRET_PROMPT)
    fake.add(fakes.error_reply(401, "invalid_api_key", "Incorrect API key provided"))
    with pytest.raises(Exception):  # noqa: B017, PT011 - any error: only what is exported matters here
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)


def test_no_content_and_no_key_by_default(
    traced: Telemetry, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    _calls(fake)
    exported = _everything_exported(traced)
    assert len(traced.spans()) == 5
    assert SECRET_PROMPT not in exported
    assert "This is a test" not in exported  # completions neither
    assert fakes.API_KEY not in exported
    assert "Bearer" not in exported
    assert "authorization" not in exported.lower()
    for span in traced.spans():
        attrs = dict[str, Any](span.attributes or {})
        assert not {A.INPUT_MESSAGES, A.OUTPUT_MESSAGES, A.SYSTEM_INSTRUCTIONS, A.TOOL_DEFINITIONS} & set(
            attrs
        )


def test_content_when_opted_in_but_still_no_key(telemetry: Telemetry, fake: FakeOpenAI) -> None:
    telemetry.instrument(capture_content=True)
    _calls(fake)
    exported = _everything_exported(telemetry)
    assert SECRET_PROMPT in exported
    assert fakes.API_KEY not in exported
    assert "Bearer" not in exported
    chat, stream, responses = (dict[str, Any](s.attributes or {}) for s in telemetry.spans()[:3])
    assert json.loads(chat[A.INPUT_MESSAGES]) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": SECRET_PROMPT}]},
    ]
    assert json.loads(chat[A.OUTPUT_MESSAGES]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hello there!"}], "finish_reason": "stop"}
    ]
    assert json.loads(stream[A.OUTPUT_MESSAGES]) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "This is a test."}],
            "finish_reason": "stop",
        }
    ]
    assert json.loads(responses[A.SYSTEM_INSTRUCTIONS]) == [{"type": "text", "content": "Be brief."}]
    assert json.loads(responses[A.OUTPUT_MESSAGES])[0]["parts"] == [
        {"type": "text", "content": "This is a test."}
    ]


@pytest.mark.parametrize(
    ("value", "captured"),
    [
        ("true", True),
        ("True", True),
        ("SPAN_ONLY", True),
        ("span_and_event", True),
        ("EVENT_ONLY", False),
        ("NO_CONTENT", False),
        ("false", False),
        ("", False),
    ],
)
def test_env_variable(
    telemetry: Telemetry, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, value: str, captured: bool
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", value)
    telemetry.instrument()
    fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert (A.INPUT_MESSAGES in telemetry.attrs()) is captured


def test_tool_calls_and_images_content(telemetry: Telemetry, fake: FakeOpenAI) -> None:
    telemetry.instrument(capture_content=True)
    messages: Any = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "what is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "42"},
    ]
    fake.client().chat.completions.create(model="gpt-4o-mini", messages=messages)
    attrs = telemetry.attrs()
    assert "AAAA" not in attrs[A.INPUT_MESSAGES]  # binary parts are reduced to their type
    assert json.loads(attrs[A.INPUT_MESSAGES]) == [
        {"role": "user", "parts": [{"type": "text", "content": "what is this?"}, {"type": "image_url"}]},
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "call_1", "name": "f", "arguments": {"a": 1}}],
        },
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": "42"}]},
    ]
    assert attrs[A.REQUEST_INPUT_CHARS] == len("what is this?") + len('{"a": 1}') + len("42")
