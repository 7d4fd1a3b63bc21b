"""Turn a cassette back into the SDK calls that recorded it, and run them.

Each interaction of a cassette is one SDK call whose arguments are the
recorded request body. How the caller used the result (iterated a stream,
used it as a context manager, broke out early, went through
``with_raw_response``...) comes from the recorded test's name, as in the
original tests of opentelemetry-python-contrib's openai-v2 instrumentation.
:func:`run_scenario` performs the calls through a real ``openai`` client and
returns what the caller saw, normalized so that a run with instrumentation
and a run without can be compared for equality.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import openai

from tests.instrumentation.cassettes import Cassette, Interaction, ReplayTransport

__all__ = [
    "API_KEY",
    "CallResult",
    "Mode",
    "Plan",
    "Scenario",
    "UserAbort",
    "call_kwargs",
    "make_client",
    "plan_for",
    "run_scenario",
]

# Distinctive so a test can search every exported byte for it.
API_KEY = "sk-callscope-cassette-SECRET-4f9a1c"
PARTIAL_CHUNKS = 2  # streaming_not_complete: the caller breaks out after two chunks
CUT_AFTER_EVENTS = 1  # stream_propagation_error: the connection dies after the first event
_API_OF_ENDPOINT = {"chat/completions": "chat", "responses": "responses", "embeddings": "embeddings"}


class Mode(enum.Enum):
    """How the caller consumes the result of one call."""

    RESULT = "result"  # a non-streamed call: take the returned object
    ITERATE = "iterate"  # ``for chunk in stream`` to the end
    WITH = "with"  # ``with stream: for chunk in stream`` to the end
    ITERATE_THEN_CLOSE = "iterate_then_close"  # to the end, then ``close()`` twice
    PARTIAL = "partial"  # break after PARTIAL_CHUNKS chunks, then ``close()``
    RESPONSE_ONLY = "response_only"  # read ``stream.response`` headers, ``close()`` unread
    USER_EXCEPTION = "user_exception"  # the caller raises inside ``with stream:`` at the first chunk
    CUT = "cut"  # ``with stream:`` to the end, but the connection dies mid-stream
    HELPER = "helper"  # derived: the SDK's ``.stream()`` helper, its events, then its final result


class UserAbort(ValueError):
    """The caller's own exception, raised while consuming a stream."""


@dataclass(frozen=True)
class Plan:
    """What the recorded test did, derived from the cassette's name and recorded requests."""

    cassette: Cassette
    mode: Mode
    raw: bool  # through ``.with_raw_response``
    unsampled: bool  # the tracer samples nothing
    capture_content: bool  # the test ran with message content capture on
    not_given: bool  # the call passed NOT_GIVEN / not_given for optional parameters
    internal_error: bool  # the recorded test broke the instrumentation on purpose
    # Derived scenario: the caller does not ask for stream usage although the recording has it.
    strip_stream_options: bool = False

    @property
    def is_async(self) -> bool:
        return self.cassette.is_async

    @property
    def api(self) -> str:
        """``chat``, ``responses`` or ``embeddings``."""
        return _API_OF_ENDPOINT[self.cassette.endpoint]

    def transport(self) -> ReplayTransport:
        cut = CUT_AFTER_EVENTS if self.mode is Mode.CUT else None
        return self.cassette.transport(cut_streams_after=cut)


def _stream_mode(name: str, api: str) -> Mode:
    table = {
        "streaming_not_complete": Mode.PARTIAL,
        "with_context_manager_streaming": Mode.WITH,
        "delegates_response_attribute": Mode.RESPONSE_ONLY,
        "finalize_idempotent": Mode.ITERATE_THEN_CLOSE,
        "stream_propagation_error": Mode.CUT,
        "streaming_user_exception": Mode.USER_EXCEPTION,
        "streaming_iteration": Mode.ITERATE,
    }
    for marker, mode in table.items():
        if marker in name:
            return mode
    # The Responses tests use ``with client.responses.create(..., stream=True) as stream``;
    # the Chat Completions tests iterate the stream directly.
    return Mode.WITH if api == "responses" else Mode.ITERATE


