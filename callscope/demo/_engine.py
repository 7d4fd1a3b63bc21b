"""The simulated API apart from HTTP: a request goes in, a planned reply comes out.

A reply carries its content (a JSON body or the list of stream events) and its timing in simulated seconds;
the HTTP layer sleeps and writes. The engine owns the shared state (rate-limit buckets, the prompt cache,
stored responses, quota, statistics, the per-request occurrence counts that seed each request's generator)
behind locks; the endpoints themselves live in :mod:`callscope.demo._endpoints`.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from callscope.demo import _apierrors as errors
from callscope.demo._apierrors import ApiError
from callscope.demo._cache import PromptCache
from callscope.demo._faults import drawn_fault, forced_fault, rate_limited, server_fault
from callscope.demo._limits import Admission, RateLimiter
from callscope.demo._model import Answer
from callscope.demo._params import TIERS, json_body
from callscope.demo._random import alnum, derive, factor, hexid
from callscope.demo._textgen import PieceCosts
from callscope.demo._wire import CallInfo, Event, Usage
from callscope.demo.config import SimulatorConfig
from callscope.demo.profiles import ModelProfile, profile_table
from callscope.demo.stats import RequestRecord, StatsRecorder
from callscope.demo.tokens import get_tokenizer

_STORED_RESPONSES = 2_000
#: How long the API's edge takes to answer without a model (refusals, listings), in simulated seconds.
EDGE_S = 0.004


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, str]
    #: Lower-cased header names.
    headers: Mapping[str, str]
    body: bytes


@dataclass
class Reply:
    """What to send and when. Times are simulated seconds from the start of processing."""

    status: int
    headers: dict[str, str]
    record: RequestRecord
    body: bytes = b""
    #: Stream events, or None for a plain answer.
    events: list[Event] | None = None
    #: Client-server round trip before processing starts: seen by the client, not in openai-processing-ms.
    network_s: float = 0.0
    #: When stream events stamped with a negative offset go out (after queueing).
    queue_s: float = 0.0
    #: When the plain answer is ready, or when a stream's token offset 0 is due.
    ready_s: float = 0.0
    #: Seconds per output token (streams).
    token_s: float = 0.0
    #: Extra wait before anything is sent (the ``slow`` fault).
    stall_s: float = 0.0
    #: Close the connection after this many events (the ``cut_stream`` fault).
    cut_after: int | None = None
    #: Close the connection without answering (the ``disconnect`` fault).
    drop: bool = False

    def planned_s(self) -> float:
        """Simulated seconds from arrival to the last byte, as planned (a cut stream would end earlier)."""
        last = max(0.0, self.events[-1][0]) if self.events else 0.0
        return self.network_s + self.stall_s + self.ready_s + last * self.token_s


@dataclass
class Call:
    """One request being handled."""

    request: Request
    endpoint: str
    #: Draws for this attempt only (ids, faults, timing jitter), seeded by the request and its occurrence.
    rng: random.Random
    attempt: int
    request_id: str
    received_at: float
    model: str | None = None
    stream: bool = False
    fault: str | None = None
    admission: Admission | None = None
    network_s: float = 0.0
    error_delay_s: float = EDGE_S


@dataclass
class Stored:
    """A response kept for ``GET /v1/responses/{id}`` and ``previous_response_id``."""

    info: CallInfo
    body: Mapping[str, Any]
    answer: Answer
    usage: Usage
    items: list[dict[str, Any]]
    #: The conversation so far, as prompt tokens.
    conversation: list[int]
    events: list[Event] | None = None


@dataclass
class Timing:
    queue_s: float
    first_token_s: float
    token_s: float


class Drop(Exception):
    """Close the connection without an answer."""


class Engine:
    """Plans replies; thread-safe."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.tokenizer = get_tokenizer(config.exact_tokens)
        self.costs = PieceCosts(self.tokenizer)
        self.profiles = profile_table(config.models.values())
        self.limiter = RateLimiter(config.time_scale)
        self.cache = PromptCache(config.prompt_cache_ttl_s)
        self.stats = StatsRecorder(config.request_log_size)
        self._lock = threading.Lock()
        self._occurrences: dict[bytes, int] = {}
        self._quota_used = 0
        self._stored: OrderedDict[str, Stored] = OrderedDict()

    def now(self) -> float:
        """Simulated time in seconds (monotonic)."""
        return time.monotonic() / self.config.time_scale

    def handle(self, request: Request) -> Reply:
        from callscope.demo._endpoints import dispatch  # the endpoints build on this module

        # Retries and verbatim repeats of a request share a key; the nth occurrence gets the nth generator.
        key = hashlib.blake2b(
            b"%s %s\n%s" % (request.method.encode(), request.path.encode(), request.body)
        ).digest()
        with self._lock:
            occurrence = self._occurrences.get(key, 0)
            self._occurrences[key] = occurrence + 1
        rng = derive(self.config.seed, "attempt", key, occurrence)
        retry_header = request.headers.get("x-stainless-retry-count", "")
        call = Call(
            request=request,
            endpoint=endpoint_name(request.path),
            rng=rng,
            attempt=int(retry_header) if retry_header.isdigit() else occurrence,
            request_id=f"req_{hexid(rng, 32)}",
            received_at=time.time(),
        )
        call.network_s = self.config.network_ms / 1000 * factor(rng, self.config.jitter)
        try:
            self._authenticate(request)
            return dispatch(self, call)
        except ApiError as err:
            return self.error(call, err)
        except Drop:
            return Reply(
                0, {}, self.record(call, 0), network_s=call.network_s, ready_s=call.error_delay_s, drop=True
            )

    def internal_error(self, request: Request) -> Reply:
        """The answer to a request the engine failed on (a bug): a 500 recorded as ``simulator_bug``."""
        err = errors.server_error()
        err.kind = "simulator_bug"
        call = Call(
            request, endpoint_name(request.path), random.Random(0), 0, "req_simulator_bug", time.time()
        )
        return self.error(call, err)

    def _authenticate(self, request: Request) -> None:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise errors.no_api_key()
        if self.config.api_keys is not None and key.strip() not in self.config.api_keys:
            raise errors.invalid_api_key(key.strip())

    # -- pieces the endpoints use -------------------------------------------------------------------------

    def body(self, call: Call) -> dict[str, Any]:
        body = json_body(call.request.body)
        call.stream = body.get("stream") is True
        return body

    def profile(self, call: Call, body: Mapping[str, Any], kind: str) -> ModelProfile:
        name = body.get("model")
        if not name:
            raise errors.invalid("you must provide a model parameter")
        profile = self.profiles.get(str(name))
        if profile is None:
            raise errors.model_not_found(str(name))
        call.model = profile.name
        if profile.kind != kind:
            if kind == "chat":
                raise ApiError(
                    404,
                    "This is not a chat model and thus not supported in the "
                    f"{call.request.path[1:]} endpoint.",
                    param="model",
                    kind="invalid_request",
                )
            raise errors.invalid(f"The model `{name}` does not support embeddings.", param="model")
        return profile

    def admit(self, call: Call, profile: ModelProfile, cost: int) -> None:
        """Quota, then faults and rate limits; raises the error answer when the request does not pass.

        ``cost`` is the token estimate the API charges up front: the input plus the most it may generate.
        """
        config = self.config
        with self._lock:
            exhausted = config.quota_tokens is not None and self._quota_used >= config.quota_tokens
        if exhausted:
            raise errors.insufficient_quota()
        forced = forced_fault(call.request.headers, call.attempt)
        drawn = drawn_fault(config.faults_for(profile.name), call.rng, call.stream)
        call.fault = forced or drawn
        admission = self.limiter.admit(
            profile.name,
            profile.requests_per_minute,
            profile.tokens_per_minute,
            cost,
            self.now(),
            consume=call.fault != "rate_limited",  # a refusal costs nothing
        )
        call.admission = admission
        if call.fault == "rate_limited" or (not admission.allowed and config.rate_limits):
            raise rate_limited(
                profile, admission, cost, forced=call.fault == "rate_limited", scale=config.time_scale
            )
        if call.fault in ("server_error", "overloaded", "disconnect"):
            # The failure comes after some processing, not at the edge.
            queue = call.rng.expovariate(1000 / max(1.0, config.queue_ms))
            call.error_delay_s = queue + call.rng.uniform(0.05, 0.5)
            if call.fault == "disconnect":
                raise Drop
            retry = config.server_error_retry_after_s
            raise server_fault(call.fault, None if retry is None else retry * config.time_scale)

    def spend(self, usage: Usage) -> None:
        with self._lock:
            self._quota_used += usage.total_tokens

    def timing(self, call: Call, profile: ModelProfile, input_tokens: int, cached: int, tier: str) -> Timing:
        """Queueing, time to first token (growing with the uncached input) and time per output token."""
        rng, config = call.rng, self.config
        _, speed, slow_start, queueing = TIERS[tier]
        queue = rng.expovariate(1000 / config.queue_ms) * queueing if config.queue_ms > 0 else 0.0
        rate = profile.prefill_tokens_per_second
        prefill = (input_tokens - cached) / rate + cached / (rate * profile.cached_prefill_speedup)
        ttft = (profile.ttft_ms / 1000 + prefill) * factor(rng, config.jitter) * slow_start
        token_s = 1 / (profile.tokens_per_second * factor(rng, config.jitter) * speed)
        return Timing(queue, queue + ttft, token_s)

    def info(self, call: Call, kind: str, profile: ModelProfile, tier: str) -> CallInfo:
        fingerprint = f"fp_{hexid(derive(self.config.seed, 'fingerprint', profile.name), 10)}"
        ident = f"chatcmpl-{alnum(call.rng, 29)}" if kind == "chat" else f"resp_{hexid(call.rng, 50)}"
        return CallInfo(ident, int(time.time()), profile.snapshot, TIERS[tier][0], fingerprint)

    def content_rng(self, content_key: str, choice: int) -> random.Random:
        """The generator for an answer's content: same request content, same answer."""
        return derive(self.config.seed, "content", content_key, choice)

    def record(self, call: Call, status: int, **fields: Any) -> RequestRecord:
        return RequestRecord(
            request_id=call.request_id,
            endpoint=call.endpoint,
            model=call.model,
            status=status,
            stream=call.stream,
            attempt=call.attempt,
            fault=call.fault,
            received_at=call.received_at,
            **fields,
        )

    def headers(self, call: Call, content_type: str = "application/json") -> dict[str, str]:
        headers = {
            "content-type": content_type,
            "x-request-id": call.request_id,
            "openai-version": "2020-10-01",
            "openai-organization": self.config.organization,
            "access-control-expose-headers": "X-Request-ID",
        }
        if call.admission is not None:
            headers.update(call.admission.headers())
        return headers

    def error(self, call: Call, err: ApiError) -> Reply:
        headers = {**self.headers(call), **err.headers}
        record = self.record(call, err.status, error=err.kind)
        return Reply(
            err.status, headers, record, err.body(), network_s=call.network_s, ready_s=call.error_delay_s
        )

    def plain(self, call: Call, record: RequestRecord, data: bytes, ready_s: float) -> Reply:
        return Reply(
            200,
            self.headers(call),
            record,
            data,
            network_s=call.network_s,
            ready_s=ready_s,
            stall_s=self._stall(call),
        )

    def stream(
        self, call: Call, record: RequestRecord, events: list[Event], timing: Timing, first: float
    ) -> Reply:
        cut = None
        if call.fault == "cut_stream":
            # Somewhere in the middle: after the first event, before the last one.
            cut = max(1, min(len(events) - 1, round(len(events) * call.rng.uniform(0.2, 0.8))))
        return Reply(
            200,
            {**self.headers(call, "text/event-stream; charset=utf-8"), "cache-control": "no-cache"},
            record,
            events=events,
            network_s=call.network_s,
            queue_s=timing.queue_s,
            ready_s=first,
            token_s=timing.token_s,
            stall_s=self._stall(call),
            cut_after=cut,
        )

    def _stall(self, call: Call) -> float:
        return self.config.faults_for(call.model).slow_seconds if call.fault == "slow" and call.model else 0.0

    def store(self, stored: Stored) -> None:
        with self._lock:
            self._stored[stored.info.id] = stored
            while len(self._stored) > _STORED_RESPONSES:
                self._stored.popitem(last=False)

    def stored(self, response_id: str) -> Stored | None:
        with self._lock:
            return self._stored.get(response_id)


def endpoint_name(path: str) -> str:
    """The endpoint a path belongs to, as ``RequestRecord.endpoint`` names it."""
    names = {
        "/v1/chat/completions": "chat.completions",
        "/v1/responses": "responses",
        "/v1/embeddings": "embeddings",
    }
    if path in names:
        return names[path]
    if path.startswith("/v1/responses/"):
        return "responses.retrieve"
    return "models" if path.startswith("/v1/models") else "unknown"
