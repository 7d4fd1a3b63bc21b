"""One logical API call: what it asked, what came back, how it ended, and its span.

A :class:`Call` lives in two halves:

* **On the calling thread**, only what must happen there: the request hook creates
  it (the parent context and tags where the call was made, the request shape,
  which has to be computed before the caller can mutate its ``messages``, and the
  start time); while the call runs it collects facts in plain slots (attempts,
  headers, usage and ids from the response, stream chunks); ending it stamps the
  end time and hands it to the finisher. Ending is idempotent: whichever path
  comes first (return, exception, stream exhaustion, ``close()``, garbage
  collection) wins.
* **On the finisher thread** (:mod:`._finisher`), :meth:`Call.complete` turns the
  facts into the span (started with the call's own start time and parent, ended
  with its end time), the cost, the header attributes and the metrics.

With ``instrument(finish_in_background=False)`` :meth:`Call.complete` runs inline instead.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from callscope.instrumentation import attributes as A
from callscope.instrumentation._endpoint import Endpoint
from callscope.instrumentation._finisher import FINISHER
from callscope.instrumentation._headers import header_attributes
from callscope.instrumentation._internal_errors import guard
from callscope.instrumentation._metrics import Instruments
from callscope.instrumentation._request_shape import Hasher
from callscope.instrumentation.pricing import PriceBook
from callscope.instrumentation.tags import local_tags, tag_attributes
from opentelemetry import context as otel_context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

__all__ = ["Call", "Config", "StreamAccumulator", "Surface"]

OK, ERROR, INCOMPLETE = "ok", "error", "incomplete"


@dataclass(frozen=True, slots=True)
class Config:
    """Everything a traced call needs from ``instrument(...)``; swapped whole, never mutated."""

    tracer: Tracer
    instruments: Instruments | None
    prices: PriceBook
    hasher: Hasher
    capture_content: bool
    inject_stream_usage: bool
    #: Build spans and metrics on the finisher thread (the default) rather than inline.
    finish_in_background: bool = True


class StreamAccumulator(Protocol):
    """Per-stream state of one API surface. ``on_chunk`` runs for every chunk: keep it tiny."""

    @property
    def chunks(self) -> int:
        """Chunks the caller received."""
        ...

    @property
    def outputs(self) -> int:
        """Chunks carrying output: the ones time per chunk is measured over."""
        ...

    @property
    def first(self) -> float:
        """``perf_counter()`` of the first output chunk (0.0: none yet)."""
        ...

    @property
    def last(self) -> float:
        """``perf_counter()`` of the latest output chunk."""
        ...

    def on_chunk(self, item: Any) -> bool:
        """Take note of ``item``; return False to hide it from the caller (the injected usage chunk)."""
        ...

    def finish(self, call: Call) -> str:
        """Write what was accumulated into ``call``; return the status the content implies."""
        ...


class Surface(Protocol):
    """Request/response knowledge for one API (chat completions, responses, embeddings...)."""

    @property
    def operation(self) -> str: ...

    @property
    def api_type(self) -> str: ...

    def start(self, call: Call, body: Mapping[str, Any]) -> None: ...

    def record(self, call: Call, result: Any) -> str:
        """Record a complete (non-streamed) result; return the call's status."""
        ...

    def stream(self, call: Call) -> StreamAccumulator: ...