def plan_for(cassette: Cassette) -> Plan:
    """Derive the recorded test's calling pattern (see the module docstring)."""
    name = cassette.name
    streamed = cassette.interactions[0].request_json.get("stream") is True
    api = _API_OF_ENDPOINT[cassette.endpoint]
    return Plan(
        cassette=cassette,
        mode=_stream_mode(name, api) if streamed else Mode.RESULT,
        raw="with_raw_response" in name,
        unsampled="unsampled" in name,
        capture_content=any(m in name for m in ("with_content", "captures_", "content_shapes")),
        not_given="not_given" in name,
        internal_error="instrumentation_error_swallowed" in name,
    )


@dataclass
class CallResult:
    """What the caller of one SDK call saw, in comparable form."""

    value: Any = None  # model_dump() / list of chunk dumps / raw response facts
    error: BaseException | None = None
    chunks: int = 0  # chunks (events) the caller received
    returned: Any = None  # what the SDK call returned (a stream, a raw response...)
    raised: BaseException | None = None  # the exception the caller itself raised, if any


@dataclass
class _Caller:
    """Performs sync or async SDK operations with exactly the semantics of plain code."""

    is_async: bool

    async def value(self, maybe_awaitable: Any) -> Any:
        return await maybe_awaitable if self.is_async else maybe_awaitable

    def iterator(self, stream: Any) -> Any:
        return stream.__aiter__() if self.is_async else iter(stream)

    async def next(self, iterator: Any) -> tuple[bool, Any]:
        try:
            return True, (await iterator.__anext__()) if self.is_async else next(iterator)
        except (StopIteration, StopAsyncIteration):
            return False, None

    async def close(self, stream: Any) -> None:
        await self.value(stream.close())

    @asynccontextmanager
    async def managed(self, manager: Any) -> AsyncIterator[Any]:
        entered = await manager.__aenter__() if self.is_async else manager.__enter__()
        try:
            yield entered
        except BaseException as exc:
            exit_args = (type(exc), exc, exc.__traceback__)
            exit_result = manager.__aexit__(*exit_args) if self.is_async else manager.__exit__(*exit_args)
            if not await self.value(exit_result):
                raise
        else:
            await self.value(
                manager.__aexit__(None, None, None) if self.is_async else manager.__exit__(None, None, None)
            )


def _sdk_method(client: Any, plan: Plan) -> Any:
    resource = {
        "chat": lambda: client.chat.completions,
        "responses": lambda: client.responses,
        "embeddings": lambda: client.embeddings,
    }[plan.api]()
    if plan.mode is Mode.HELPER:
        return resource.stream
    return (resource.with_raw_response if plan.raw else resource).create


def call_kwargs(plan: Plan, recorded: Interaction) -> dict[str, Any]:
    """The SDK call's arguments: the recorded request body, plus NOT_GIVEN markers where the test had them."""
    kwargs = dict(recorded.request_json)
    if plan.mode is Mode.HELPER:
        del kwargs["stream"]  # the helpers stream by definition
    if plan.strip_stream_options:
        kwargs.pop("stream_options", None)
    if plan.not_given:
        extra = {"top_p": openai.NOT_GIVEN, "max_tokens": openai.not_given}
        if plan.api == "embeddings":
            extra = {"dimensions": openai.NOT_GIVEN, "user": openai.not_given}
        kwargs.update(extra)
    return kwargs


def _dump(model: Any) -> Any:
    # Base64 embeddings are strings where the type says list[float]: dump them as they are.
    return model.model_dump(warnings=False)


