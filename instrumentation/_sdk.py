"""Everything callscope knows about the openai SDK's private internals, in one module.

Three hooks, all on the SDK's base client classes, so they see every client and
every way a resource method can be reached (plain, ``with_raw_response``,
``with_streaming_response``, the ``parse``/``stream`` helpers), whatever order the
client's attributes were first touched in:

* ``SyncAPIClient.request`` / ``AsyncAPIClient.request``: one logical call. Holds
  the SDK's retry loop and returns the parsed object, a ``Stream``, or a raw
  response. The path and method say which API it is.
* ``OpenAI._send_request`` / ``AsyncOpenAI._send_request``: one HTTP attempt
  (status, or timeout / connection error, and duration).
* ``SyncAPIClient._sleep_for_retry`` / async twin: the backoff between attempts,
  and the response that asked for it (``Retry-After``).

A context variable links the attempt hooks to the current call. These are private
APIs: :func:`check_sdk` verifies the shapes callscope relies on before patching
and anything unexpected disables that hook (or all of them) with a log line,
never an error in the app.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from callscope.instrumentation import _chat, _embeddings, _responses
from callscope.instrumentation import attributes as A
from callscope.instrumentation._call import Call, Config, Surface
from callscope.instrumentation._endpoint import endpoint_of
from callscope.instrumentation._headers import retry_after_ms
from callscope.instrumentation._internal_errors import guard, log
from callscope.instrumentation._raw import track_raw_response
from callscope.instrumentation._stream import attach_stream
from opentelemetry.instrumentation.utils import is_instrumentation_enabled

__all__ = ["SUPPORTED_OPENAI", "Patch", "install", "uninstall"]

#: The SDK range whose internals this module was checked against.
SUPPORTED_OPENAI = "openai >= 3.0, < 4"

_CURRENT: contextvars.ContextVar[Call | None] = contextvars.ContextVar("callscope_call", default=None)


class _State:
    """What the hooks read on every call; one mutable holder instead of module globals."""

    __slots__ = ("api_responses", "config", "legacy_response", "request_errors", "stream_types", "timeouts")

    def __init__(self) -> None:
        #: The active configuration; None when not instrumented (hooks then pass straight through).
        self.config: Config | None = None
        self.stream_types: tuple[type, ...] = ()
        self.legacy_response: tuple[type, ...] = ()
        self.api_responses: tuple[type, ...] = ()
        self.timeouts: tuple[type[BaseException], ...] = ()
        self.request_errors: tuple[type[BaseException], ...] = ()


_STATE = _State()

_POST_ROUTES: dict[str, Surface] = {
    "/chat/completions": _chat.CHAT,
    "/responses": _responses.RESPONSES,
    "/embeddings": _embeddings.EMBEDDINGS,
    "/completions": _chat.COMPLETIONS,
}
_INJECTABLE: tuple[Surface, ...] = (_chat.CHAT, _chat.COMPLETIONS)


def _surface_for(options: Any, stream: bool) -> Surface | None:
    url = getattr(options, "url", None)
    method = getattr(options, "method", None)
    if not isinstance(url, str):
        return None
    if method == "post":
        return _POST_ROUTES.get(url)
    if method == "get" and stream and url.startswith("/responses/") and url.count("/") == 2:
        return _responses.RESUME  # responses.stream(response_id=...) resuming a response
    return None


# --- the logical call ------------------------------------------------------------------


def _begin(client: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...] | None:
    config = _STATE.config
    if config is None:
        return None
    options: Any = args[1] if len(args) > 1 else kwargs.get("options")
    streamed = bool(kwargs.get("stream", False))
    surface = _surface_for(options, streamed)
    if surface is None or not is_instrumentation_enabled():
        return None
    call: Call | None = None
    with guard:
        json_data = options.json_data
        body: Mapping[str, Any] = json_data if isinstance(json_data, Mapping) else {}
        call = Call(config, surface, endpoint_of(client), body, streamed)  # the call's start
    if call is None:
        return None  # failed before the call was captured: it simply goes untraced
    if streamed and surface in _INJECTABLE and config.inject_stream_usage:
        with guard:  # failing here only means no injected usage
            new_options = _with_usage_requested(options, body)
            if new_options is not None:
                if len(args) > 1:
                    args = (args[0], new_options, *args[2:])
                else:
                    kwargs = {**kwargs, "options": new_options}
                call.hide_usage_chunk = True
                call.attrs[A.USAGE_INJECTED] = True
    # The span itself is built by the finisher once the call has ended, so it is not the current
    # span while the SDK runs (nothing in the SDK or httpx2 reads it; the caller's span is current).
    return call, args, kwargs, _CURRENT.set(call)


def _with_usage_requested(options: Any, body: Mapping[str, Any]) -> Any:
    """A copy of ``options`` whose body asks for usage; None if the caller already asked."""
    stream_options = body.get("stream_options")
    if isinstance(stream_options, Mapping):
        if stream_options.get("include_usage"):
            return None
        requested = {**stream_options, "include_usage": True}
    else:
        requested = {"include_usage": True}
    update = {"json_data": {**body, "stream_options": requested}}
    copy = getattr(options, "model_copy", None) or options.copy  # pydantic 2, else 1
    return copy(update=update)


def _failed(call: Call, exc: BaseException) -> None:
    with guard:
        call.end_with_error(exc)


def _succeeded(call: Call, result: Any) -> None:
    with guard:
        if isinstance(result, _STATE.stream_types):
            if attach_stream(call, result) is None:
                call.end_stream("exhausted")  # unknown stream shape: end now rather than never
        elif isinstance(result, _STATE.legacy_response):
            track_raw_response(call, result, legacy=True, is_stream=_is_stream)
        elif isinstance(result, _STATE.api_responses):
            track_raw_response(call, result, legacy=False, is_stream=_is_stream)
        else:
            call.end_with_result(result)
        return
    call.end("ok")


def _is_stream(value: Any) -> bool:
    return isinstance(value, _STATE.stream_types)


def _make_request(original: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def arequest(self: Any, *args: Any, **kwargs: Any) -> Any:
            begun = _begin(self, args, kwargs)
            if begun is None:
                return await original(self, *args, **kwargs)
            call, args, kwargs, token = begun
            try:
                result = await original(self, *args, **kwargs)
            except BaseException as exc:
                _CURRENT.reset(token)
                _failed(call, exc)
                raise
            _CURRENT.reset(token)
            _succeeded(call, result)
            return result

        return arequest

    @functools.wraps(original)
    def request(self: Any, *args: Any, **kwargs: Any) -> Any:
        begun = _begin(self, args, kwargs)
        if begun is None:
            return original(self, *args, **kwargs)
        call, args, kwargs, token = begun
        try:
            result = original(self, *args, **kwargs)
        except BaseException as exc:
            _CURRENT.reset(token)
            _failed(call, exc)
            raise
        _CURRENT.reset(token)
        _succeeded(call, result)
        return result

    return request


# --- each HTTP attempt --------------------------------------------------------------------


def _attempt_failure(exc: BaseException) -> str:
    if isinstance(exc, _STATE.timeouts):
        return "timeout"
    if isinstance(exc, _STATE.request_errors):
        return "connection_error"
    return type(exc).__name__


def _make_send(original: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def asend(self: Any, *args: Any, **kwargs: Any) -> Any:
            call = _CURRENT.get()
            if call is None:
                return await original(self, *args, **kwargs)
            call.attempt_begin()
            try:
                response = await original(self, *args, **kwargs)
            except BaseException as exc:
                call.attempt_end(_attempt_failure(exc))
                raise
            call.attempt_end(str(response.status_code), response.headers, response.status_code)
            return response

        return asend

    @functools.wraps(original)
    def send(self: Any, *args: Any, **kwargs: Any) -> Any:
        call = _CURRENT.get()
        if call is None:
            return original(self, *args, **kwargs)
        call.attempt_begin()
        try:
            response = original(self, *args, **kwargs)
        except BaseException as exc:
            call.attempt_end(_attempt_failure(exc))
            raise
        call.attempt_end(str(response.status_code), response.headers, response.status_code)
        return response

    return send


def _make_sleep(original: Callable[..., Any]) -> Callable[..., Any]:
    def waited(call: Call, started: float, kwargs: dict[str, Any]) -> None:
        with guard:
            response = kwargs.get("response")
            asked = retry_after_ms(response.headers) if response is not None else None
            call.retry_waited((time.perf_counter() - started) * 1000.0, asked)

    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def asleep(self: Any, *args: Any, **kwargs: Any) -> Any:
            call = _CURRENT.get()
            if call is None:
                return await original(self, *args, **kwargs)
            started = time.perf_counter()
            try:
                return await original(self, *args, **kwargs)
            finally:
                waited(call, started, kwargs)

        return asleep

    @functools.wraps(original)
    def sleep(self: Any, *args: Any, **kwargs: Any) -> Any:
        call = _CURRENT.get()
        if call is None:
            return original(self, *args, **kwargs)
        started = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            waited(call, started, kwargs)

    return sleep


# --- patching -----------------------------------------------------------------------------

_MISSING: Any = object()


@dataclass(slots=True)
class Patch:
    """One replaced class attribute, restorable exactly (including "was inherited")."""

    owner: type
    name: str
    own: Any  # the owner's own __dict__ entry before patching, or _MISSING if inherited
    replacement: Any

    @classmethod
    def apply(cls, owner: type, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> Patch:
        own = owner.__dict__.get(name, _MISSING)
        replacement = make(getattr(owner, name))
        setattr(owner, name, replacement)
        return cls(owner, name, own, replacement)

    def restore(self) -> None:
        if self.owner.__dict__.get(self.name) is not self.replacement:
            log.warning(
                "callscope: a patched SDK method was replaced by someone else; leaving it", name=self.name
            )
            return
        if self.own is _MISSING:
            delattr(self.owner, self.name)
        else:
            setattr(self.owner, self.name, self.own)


def _params(func: Any) -> list[str]:
    try:
        return list(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return []


def check_sdk() -> dict[str, bool]:
    """Which hooks the installed SDK supports (by shape, not by version string alone)."""
    import openai
    from openai._base_client import AsyncAPIClient, SyncAPIClient

    major = openai.__version__.split(".", 1)[0]
    if major != "3":
        log.warning("callscope: untested openai version; tracing disabled", version=openai.__version__)
        return {"request": False, "send": False, "sleep": False}
    request_ok = all(
        _params(getattr(c, "request", None))[:3] == ["self", "cast_to", "options"]
        for c in (SyncAPIClient, AsyncAPIClient)
    )
    send_ok = all(
        _params(getattr(c, "_send_request", None))[:2] == ["self", "request"]
        for c in (openai.OpenAI, openai.AsyncOpenAI)
    )
    sleep_ok = all(
        "response" in _params(getattr(c, "_sleep_for_retry", None)) for c in (SyncAPIClient, AsyncAPIClient)
    )
    if not request_ok:
        log.warning("callscope: openai's request() has an unexpected shape; tracing disabled")
    return {"request": request_ok, "send": request_ok and send_ok, "sleep": request_ok and sleep_ok}


def _load_types() -> None:
    import openai
    from openai._legacy_response import LegacyAPIResponse
    from openai._response import APIResponse, AsyncAPIResponse

    _STATE.stream_types = (openai.Stream, openai.AsyncStream)
    _STATE.legacy_response = (LegacyAPIResponse,)
    _STATE.api_responses = (APIResponse, AsyncAPIResponse)
    try:
        from openai._httpx2 import request_exceptions, timeout_exceptions

        _STATE.timeouts = tuple(timeout_exceptions())
        _STATE.request_errors = tuple(request_exceptions())
    except Exception:  # an older layout: the httpx2 exceptions directly
        import httpx2

        _STATE.timeouts = (httpx2.TimeoutException,)
        _STATE.request_errors = (httpx2.RequestError,)


def install(config: Config) -> list[Patch]:
    """Patch the SDK (idempotence is the caller's job) and activate ``config``."""
    import openai
    from openai._base_client import AsyncAPIClient, SyncAPIClient

    supported = check_sdk()
    if not supported["request"]:
        return []
    _load_types()
    plan: list[tuple[type, str, Callable[[Callable[..., Any]], Callable[..., Any]]]] = [
        (SyncAPIClient, "request", _make_request),
        (AsyncAPIClient, "request", _make_request),
    ]
    if supported["send"]:
        plan += [
            (openai.OpenAI, "_send_request", _make_send),
            (openai.AsyncOpenAI, "_send_request", _make_send),
        ]
    if supported["sleep"]:
        plan += [
            (SyncAPIClient, "_sleep_for_retry", _make_sleep),
            (AsyncAPIClient, "_sleep_for_retry", _make_sleep),
        ]
    patches: list[Patch] = []
    try:
        for owner, name, make in plan:
            patches.append(Patch.apply(owner, name, make))
    except Exception:
        uninstall(patches)  # all or nothing
        raise
    _STATE.config = config
    return patches


def uninstall(patches: list[Patch]) -> None:
    _STATE.config = None
    for patch in reversed(patches):
        patch.restore()
