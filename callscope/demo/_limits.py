"""Per-model rate limits as token buckets, reported the way the API reports them.

Each model has two buckets, requests and tokens per minute, refilling continuously (``limit / 60`` per
simulated second) up to their limit. A request is admitted only if both buckets can pay for it; its token
cost is estimated up front as the API does: the input plus the most it may generate (``max_tokens`` times
``n``). Buckets live in simulated time; durations handed back are wall-clock seconds.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass


def go_duration(seconds: float) -> str:
    """Format like Go's ``time.Duration.String()``, as the ``x-ratelimit-reset-*`` headers do (``6m0s``)."""
    ms = max(0, round(seconds * 1000))
    if ms == 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs = f"{rest / 1000:.3f}".rstrip("0").rstrip(".")
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


@dataclass(frozen=True)
class Admission:
    """The limiter's verdict and the numbers for the ``x-ratelimit-*`` headers (wall-clock durations)."""

    allowed: bool
    limit_requests: int
    remaining_requests: int
    reset_requests_s: float
    limit_tokens: int
    remaining_tokens: int
    reset_tokens_s: float
    #: When refused: which bucket ran dry ("requests" or "tokens") and how long until it could pay.
    exhausted: str | None = None
    retry_after_s: float = 0.0
    #: The request alone costs more tokens than the bucket holds: it can never pass.
    too_large: bool = False

    def headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit-requests": str(self.limit_requests),
            "x-ratelimit-limit-tokens": str(self.limit_tokens),
            "x-ratelimit-remaining-requests": str(self.remaining_requests),
            "x-ratelimit-remaining-tokens": str(self.remaining_tokens),
            "x-ratelimit-reset-requests": go_duration(self.reset_requests_s),
            "x-ratelimit-reset-tokens": go_duration(self.reset_tokens_s),
        }


class _Bucket:
    def __init__(self, per_minute: int, now: float) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # per simulated second
        self.level = float(per_minute)
        self.updated = now

    def refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
        self.updated = now

    def wait_for(self, amount: float) -> float:
        """Simulated seconds until ``amount`` is available (0 if it already is)."""
        missing = amount - self.level
        return 0.0 if missing <= 0 else missing / self.rate if self.rate > 0 else math.inf

    def until_full(self) -> float:
        return self.wait_for(self.capacity)


class RateLimiter:
    """Buckets per model, created on first use. Thread-safe."""

    def __init__(self, time_scale: float) -> None:
        self._scale = time_scale
        self._buckets: dict[str, tuple[_Bucket, _Bucket]] = {}
        self._lock = threading.Lock()

    def admit(
        self, model: str, rpm: int, tpm: int, tokens: int, now: float, *, consume: bool = True
    ) -> Admission:
        """Take one request and ``tokens`` from ``model``'s buckets if both can pay; ``now`` is simulated.

        With ``consume=False`` only report (a refusal decided elsewhere costs nothing).
        """
        with self._lock:
            if model not in self._buckets:
                self._buckets[model] = (_Bucket(rpm, now), _Bucket(tpm, now))
            requests, budget = self._buckets[model]
            requests.refill(now)
            budget.refill(now)
            too_large = tokens > budget.capacity
            wait_requests = requests.wait_for(1)
            wait_tokens = math.inf if too_large else budget.wait_for(tokens)
            allowed = wait_requests == 0 and wait_tokens == 0
            if allowed and consume:
                requests.level -= 1
                budget.level -= tokens
            exhausted = None if allowed else ("requests" if wait_requests >= wait_tokens else "tokens")
            if too_large:
                exhausted = "tokens"
            retry = 0.0 if allowed or too_large else max(wait_requests, wait_tokens)
            return Admission(
                allowed=allowed,
                limit_requests=rpm,
                remaining_requests=max(0, math.floor(requests.level)),
                reset_requests_s=requests.until_full() * self._scale,
                limit_tokens=tpm,
                remaining_tokens=max(0, math.floor(budget.level)),
                reset_tokens_s=budget.until_full() * self._scale,
                exhausted=exhausted,
                # A millisecond of slack so a client retrying exactly on time finds the bucket refilled.
                retry_after_s=(retry + 0.001) * self._scale if retry else 0.0,
                too_large=too_large,
            )
