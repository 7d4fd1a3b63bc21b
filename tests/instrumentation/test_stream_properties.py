"""Property tests: whatever the chunks and however the caller stops, the stream is untouched
and its call ends exactly once, with an honest status."""

from __future__ import annotations

import asyncio
import gc
from typing import Any
from unittest import mock

from callscope.instrumentation import OpenAIInstrumentor
from callscope.instrumentation import attributes as A
from callscope.instrumentation._call import Call
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.instrumentation import fakes
from tests.instrumentation.conftest import Telemetry
from tests.instrumentation.fakes import FakeOpenAI

MESSAGES: Any = [{"role": "user", "content": "hi"}]
ENDINGS = ["exhaust", "break_close", "with_early", "abandon", "close_unread"]

pieces = st.lists(st.text(min_size=1, max_size=8), min_size=0, max_size=12).map(tuple)


def _reply(parts: tuple[str, ...], finish: bool, include_usage: bool) -> Any:
    chunks = fakes.chat_chunks(parts, include_usage=include_usage, finish_reason="stop" if finish else None)
    return fakes.sse_reply(fakes.sse(chunks))


def _consume(stream: Any, ending: str, stop_after: int) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    if ending == "exhaust":
        seen = [c.to_dict() for c in stream]
    elif ending == "close_unread":
        stream.close()
    elif ending == "with_early":
        with stream:
            for chunk in stream:
                seen.append(chunk.to_dict())
                if len(seen) >= stop_after:
                    break
    else:
        for chunk in stream:
            seen.append(chunk.to_dict())
            if len(seen) >= stop_after:
                break
        if ending == "break_close":
            stream.close()
    return seen


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    parts=pieces,
    finish=st.booleans(),
    asked_usage=st.booleans(),
    ending=st.sampled_from(ENDINGS),
    stop_after=st.integers(1, 15),
)
def test_sync_stream_property(
    parts: tuple[str, ...], finish: bool, asked_usage: bool, ending: str, stop_after: int
) -> None:
    extra: Any = {"stream_options": {"include_usage": True}} if asked_usage else {}
    # What the caller sees without callscope (the server only sends usage when asked).
    plain_server = FakeOpenAI().add(_reply(parts, finish, include_usage=asked_usage))
    expected = _consume(
        plain_server.client().chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, **extra
        ),
        ending,
        stop_after,
    )

    telemetry = Telemetry()
    telemetry.instrument()
    finishes = 0
    original = Call.complete

    def counting(self: Call) -> None:
        nonlocal finishes
        finishes += 1
        original(self)

    try:
        with mock.patch.object(Call, "complete", counting):
            server = FakeOpenAI().add(_reply(parts, finish, include_usage=True))  # callscope asks for usage
            stream = server.client().chat.completions.create(
                model="gpt-4o-mini", messages=MESSAGES, stream=True, **extra
            )
            seen = _consume(stream, ending, stop_after)
            del stream
            if ending == "abandon":
                gc.collect()  # a Stream sits in a reference cycle (its own iterator): only gc frees it
            assert seen == expected  # chunks passed through unchanged (and none added)
            attrs = telemetry.attrs()  # (waits for the finisher)
            assert finishes == 1  # ended exactly once
    finally:
        OpenAIInstrumentor().uninstrument()
    total = len(parts) + 1 + int(finish) + int(asked_usage)  # role chunk + pieces + finish (+ usage)
    read_all = ending == "exhaust" or (
        ending in ("break_close", "abandon", "with_early") and stop_after >= total
    )
    assert attrs[A.STREAM_CHUNKS] == len(seen)
    if ending == "exhaust":
        assert attrs[A.STREAM_END] == "exhausted"
        assert attrs[A.STATUS] == ("ok" if finish else "incomplete")
        assert attrs[A.INPUT_TOKENS] == 12
    elif not read_all:
        assert attrs[A.STREAM_END] == ("abandoned" if ending == "abandon" else "closed")
        assert attrs[A.STATUS] == "incomplete"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=pieces, stop_after=st.integers(0, 10), close=st.booleans())
def test_async_stream_property(parts: tuple[str, ...], stop_after: int, close: bool) -> None:
    telemetry = Telemetry()
    telemetry.instrument()

    async def run() -> list[Any]:
        server = FakeOpenAI().add(_reply(parts, True, include_usage=True))
        client = server.async_client()
        stream = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
        seen = []
        if stop_after:
            async for chunk in stream:
                seen.append(chunk)
                if len(seen) == stop_after:
                    break
        if close:
            await stream.close()
        else:
            async for chunk in stream:
                seen.append(chunk)
        return seen

    try:
        seen = asyncio.run(run())
        spans = telemetry.spans()
    finally:
        OpenAIInstrumentor().uninstrument()
    assert len(spans) == 1
    attrs = dict[str, Any](spans[0].attributes or {})
    assert all(c.usage is None for c in seen)
    assert attrs[A.STREAM_CHUNKS] == len(seen)
    assert attrs[A.STATUS] in ("ok", "incomplete")
    if not close:
        assert len(seen) == len(parts) + 2  # role chunk + pieces + finish chunk; usage hidden
        assert attrs[A.STREAM_END] == "exhausted"
        assert attrs[A.STATUS] == "ok"
