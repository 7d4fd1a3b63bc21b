"""The finisher: ended calls become spans and metrics on one background thread.

The calling thread only captures facts (timestamps, the parent context, the
request shape, the response's usage and ids: see :mod:`._call`) and hands the
ended :class:`~._call.Call` to :data:`FINISHER`. A daemon thread then starts the
span with the call's own start time and parent, writes its attributes, prices
it, parses the headers, ends it with the call's end time and records the
metrics. The span is the same as if it had been built inline; only its export
happens a little later, as with a ``BatchSpanProcessor``.

Nothing is lost on the usual ways out:

* :func:`flush` waits until every call ended so far is finished (also run by
  ``uninstrument()``, by ``callscope.instrument()``'s flush at exit, and at
  interpreter exit by an ``atexit`` hook that runs before the SDK providers' own);
* ``TracerProvider.force_flush()`` and ``shutdown()`` drain it first: a tiny span
  processor is put at the head of the provider's processors (:func:`hook_provider`);
* every metric collection drains it first (the cost counter's callback does), so a
  reader sees every call that has ended;
* a forked child starts with an empty queue (the parent finishes what it had) and
  starts its own thread on its first call.

The queue is bounded without losing anything: past :data:`MAX_PENDING` calls
waiting (a finisher starved of the GIL by busy threads, say), the thread that
ends a call also finishes the oldest waiting one itself, so the queue stops
growing and every call still becomes a span; the app pays the inline price
only while the finisher is behind. It is a ``queue.SimpleQueue``, whose ``put``
is safe from a garbage-collection finalizer (an abandoned stream ends there).
"""

from __future__ import annotations

import atexit
import functools
import os
import queue
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any, Protocol

from callscope.instrumentation._internal_errors import log, reraise_now

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

__all__ = ["FINISHER", "MAX_PENDING", "Finisher", "flush", "hook_provider"]

#: Ended calls waiting for the finisher before callers help finish them (a few KiB each).
MAX_PENDING = 10_000
#: How long interpreter exit waits for the finisher.
EXIT_TIMEOUT_S = 10.0
_BEHIND_LOG_EVERY_S = 60.0


class Finishable(Protocol):
    def complete(self) -> None:
        """Build and end the span, record the metrics (runs on the finisher thread)."""


class _Marker:
    """Put in the queue by :meth:`Finisher.flush`: set once everything before it is finished."""

    __slots__ = ("event",)

    def __init__(self) -> None:
        self.event = threading.Event()