async def _consume(caller: _Caller, stream: Any, mode: Mode, chunks: list[Any], result: CallResult) -> None:
    """Use ``stream`` the way ``mode`` says, appending each chunk's dump to ``chunks``."""
    if mode is Mode.RESPONSE_ONLY:
        chunks.append((stream.response.status_code, stream.response.headers.get("x-request-id")))
        await caller.close(stream)
        return
    if mode is Mode.HELPER:
        async with caller.managed(stream) as helper:
            iterator = caller.iterator(helper)
            while (item := await caller.next(iterator))[0]:
                chunks.append(_dump(item[1]))
            final = getattr(helper, "get_final_completion", None) or helper.get_final_response
            result.value = _dump(await caller.value(final()))
        return
    if mode in (Mode.WITH, Mode.USER_EXCEPTION, Mode.CUT):
        async with caller.managed(stream) as managed:
            iterator = caller.iterator(managed)
            while (item := await caller.next(iterator))[0]:
                chunks.append(_dump(item[1]))
                if mode is Mode.USER_EXCEPTION:
                    result.raised = UserAbort("User raised exception")
                    raise result.raised
        return
    iterator = caller.iterator(stream)
    while (item := await caller.next(iterator))[0]:
        chunks.append(_dump(item[1]))
        if mode is Mode.PARTIAL and len(chunks) == PARTIAL_CHUNKS:
            break
    if mode in (Mode.PARTIAL, Mode.ITERATE_THEN_CLOSE):
        await caller.close(stream)
    if mode is Mode.ITERATE_THEN_CLOSE:
        await caller.close(stream)


async def _one_call(caller: _Caller, client: Any, plan: Plan, recorded: Interaction) -> CallResult:
    result = CallResult()
    chunks: list[Any] = []
    raw_facts: tuple[Any, ...] | None = None
    try:
        returned = _sdk_method(client, plan)(**call_kwargs(plan, recorded))
        if plan.mode is not Mode.HELPER:  # a helper's stream manager is used with (async) with
            returned = await caller.value(returned)
        result.returned = returned
        if plan.raw:
            raw_facts = (returned.status_code, returned.headers.multi_items(), returned.request_id)
            returned = returned.parse()
        if plan.mode is Mode.RESULT:
            result.value = (raw_facts, _dump(returned), returned._request_id)
        else:
            await _consume(caller, returned, plan.mode, chunks, result)
            result.value = (raw_facts, chunks, result.value)
    except Exception as exc:  # what the caller would see, compared with the uninstrumented run
        result.error = exc
        result.value = (raw_facts, chunks, None) if plan.mode is not Mode.RESULT else None
    result.chunks = _raw_chunks(plan, chunks)
    return result


def _raw_chunks(plan: Plan, received: list[Any]) -> int:
    """How many API chunks (SSE events) reached the caller's code."""
    if plan.mode is Mode.RESPONSE_ONLY:
        return 0
    if plan.mode is Mode.HELPER and plan.api == "chat":
        # ChatCompletionStream emits one "chunk" event per API chunk, plus derived events.
        return sum(1 for event in received if event.get("type") == "chunk")
    return len(received)


def make_client(plan: Plan, transport: ReplayTransport) -> Any:
    """A real ``openai`` client of the plan's flavour whose HTTP goes to ``transport``."""
    options: dict[str, Any] = {"api_key": API_KEY, "base_url": plan.cassette.base_url, "max_retries": 0}
    if plan.is_async:
        return openai.AsyncOpenAI(http_client=openai.DefaultAsyncHttpxClient(transport=transport), **options)
    return openai.OpenAI(http_client=openai.DefaultHttpxClient(transport=transport), **options)


@dataclass
class Scenario:
    """The calls of one cassette as the caller saw them, and the transport that served them."""

    results: list[CallResult] = field(default_factory=list)
    transport: ReplayTransport | None = None


async def run_scenario(plan: Plan) -> Scenario:
    """Make every recorded call of ``plan`` through a fresh client, in order."""
    transport = plan.transport()
    client = make_client(plan, transport)
    caller = _Caller(plan.is_async)
    scenario = Scenario(transport=transport)
    try:
        for recorded in plan.cassette.interactions:
            scenario.results.append(await _one_call(caller, client, plan, recorded))
    finally:
        await caller.value(client.close())
    return scenario
