"""``with_raw_response`` / ``with_streaming_response``: the caller reads the body later.

* ``with_raw_response`` without streaming returns a ``LegacyAPIResponse`` whose body
  is already read: callscope parses it at once (the SDK caches the parsed object,
  so the caller's own ``.parse()`` returns that same object) and ends the call.
* Otherwise (a raw stream, or any ``with_streaming_response``) the call stays open:
  the response's ``parse()`` is wrapped on the instance, so the first parse either
  records the object or attaches the stream watcher to the returned ``Stream``; a
  body read with ``.read()``/``.iter_lines()`` instead ends the call when the
  HTTP response closes (without usage: callscope does not parse bytes it did not
  see parsed); a response dropped unread ends as ``abandoned``.
"""

from __future__ import annotations

import inspect
import weakref
from typing import Any

from callscope.instrumentation import attributes as A
from callscope.instrumentation._call import INCOMPLETE, OK, Call
from callscope.instrumentation._internal_errors import guard
from callscope.instrumentation._stream import StreamWatch, attach_stream, hook_http_close

__all__ = ["track_raw_response"]


class _Deferred:
    __slots__ = ("__weakref__", "call", "finalizer", "is_stream", "parsing", "watch")

    def __init__(self, call: Call, is_stream: Any) -> None:
        self.call = call
        self.is_stream = is_stream
        self.parsing = False
        self.watch: StreamWatch | None = None
        self.finalizer: weakref.finalize[Any, Any] | None = None

    def parsed(self, value: Any) -> None:
        if self.call.ended or self.watch is not None:
            return
        if self.is_stream(value):
            self.watch = attach_stream(self.call, value, hook_close=False)
            if self.watch is None:
                self.call.end(OK)
        else:
            self.call.end_with_result(value)

    def http_closed(self, response: Any) -> None:
        if self.watch is not None:
            self.watch.on_http_closed(response)
            return
        if self.parsing or self.call.ended:
            return  # parse() reads (and so closes) the body; it reports the result itself
        consumed = bool(getattr(response, "is_stream_consumed", False))
        self.call.end(OK if consumed else INCOMPLETE)

    def collected(self) -> None:
        if self.watch is None and not self.call.ended:
            self.call.attrs[A.STREAM_END] = "abandoned"
            self.call.end(INCOMPLETE)


def _eager_parse(call: Call, raw: Any) -> None:
    try:
        value = raw.parse()
    except Exception as exc:  # the caller's parse would fail the same way, and they will see it
        completion = getattr(exc, "completion", None)
        if completion is not None:
            call.end_with_result(completion)
        else:
            call.end(OK)
        return
    call.end_with_result(value)


def track_raw_response(call: Call, raw: Any, *, legacy: bool, is_stream: Any) -> None:
    if legacy and not call.streamed:
        _eager_parse(call, raw)
        return
    deferred = _Deferred(call, is_stream)
    http_response = raw.http_response
    hook_http_close(http_response, deferred.http_closed)
    ref = weakref.ref(raw)
    parse = type(raw).parse

    if inspect.iscoroutinefunction(parse):

        async def aparse(*args: Any, **kwargs: Any) -> Any:
            deferred.parsing = True
            try:
                value = await parse(ref(), *args, **kwargs)
            finally:
                deferred.parsing = False
            with guard:
                deferred.parsed(value)
            return value

        raw.parse = aparse
    else:

        def sparse(*args: Any, **kwargs: Any) -> Any:
            deferred.parsing = True
            try:
                value = parse(ref(), *args, **kwargs)
            finally:
                deferred.parsing = False
            with guard:
                deferred.parsed(value)
            return value

        raw.parse = sparse
    finalizer = weakref.finalize(raw, deferred.collected)
    finalizer.atexit = False
    deferred.finalizer = finalizer