class Finisher:
    """A FIFO of ended calls and the daemon thread that completes them."""

    def __init__(self, max_pending: int = MAX_PENDING) -> None:
        self.max_pending = max_pending
        #: Calls a calling thread finished itself because the finisher was behind.
        self.finished_by_callers = 0
        self._last_behind_log = -_BEHIND_LOG_EVERY_S
        self._reset()

    def _reset(self) -> None:
        self._queue: queue.SimpleQueue[Finishable | _Marker] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.RLock()  # re-entrant: a finalizer may submit while we start
        self._errors: list[BaseException] = []

    # --- the calling thread's side -------------------------------------------------------

    def submit(self, call: Finishable) -> None:
        """Queue an ended call (cheap, never blocks, safe in a finalizer)."""
        pending = self._queue
        pending.put(call)
        if self._thread is None:
            self._start()
        if pending.qsize() > self.max_pending:
            self._help()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is not None:
                return
            thread = threading.Thread(target=self._run, args=(self._queue,), name="callscope-finisher")
            thread.daemon = True
            try:
                thread.start()
            except RuntimeError:  # interpreter shutting down: finish inline from now on
                self._drain_inline()
                return
            self._thread = thread
            # Run at exit before the providers shut down: atexit runs the last registered first,
            # and the providers registered theirs when they were created, before any call.
            atexit.unregister(_flush_at_exit)
            atexit.register(_flush_at_exit)

    def _help(self) -> None:
        """The finisher is behind: finish the oldest waiting call on this thread, so none is lost."""
        try:
            item = self._queue.get_nowait()
        except queue.Empty:
            return
        if isinstance(item, _Marker):
            # A flush waits on it: back of the queue, so it is set after more, never before its calls.
            self._queue.put(item)
            return
        self.finished_by_callers += 1
        now = time.monotonic()
        if now - self._last_behind_log >= _BEHIND_LOG_EVERY_S:
            self._last_behind_log = now
            log.warning(
                "callscope: spans are being built slower than calls end; the app's threads help",
                max_pending=self.max_pending,
                finished_by_callers=self.finished_by_callers,
            )
        self._process(item)

    # --- the finisher thread ---------------------------------------------------------------

    def _run(self, pending: queue.SimpleQueue[Finishable | _Marker]) -> None:
        while True:
            self._process(pending.get())

    def _process(self, item: Finishable | _Marker) -> None:
        if isinstance(item, _Marker):
            item.event.set()
            return
        try:
            item.complete()
        except Exception as exc:  # the finisher thread must survive anything
            if reraise_now():  # under pytest: guard let it through; flush() raises it in the test
                if len(self._errors) < 10:
                    self._errors.append(exc)
            else:
                log.exception("callscope internal error while finishing a call (swallowed)")

    def _drain_inline(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            self._process(item)

    def pending(self) -> int:
        """How many ended calls (and flush markers) are waiting."""
        return self._queue.qsize()

    # --- flushing -------------------------------------------------------------------------

    def flush(self, timeout_s: float = 30.0) -> bool:
        """Wait until every call ended before this is a span; False on timeout.

        Under pytest, an internal error raised while finishing is re-raised here.
        """
        thread = self._thread
        if thread is threading.current_thread():
            return True  # called from a finishing step (an exporter's flush): never wait on ourselves
        if thread is None or not thread.is_alive():
            self._drain_inline()
            done = True
        else:
            marker = _Marker()
            self._queue.put(marker)
            done = marker.event.wait(timeout_s)
        if self._errors:
            errors, self._errors = self._errors, []
            if reraise_now():
                raise errors[0]
        return done

    def after_fork_in_child(self) -> None:
        """A child inherits the parent's queue but not its thread: start afresh, empty."""
        self._reset()


#: The process's finisher; every instrumentor configuration shares it.
FINISHER = Finisher()


def flush(timeout_s: float = 30.0) -> bool:
    """Make sure every OpenAI call that has ended so far is a span and in the metrics.

    callscope builds spans on a background thread; ``uninstrument()``, interpreter
    exit and ``TracerProvider.force_flush()`` / ``shutdown()`` already wait for it.
    Call this before reading spans some other way right after a call (an
    ``InMemorySpanExporter`` in a test, say). Returns False if ``timeout_s`` passed.
    """
    return FINISHER.flush(timeout_s)


def _flush_at_exit() -> None:
    try:
        FINISHER.flush(EXIT_TIMEOUT_S)
    except Exception as exc:  # never turn an app's exit into a traceback
        log.warning("callscope: finishing calls at exit failed", error=str(exc))


atexit.register(_flush_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=FINISHER.after_fork_in_child)


# --- the tracer provider hook ------------------------------------------------------------------


@functools.cache
def _flush_first_class() -> type[SpanProcessor]:
    from opentelemetry.sdk.trace import SpanProcessor  # the SDK only when there is an SDK provider

    class FlushFirst(SpanProcessor):
        """Drains the finisher when the provider is flushed or shut down; nothing per span."""

        def on_start(self, span: Span, parent_context: Context | None = None) -> None:
            """Nothing: only flushing is callscope's business here."""

        def on_end(self, span: ReadableSpan) -> None:
            """Nothing."""

        def shutdown(self) -> None:
            FINISHER.flush(EXIT_TIMEOUT_S)

        def force_flush(self, timeout_millis: int = 30_000) -> bool:
            return FINISHER.flush(timeout_millis / 1000.0)

    return FlushFirst


_HOOKED: weakref.WeakSet[Any] = weakref.WeakSet()


def hook_provider(provider: Any) -> None:
    """Make ``provider.force_flush()`` / ``shutdown()`` drain the finisher before its processors run.

    Only for the OpenTelemetry SDK's ``TracerProvider`` (others have no processors).
    The hook goes at the head of the provider's processors so that the spans it
    drains reach the processors that flush next (a ``BatchSpanProcessor`` added
    earlier, say). The SDK has no public way to prepend: if its internals are not
    as expected the hook stays appended (the drained spans are then exported by
    the processors' next flush rather than this one).
    """
    from opentelemetry.sdk.trace import TracerProvider

    if not isinstance(provider, TracerProvider) or provider in _HOOKED:
        return
    _HOOKED.add(provider)
    hook = _flush_first_class()()
    provider.add_span_processor(hook)
    active: Any = getattr(provider, "_active_span_processor", None)
    lock = getattr(active, "_lock", None)
    if lock is None or not isinstance(getattr(active, "_span_processors", None), tuple):
        return
    with lock:
        processors = active._span_processors
        if processors and processors[-1] is hook:
            active._span_processors = (hook, *processors[:-1])
