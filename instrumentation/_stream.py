"""Streams stay the SDK's own objects; only their chunk iterator is wrapped.

``openai.Stream`` / ``AsyncStream`` yield from a private generator,
``stream._iterator``. callscope replaces it with a generator that passes every
chunk through after a few slot updates, so the object the caller holds is the very
same ``Stream`` (``type()``, ``isinstance``, ``.response``, ``with``, ``close()``,
the helpers' ``ChatCompletionStream`` / ``ResponseStream`` that iterate it). The call
ends exactly once, on the first of:

* the iterator is exhausted (``exhausted``; status from the content: a chat stream
  that ended without a finish reason, or a response without its terminal event,
  is ``incomplete``);
* the iterator raises (``error``);
* the HTTP response is closed while the iterator is not running: ``close()``,
  ``with``/``async with``, or a helper's close (``closed``, incomplete);
* the stream is garbage-collected before any of these (``abandoned``, incomplete).

The close is seen on the HTTP response rather than on ``Stream.close`` because the
helpers close ``raw_stream.response`` directly.

When callscope asked for usage on the caller's behalf, the usage-only chunk is
dropped one level lower when possible, as a server-sent event, before the SDK
builds a pydantic object the caller would never see (``_iter_events`` is wrapped
on the instance; reading a few hundred bytes of JSON costs a fraction of the SDK's
model construction). An event that does not look exactly like that chunk passes
on untouched, and the chunk-level filter (``on_chunk``) drops it if it gets there.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

from callscope.instrumentation._call import Call, StreamAccumulator
from callscope.instrumentation._internal_errors import guard

__all__ = ["StreamWatch", "attach_stream", "hook_http_close"]


class StreamWatch:
    __slots__ = ("__weakref__", "acc", "call", "finalizer", "inner")

    def __init__(self, call: Call, acc: StreamAccumulator, inner: Any) -> None:
        self.call = call
        self.acc = acc
        # Weak: a strong reference would keep the Stream alive from the finalizer registry.
        self.inner = weakref.ref(inner)
        self.finalizer: weakref.finalize[Any, Any] | None = None

    def end(self, how: str, exc: BaseException | None = None) -> None:
        finalizer = self.finalizer
        if finalizer is not None:
            finalizer.detach()
        self.call.end_stream(how, exc)

    def chunk_error(self, exc: Exception, item: Any) -> bool:
        """``on_chunk`` raised: report it (re-raised under tests), then stop accumulating."""
        with guard:
            raise exc
        return self.passthrough(item)

    def passthrough(self, item: Any) -> bool:
        """After a failure: record nothing, but still hide the usage chunk callscope asked for."""
        if not self.call.hide_usage_chunk:
            return True
        try:
            return not (item.usage is not None and not item.choices)
        except Exception:
            return True

    def on_http_closed(self, response: Any) -> None:
        if self.call.ended:
            return
        inner = self.inner()
        if inner is None:
            return  # the stream is gone: its finalizer reports it
        # The SDK's own iterator closes the response while it finishes or fails (and again
        # as its frame is torn down): the wrapped iterator reports those endings itself.
        if isinstance(inner, Iterator):
            running, frame = inner.gi_running, inner.gi_frame  # type: ignore[attr-defined]
        else:
            running, frame = inner.ag_running, inner.ag_frame
        if running or frame is None:
            return
        self.end("closed")

    def collected(self) -> None:
        if not self.call.ended:
            self.call.end_stream("abandoned")


def _iterate(inner: Iterator[Any], watch: StreamWatch) -> Iterator[Any]:
    on_chunk = watch.acc.on_chunk
    try:
        for item in inner:
            try:
                keep = on_chunk(item)
            except Exception as exc:
                keep = watch.chunk_error(exc, item)
                on_chunk = watch.passthrough
            if keep:
                yield item
    except GeneratorExit:
        watch.end("abandoned")
        raise
    except BaseException as exc:
        watch.end("error", exc)
        raise
    watch.end("exhausted")


async def _aiterate(inner: AsyncIterator[Any], watch: StreamWatch) -> AsyncIterator[Any]:
    on_chunk = watch.acc.on_chunk
    try:
        async for item in inner:
            try:
                keep = on_chunk(item)
            except Exception as exc:
                keep = watch.chunk_error(exc, item)
                on_chunk = watch.passthrough
            if keep:
                yield item
    except GeneratorExit:
        watch.end("abandoned")
        raise
    except BaseException as exc:
        watch.end("error", exc)
        raise
    watch.end("exhausted")


# Every chunk of a stream that asked for usage says "usage":null; only the last one has an object.
_USAGE_MARKS = ('"usage":{', '"usage": {')
_TakeUsage = Callable[[Mapping[str, Any]], None]


def _is_usage_event(sse: Any, take_usage: _TakeUsage) -> bool:
    """True for the usage-only chunk's event, whose usage then goes to ``take_usage``."""
    data = getattr(sse, "data", None)
    if not isinstance(data, str) or (_USAGE_MARKS[0] not in data and _USAGE_MARKS[1] not in data):
        return False
    try:
        payload = json.loads(data)
    except ValueError:
        return False
    if isinstance(payload, dict) and payload.get("choices") == [] and isinstance(payload.get("usage"), dict):
        take_usage(payload)
        return True
    return False