class Call:
    __slots__ = (
        "attempt_durations",
        "attempt_started",
        "attempt_statuses",
        "attrs",
        "cache_write_tokens",
        "cached_tokens",
        "config",
        "end_ns",
        "ended",
        "endpoint",
        "exc",
        "hide_usage_chunk",
        "input_tokens",
        "last_headers",
        "last_status",
        "output_tokens",
        "parent",
        "reasoning_tokens",
        "request_model",
        "request_service_tier",
        "response_model",
        "response_service_tier",
        "retry_after",
        "retry_waits",
        "start_ns",
        "status",
        "stream_acc",
        "stream_end",
        "streamed",
        "surface",
        "t0",
        "tags",
        "usage_source",
    )

    def __init__(
        self,
        config: Config,
        surface: Surface,
        endpoint: Endpoint,
        body: Mapping[str, Any],
        streamed: bool,
    ) -> None:
        self.config = config
        self.surface = surface
        self.endpoint = endpoint
        self.streamed = streamed
        self.ended = False
        self.hide_usage_chunk = False
        self.stream_acc: StreamAccumulator | None = None
        self.stream_end: str | None = None
        self.request_model: str | None = None
        self.response_model: str | None = None
        self.request_service_tier: str | None = None
        self.response_service_tier: str | None = None
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.cached_tokens: int | None = None
        self.reasoning_tokens: int | None = None
        self.cache_write_tokens: int | None = None
        self.usage_source: str | None = None
        self.attempt_statuses: list[str] = []
        self.attempt_durations: list[float] = []
        self.attempt_started = 0.0
        self.retry_waits: list[float] = []
        self.retry_after: list[float] = []
        self.last_headers: Any = None
        self.last_status: int | None = None
        self.status = OK
        self.exc: BaseException | None = None
        self.end_ns = 0
        # Where the call was made: the span's parent (and baggage), and the tags. Both immutable.
        self.parent = otel_context.get_current()
        self.tags = local_tags()
        self.attrs: dict[str, Any] = {}
        surface.start(self, body)  # request_model and the request shape, before the caller can mutate it
        self.attrs[A.API_TYPE] = surface.api_type
        if streamed:
            self.attrs[A.STREAM] = True
        self.start_ns = time.time_ns()
        self.t0 = time.perf_counter()

    # --- facts arriving while the call runs -----------------------------------------------

    def set_usage(
        self,
        input_tokens: int | None,
        output_tokens: int | None,
        cached: int | None = None,
        reasoning: int | None = None,
        cache_write: int | None = None,
    ) -> None:
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens
        self.cached_tokens = cached
        self.reasoning_tokens = reasoning
        self.cache_write_tokens = cache_write
        self.usage_source = "api"

    def attempt_begin(self) -> None:
        self.attempt_started = time.perf_counter()

    def attempt_end(self, status: str, headers: Any = None, status_code: int | None = None) -> None:
        self.attempt_durations.append((time.perf_counter() - self.attempt_started) * 1000.0)
        self.attempt_statuses.append(status)
        if headers is not None:
            self.last_headers = headers
            self.last_status = status_code

    def retry_waited(self, wait_ms: float, retry_after_ms: float | None) -> None:
        self.retry_waits.append(wait_ms)
        self.retry_after.append(retry_after_ms or 0.0)

    # --- ending (calling thread) ------------------------------------------------------------

    def end_with_result(self, result: Any) -> None:
        with guard:
            # Read now: the caller owns the result object from here on.
            status = self.surface.record(self, result)
            self.end(status)
            return
        self.end(OK)  # recording failed (swallowed): still end the call

    def end_with_error(self, exc: BaseException) -> None:
        self.end(ERROR if isinstance(exc, Exception) else INCOMPLETE, exc=exc)

    def end_stream(self, how: str, exc: BaseException | None = None) -> None:
        """End a streamed call: ``how`` is exhausted | closed | abandoned | error."""
        if self.ended:
            return
        self.stream_end = how
        self.attrs[A.STREAM_END] = how
        if how == "closed" and self.stream_acc is not None:
            # After close() the caller may still iterate chunks the SDK had buffered: take what
            # was seen up to now. (Other endings stop the iterator, so the finisher reads it.)
            with guard:
                self._stream_facts()
        self.end(ERROR if how == "error" else INCOMPLETE, exc=exc)

    def end(self, status: str, *, exc: BaseException | None = None) -> None:
        if self.ended:
            return
        self.ended = True
        self.end_ns = time.time_ns()
        self.status = status
        self.exc = exc
        if self.config.finish_in_background:
            FINISHER.submit(self)
        else:
            self.complete()

    # --- completing (finisher thread) ---------------------------------------------------------

    def complete(self) -> None:
        """Start and end the span with the call's own times and parent, then record the metrics."""
        status = self.status
        if self.stream_acc is not None:
            content_status = INCOMPLETE
            with guard:
                content_status = self._stream_facts()
            if self.stream_end == "exhausted":
                status = content_status
        error_type: str | None = None
        with guard:
            error_type = self._end_attributes(status)
        span: Span | None = None
        try:
            with guard:
                span = self._start_span()
                if span.is_recording():
                    span.set_attributes(self.attrs)
                    if status == ERROR:
                        span.set_status(Status(StatusCode.ERROR, error_type))
        finally:
            if span is not None:
                span.end(end_time=self.end_ns)  # whatever failed above, never leave a span open
        with guard:
            self._record_metrics(error_type)
        # Drop what the call held on to (the exception's frames, headers) as soon as it is done.
        self.exc = self.last_headers = None

    def _stream_facts(self) -> str:
        """What the stream's accumulator saw, into the attributes; the status its content implies."""
        acc, self.stream_acc = self.stream_acc, None
        if acc is None:
            return INCOMPLETE
        attrs = self.attrs
        attrs[A.STREAM_CHUNKS] = acc.chunks
        if acc.outputs:
            attrs[A.TIME_TO_FIRST_CHUNK] = acc.first - self.t0
            if acc.outputs > 1:
                attrs[A.TIME_PER_CHUNK_MS] = (acc.last - acc.first) * 1000.0 / (acc.outputs - 1)
        return acc.finish(self)

    def _start_span(self) -> Span:
        surface, endpoint = self.surface, self.endpoint
        # Only what samplers may look at goes in at the start, as an inline span would have it.
        start: dict[str, Any] = {A.OPERATION: surface.operation, A.PROVIDER: endpoint.provider}
        if self.request_model is not None:
            start[A.REQUEST_MODEL] = self.request_model
        if endpoint.address is not None:
            start[A.SERVER_ADDRESS] = endpoint.address
            if endpoint.port is not None:
                start[A.SERVER_PORT] = endpoint.port
        name = f"{surface.operation} {self.request_model}" if self.request_model else surface.operation
        return self.config.tracer.start_span(
            name, context=self.parent, kind=SpanKind.CLIENT, attributes=start, start_time=self.start_ns
        )

    def _end_attributes(self, status: str) -> str | None:
        """Everything known at the end, into ``attrs``; returns the ``error.type`` if any."""
        attrs = self.attrs
        attrs[A.STATUS] = status
        error_type: str | None = None
        exc = self.exc
        if exc is not None:
            error_type = type(exc).__qualname__
            attrs[A.ERROR_TYPE] = error_type
            _error_details(exc, attrs, self)
        elif status == ERROR:
            error_type = attrs.get(A.ERROR_TYPE) or "_OTHER"
            attrs[A.ERROR_TYPE] = error_type
        if self.response_model is not None:
            attrs[A.RESPONSE_MODEL] = self.response_model
        if self.response_service_tier is not None:
            attrs[A.RESPONSE_SERVICE_TIER] = self.response_service_tier
        self._usage_and_cost(attrs)
        self._attempts(attrs)
        tag_attributes(self.tags, self.parent, attrs)
        return error_type

    def _record_metrics(self, error_type: str | None) -> None:
        instruments = self.config.instruments
        if instruments is None:
            return
        attrs, endpoint = self.attrs, self.endpoint
        per_chunk = attrs.get(A.TIME_PER_CHUNK_MS)
        instruments.record(
            (
                self.surface.operation,
                endpoint.provider,
                self.request_model,
                self.response_model,
                endpoint.address,
                endpoint.port,
                self.response_service_tier,
            ),
            context=self.parent,
            duration_s=(self.end_ns - self.start_ns) / 1e9,
            error_type=error_type,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            ttfc_s=attrs.get(A.TIME_TO_FIRST_CHUNK),
            time_per_chunk_s=per_chunk / 1000.0 if per_chunk is not None else None,
            cost_usd=attrs.get(A.COST_USD),
        )

    def _usage_and_cost(self, attrs: dict[str, Any]) -> None:
        if self.usage_source is None:
            return
        attrs[A.USAGE_SOURCE] = self.usage_source
        for key, value in (
            (A.INPUT_TOKENS, self.input_tokens),
            (A.OUTPUT_TOKENS, self.output_tokens),
            (A.CACHED_INPUT_TOKENS, self.cached_tokens),
            (A.REASONING_TOKENS, self.reasoning_tokens),
            (A.CACHE_WRITE_INPUT_TOKENS, self.cache_write_tokens),
        ):
            if value is not None:
                attrs[key] = value
        model = self.response_model or self.request_model
        if model is None or self.input_tokens is None:
            return
        tier = self.response_service_tier or self.request_service_tier
        if tier == "auto":
            tier = None
        cost = self.config.prices.cost(
            model,
            self.endpoint.price_provider,
            service_tier=tier,
            when_ns=self.start_ns,
            input_tokens=self.input_tokens,
            cached_tokens=self.cached_tokens or 0,
            cache_write_tokens=self.cache_write_tokens or 0,
            output_tokens=self.output_tokens or 0,
        )
        if cost is not None:
            attrs[A.COST_USD] = cost.total
            attrs[A.COST_INPUT_USD] = cost.input
            attrs[A.COST_OUTPUT_USD] = cost.output
            attrs[A.PRICE_MODEL] = cost.model_id
            attrs[A.PRICE_PROVIDER] = cost.provider_id

    def _attempts(self, attrs: dict[str, Any]) -> None:
        if self.last_headers is not None:
            header_attributes(self.last_headers, attrs)
        if self.last_status is not None:
            attrs[A.HTTP_STATUS] = self.last_status
        statuses = self.attempt_statuses
        if not statuses:
            return
        attrs[A.ATTEMPTS] = len(statuses)
        attrs[A.ATTEMPT_STATUSES] = statuses
        attrs[A.ATTEMPT_DURATIONS_MS] = self.attempt_durations
        attrs[A.RETRY_WAIT_MS] = sum(self.retry_waits, 0.0)
        if self.retry_waits:
            attrs[A.RETRY_AFTER_MS] = self.retry_after


def _error_details(exc: BaseException, attrs: dict[str, Any], call: Call) -> None:
    """API error code and message (``rate_limit_exceeded`` vs ``insufficient_quota``), status, usage."""
    body = getattr(exc, "body", None)
    error = body.get("error", body) if isinstance(body, Mapping) else None
    error = error if isinstance(error, Mapping) else {}
    code = getattr(exc, "code", None) or error.get("code") or getattr(exc, "type", None)
    if code is not None:
        attrs[A.ERROR_CODE] = str(code)
    # The API's own message (the SDK's str(exc) prefixes "Error code: 429 - ").
    message = error.get("message") or getattr(exc, "message", None)
    if isinstance(message, str) and message:
        attrs[A.ERROR_MESSAGE] = message[:500]
    status_code = getattr(exc, "status_code", None)
    if isinstance(status_code, int):
        attrs[A.HTTP_STATUS] = status_code
    # A structured-output parse that failed after the API answered (LengthFinishReasonError,
    # ContentFilterFinishReasonError) still billed the tokens: record them.
    completion = getattr(exc, "completion", None)
    if completion is not None and call.usage_source is None:
        with guard:
            call.surface.record(call, completion)
