"""instrument()/uninstrument() restore the SDK exactly; callscope's own failures never reach the app."""

from __future__ import annotations

from typing import Any

import callscope.instrumentation as ci
import openai
import pytest
from callscope.instrumentation import InstrumentationError, OpenAIInstrumentor, _internal_errors
from callscope.instrumentation import attributes as A
from openai._base_client import AsyncAPIClient, SyncAPIClient

from tests.instrumentation.conftest import Telemetry
from tests.instrumentation.fakes import FakeOpenAI

MESSAGES: Any = [{"role": "user", "content": "hi"}]
PATCHED = [
    (SyncAPIClient, "request"),
    (AsyncAPIClient, "request"),
    (SyncAPIClient, "_sleep_for_retry"),
    (AsyncAPIClient, "_sleep_for_retry"),
    (openai.OpenAI, "_send_request"),
    (openai.AsyncOpenAI, "_send_request"),
]


def _snapshot() -> list[object]:
    return [owner.__dict__.get(name) for owner, name in PATCHED]


def test_uninstrument_restores_every_attribute(telemetry: Telemetry, fake: FakeOpenAI) -> None:
    before = _snapshot()
    azure_send = openai.AzureOpenAI.__dict__.get("_send_request")
    telemetry.instrument()
    during = _snapshot()
    assert all(a is not b for a, b in zip(before, during, strict=True))
    telemetry.instrument()  # twice: harmless, nothing patched twice
    assert _snapshot() == during
    OpenAIInstrumentor().uninstrument()
    after = _snapshot()
    assert all(a is b for a, b in zip(before, after, strict=True))
    assert openai.AzureOpenAI.__dict__.get("_send_request") is azure_send
    fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert telemetry.spans() == []
    OpenAIInstrumentor().uninstrument()  # twice: harmless too
    telemetry.instrument()
    fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert len(telemetry.spans()) == 1


def test_wrappers_look_like_the_originals(traced: Telemetry) -> None:
    wrapped = SyncAPIClient.__dict__["request"]
    assert wrapped.__name__ == "request"
    assert wrapped.__wrapped__ is not None


def test_dependencies_and_public_api() -> None:
    assert OpenAIInstrumentor().instrumentation_dependencies() == ("openai >= 3.0, < 4",)
    assert set(ci.__all__) == {
        "InstrumentationError",
        "OpenAIInstrumentor",
        "bind_context",
        "current_tags",
        "flush",
        "tags",
    }
    for name in ci.__all__:
        assert getattr(ci, name) is not None


def test_unknown_option_is_a_clear_error(telemetry: Telemetry) -> None:
    with pytest.raises(InstrumentationError, match="unknown instrument"):
        telemetry.instrument(capture_contents=True)


def test_entry_point_is_registered() -> None:
    from importlib.metadata import entry_points

    (entry,) = [
        e for e in entry_points(group="opentelemetry_instrumentor") if e.value.startswith("callscope")
    ]
    assert entry.load() is OpenAIInstrumentor


@pytest.fixture
def swallow_internal_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_internal_errors, "reraise_internal_errors", False)


def _explode(*args: object, **kwargs: object) -> None:
    raise RuntimeError("bug inside callscope")


@pytest.mark.usefixtures("swallow_internal_errors")
def test_internal_error_at_start_never_reaches_the_app(
    traced: Telemetry, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import structlog
    from callscope.instrumentation import _chat

    monkeypatch.setattr(_chat.ChatSurface, "start", _explode)
    monkeypatch.setattr(structlog, "is_configured", lambda: False)  # the library default: stdlib logging
    with caplog.at_level("ERROR", logger="callscope.instrumentation"):
        result = fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert "callscope internal error" in caplog.text
    assert "bug inside callscope" in caplog.text  # with the traceback
    assert result.choices[0].message.content == "Hello there!"
    chunks = list(fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    assert len(chunks) == 7
    assert traced.spans() == []  # no span rather than a broken call


@pytest.mark.usefixtures("swallow_internal_errors")
def test_internal_error_at_the_end_never_reaches_the_app(
    traced: Telemetry, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from callscope.instrumentation import _call, _chat

    monkeypatch.setattr(_chat.ChatSurface, "record", _explode)
    monkeypatch.setattr(_call.Call, "_usage_and_cost", _explode)
    result = fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert result.id == "chatcmpl-CS1"
    assert len(traced.spans()) == 1  # the span still ends, never left open


@pytest.mark.usefixtures("swallow_internal_errors")
def test_internal_error_per_chunk_never_breaks_the_stream(
    traced: Telemetry, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from callscope.instrumentation import _chat

    monkeypatch.setattr(_chat.ChatStream, "on_chunk", _explode)
    stream = fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    chunks = list(stream)
    assert len(chunks) == 7  # recording stopped, but the injected usage chunk is still hidden
    assert all(c.usage is None for c in chunks)
    assert traced.attrs()[A.STREAM_END] == "exhausted"


def test_under_pytest_internal_errors_are_raised(
    traced: Telemetry, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from callscope.instrumentation import _chat

    monkeypatch.setattr(_chat.ChatSurface, "record", _explode)
    with pytest.raises(RuntimeError, match="bug inside callscope"):
        fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)


@pytest.mark.usefixtures("swallow_internal_errors")
def test_unsupported_sdk_shape_disables_tracing(
    telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(openai, "__version__", "4.0.0")
    telemetry.instrument()
    assert SyncAPIClient.__dict__["request"].__name__ == "request"
    assert not hasattr(SyncAPIClient.__dict__["request"], "__wrapped__")