def _skip_usage_events(events: Iterator[Any], take_usage: _TakeUsage) -> Iterator[Any]:
    for sse in events:
        if not _is_usage_event(sse, take_usage):
            yield sse


async def _askip_usage_events(events: AsyncIterator[Any], take_usage: _TakeUsage) -> AsyncIterator[Any]:
    async for sse in events:
        if not _is_usage_event(sse, take_usage):
            yield sse


def _drop_usage_events(stream: Any, take_usage: _TakeUsage, is_async: bool) -> None:
    original = getattr(stream, "_iter_events", None)
    if not callable(original):
        return
    skip = _askip_usage_events if is_async else _skip_usage_events
    stream._iter_events = lambda: skip(original(), take_usage)


def hook_http_close(response: Any, callback: Callable[[Any], None]) -> None:
    """Call ``callback(response)`` after ``response.close()`` / ``aclose()`` (instance-level hook).

    The hook holds the response weakly: a response -> hook -> response cycle would
    keep it (and the stream) alive until the cycle collector runs.
    """
    ref = weakref.ref(response)
    cls = type(response)
    sync_close = cls.close
    async_close = cls.aclose

    def close() -> None:
        target = ref()
        if target is not None:
            sync_close(target)
            with guard:
                callback(target)

    async def aclose() -> None:
        target = ref()
        if target is not None:
            await async_close(target)
            with guard:
                callback(target)

    response.close = close
    response.aclose = aclose


def attach_stream(call: Call, stream: Any, *, hook_close: bool = True) -> StreamWatch | None:
    """Route ``stream``'s chunks through ``call``; None if the stream is not shaped as expected."""
    inner: Any = getattr(stream, "_iterator", None)
    is_async = hasattr(inner, "__anext__") and hasattr(inner, "ag_running")
    if not is_async and not (hasattr(inner, "__next__") and hasattr(inner, "gi_running")):
        return None
    acc = call.surface.stream(call)
    call.stream_acc = acc
    watch = StreamWatch(call, acc, inner)
    take_usage = getattr(acc, "take_usage", None)
    if call.hide_usage_chunk and take_usage is not None:
        # Safe only before the first chunk: the SDK's iterator calls _iter_events() when it starts.
        _drop_usage_events(stream, take_usage, is_async)
    stream._iterator = _aiterate(inner, watch) if is_async else _iterate(inner, watch)
    if hook_close:
        hook_http_close(stream.response, watch.on_http_closed)
    finalizer = weakref.finalize(stream, watch.collected)
    finalizer.atexit = False
    watch.finalizer = finalizer
    return watch
