"""What the demo app saw of each of its calls, measured on its side of the SDK.

This is the workload's own account, independent of callscope: it times each call with its own clock and
reads the token counts from the SDK's response objects. The ground truth is computed from it, and the
end-to-end tests hold callscope's call log against it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import openai

__all__ = ["CallRecord", "Measure", "Recorder", "prefix_chars", "request_key"]


@dataclass
class CallRecord:
    """One logical API call of the demo app (retries inside the SDK are part of it)."""

    #: Which part of the app made it: ``support-chat``, ``nightly-digest``, ...
    feature: str
    #: ``chat`` or ``embeddings``.
    operation: str
    model: str
    stream: bool
    #: ``time.time()`` when the app called the SDK.
    started_at: float
    #: Wall-clock milliseconds until the SDK returned (streams: until the last chunk was read).
    duration_ms: float = 0.0
    #: Streams: milliseconds until the first chunk reached the app.
    ttft_ms: float | None = None
    status: str = "ok"
    error_type: str | None = None
    #: ``x-request-id`` of the answer the SDK returned (of the last attempt).
    request_id: str | None = None
    response_model: str | None = None
    input_tokens: int | None = None
    cached_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    finish_reason: str | None = None
    #: ``max_tokens`` the app set, if any.
    max_tokens: int | None = None
    #: Characters of the fixed prompt prefix the app sent (instructions, then tools as compact sorted JSON).
    prefix_chars: int = 0
    #: The app's own fingerprint of the request body, to know which calls repeat one another.
    request_key: str = ""
    #: The route of the request handler the call was made in, if any.
    route: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    #: Embedding inputs in the request.
    inputs: int = 1
    #: Tools offered.
    tools: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def prefix_chars(instructions: str | None, tools: Any = None) -> int:
    """Characters of a request's fixed prefix as callscope defines it: the leading instructions, then the tool
    definitions serialised as compact JSON with sorted keys (so their key order does not matter)."""
    size = len(instructions or "")
    if tools:
        size += len(json.dumps(tools, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    return size


def request_key(body: Mapping[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, default=str)


class Measure:
    """Fills one :class:`CallRecord` from the SDK's answer."""

    def __init__(self, record: CallRecord) -> None:
        self.record = record
        self._start = time.perf_counter()

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self._start) * 1000

    def first_chunk(self) -> None:
        if self.record.ttft_ms is None:
            self.record.ttft_ms = self.elapsed_ms()

    def completion(self, response: Any) -> None:
        """A non-streamed chat completion, or a stream's final usage chunk."""
        record = self.record
        record.response_model = response.model
        usage = response.usage
        if usage is not None:
            record.input_tokens = usage.prompt_tokens
            record.output_tokens = usage.completion_tokens
            details = usage.prompt_tokens_details
            record.cached_tokens = (details.cached_tokens or 0) if details else 0
            output_details = usage.completion_tokens_details
            record.reasoning_tokens = (output_details.reasoning_tokens or 0) if output_details else 0
        for choice in response.choices or ():
            if choice.finish_reason:
                record.finish_reason = choice.finish_reason
        request_id = getattr(response, "_request_id", None)
        if request_id:
            record.request_id = request_id

    def chunk(self, chunk: Any) -> None:
        self.first_chunk()
        if chunk.choices:
            finish = chunk.choices[0].finish_reason
            if finish:
                self.record.finish_reason = finish
        if chunk.usage is not None:
            self.completion(chunk)
        self.record.response_model = chunk.model

    def embedding(self, response: Any) -> None:
        record = self.record
        record.response_model = response.model
        record.input_tokens = response.usage.prompt_tokens
        record.request_id = getattr(response, "_request_id", None)

    def headers(self, headers: Mapping[str, str]) -> None:
        self.record.request_id = headers.get("x-request-id") or self.record.request_id


class Recorder:
    """Thread-safe list of :class:`CallRecord`, with a callback after each call (the progress bar)."""

    def __init__(self, on_call: Callable[[CallRecord], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._records: list[CallRecord] = []
        self._on_call = on_call

    @contextmanager
    def measure(self, feature: str, *, operation: str = "chat", **fields: Any) -> Iterator[Measure]:
        """Time one SDK call made inside the block; an API error is recorded and re-raised."""
        record = CallRecord(feature=feature, operation=operation, started_at=time.time(), **fields)
        measure = Measure(record)
        try:
            yield measure
        except openai.APIError as err:
            record.status = "error"
            record.error_type = type(err).__name__
            record.request_id = getattr(err, "request_id", None) or record.request_id
            raise
        finally:
            record.duration_ms = measure.elapsed_ms()
            with self._lock:
                self._records.append(record)
            if self._on_call is not None:
                self._on_call(record)

    def records(self) -> list[CallRecord]:
        with self._lock:
            return sorted(self._records, key=lambda r: r.started_at)
