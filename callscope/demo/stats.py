"""What the simulator served: the ground truth a test or the demo compares callscope's numbers against.

Every HTTP request the simulator answers (or drops on purpose) is one :class:`RequestRecord`, whatever its
outcome. Token totals count answers the client received in full (a stream cut or abandoned part-way is not
counted, since the client never saw its usage).
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["ModelStats", "RequestRecord", "SimulatorStats", "StatsRecorder"]


@dataclass(frozen=True)
class RequestRecord:
    """One HTTP request as the simulator saw and answered it."""

    #: ``x-request-id`` sent back (``req_...``); callscope stores it as ``request_id``.
    request_id: str
    #: ``chat.completions``, ``responses``, ``responses.retrieve``, ``embeddings``, ``models`` or ``unknown``.
    endpoint: str
    #: The profile name (``gpt-4o-mini`` also for ``gpt-4o-mini-2024-07-18``); None if the model is unknown.
    model: str | None
    #: HTTP status sent; 0 when the connection was closed without an answer (``disconnect``) or the
    #: client had gone before the answer was ready.
    status: int
    stream: bool = False
    #: ``x-stainless-retry-count``: 0 for a first attempt, n for the SDK's nth retry.
    attempt: int = 0
    #: The injected fault (``server_error``, ``overloaded``, ``slow``, ``cut_stream``, ``disconnect``,
    #: ``rate_limited`` when forced by header), None for none.
    fault: str | None = None
    #: For error answers: the error's code or type (``rate_limit_exceeded``, ``insufficient_quota``,
    #: ``model_not_found``, ``invalid_request``, ``server_error``, ``overloaded``...).
    error: str | None = None
    input_tokens: int = 0
    cached_tokens: int = 0
    #: Completion tokens, reasoning included, as the usage reports them.
    output_tokens: int = 0
    reasoning_tokens: int = 0
    finish_reasons: tuple[str, ...] = ()
    #: The client received the whole answer (the final chunk, or the full body).
    completed: bool = False
    #: What ``openai-processing-ms`` said (wall-clock ms), 0 when no header was sent.
    processing_ms: float = 0.0
    #: Wall-clock ms the simulator meant the whole answer to take (network, queueing, TTFT, generation,
    #: stalls): the latency a client should observe when nothing else is slow.
    planned_ms: float = 0.0
    #: Wall-clock time the request arrived (``time.time()``).
    received_at: float = 0.0


@dataclass(frozen=True)
class ModelStats:
    requests: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    #: Answers with ``cached_tokens > 0``.
    cache_hits: int = 0


@dataclass(frozen=True)
class SimulatorStats:
    """Totals over every request so far."""

    requests: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    by_endpoint: dict[str, int] = field(default_factory=dict)
    #: Error answers by ``RequestRecord.error``.
    by_error: dict[str, int] = field(default_factory=dict)
    #: Injected faults by name.
    faults: dict[str, int] = field(default_factory=dict)
    #: Per profile name (requests with an unknown model are only in the totals).
    models: dict[str, ModelStats] = field(default_factory=dict)
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cache_hits: int = 0
    #: Streams the client received in full / cut by a fault / left before the end.
    streams_completed: int = 0
    streams_cut: int = 0
    streams_abandoned: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _ModelTotals:
    __slots__ = ("by_status", "cache_hits", "cached", "input", "output", "reasoning", "requests")

    def __init__(self) -> None:
        self.requests = 0
        self.by_status: Counter[int] = Counter()
        self.input = self.cached = self.output = self.reasoning = self.cache_hits = 0


class StatsRecorder:
    """Thread-safe accumulation of :class:`RequestRecord` s."""

    def __init__(self, log_size: int) -> None:
        self._lock = threading.Lock()
        self._log: deque[RequestRecord] = deque(maxlen=log_size)
        self._by_status: Counter[int] = Counter()
        self._by_endpoint: Counter[str] = Counter()
        self._by_error: Counter[str] = Counter()
        self._faults: Counter[str] = Counter()
        self._models: dict[str, _ModelTotals] = {}
        self._streams: Counter[str] = Counter()
        self._requests = 0
        self._total = _ModelTotals()

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            self._log.append(record)
            self._apply(record, 1)

    def amend(self, old: RequestRecord, new: RequestRecord) -> None:
        """Replace a record added too early (the client hung up during the last write)."""
        with self._lock:
            for i in range(len(self._log) - 1, -1, -1):
                if self._log[i] is old:
                    self._log[i] = new
                    break
            self._apply(old, -1)
            self._apply(new, 1)

    def _apply(self, record: RequestRecord, sign: int) -> None:
        self._requests += sign
        self._by_status[record.status] += sign
        self._by_endpoint[record.endpoint] += sign
        if record.error:
            self._by_error[record.error] += sign
        if record.fault:
            self._faults[record.fault] += sign
        if record.stream and record.status == 200:
            outcome = (
                "completed" if record.completed else "cut" if record.fault == "cut_stream" else "abandoned"
            )
            self._streams[outcome] += sign
        totals = [self._total]
        if record.model is not None:
            totals.append(self._models.setdefault(record.model, _ModelTotals()))
        for t in totals:
            t.requests += sign
            t.by_status[record.status] += sign
            if record.status == 200 and record.completed:
                t.input += sign * record.input_tokens
                t.cached += sign * record.cached_tokens
                t.output += sign * record.output_tokens
                t.reasoning += sign * record.reasoning_tokens
                t.cache_hits += sign * (record.cached_tokens > 0)

    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._log)

    def snapshot(self) -> SimulatorStats:
        with self._lock:
            models = {
                name: ModelStats(
                    t.requests, _nonzero(t.by_status), t.input, t.cached, t.output, t.reasoning, t.cache_hits
                )
                for name, t in sorted(self._models.items())
            }
            total = self._total
            return SimulatorStats(
                requests=self._requests,
                by_status=_nonzero(self._by_status),
                by_endpoint=_nonzero(self._by_endpoint),
                by_error=_nonzero(self._by_error),
                faults=_nonzero(self._faults),
                models=models,
                input_tokens=total.input,
                cached_tokens=total.cached,
                output_tokens=total.output,
                reasoning_tokens=total.reasoning,
                cache_hits=total.cache_hits,
                streams_completed=self._streams["completed"],
                streams_cut=self._streams["cut"],
                streams_abandoned=self._streams["abandoned"],
            )


def _nonzero(counter: Counter[Any]) -> dict[Any, int]:
    return {key: count for key, count in sorted(counter.items()) if count}
