"""Which fault a request meets, and the 429/5xx answers that go with faults and empty buckets.

A fault is either forced by the ``x-simulator-fault`` request header (exact ground truth for a workload) or
drawn at the configured rates from the request's own seeded generator (deterministic noise).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping

from callscope.demo import _apierrors as errors
from callscope.demo._apierrors import ApiError
from callscope.demo._limits import Admission
from callscope.demo.config import FAULT_HEADER, FaultRates
from callscope.demo.profiles import ModelProfile

#: Forced-fault header values and the fault they plant.
FORCED = {
    "500": "server_error",
    "503": "overloaded",
    "429": "rate_limited",
    "slow": "slow",
    "cut": "cut_stream",
    "cut_stream": "cut_stream",
    "disconnect": "disconnect",
}


def forced_fault(headers: Mapping[str, str], attempt: int) -> str | None:
    """``x-simulator-fault: NAME[;attempts=N]``: NAME for attempts 0..N-1 (all attempts without N)."""
    raw = headers.get(FAULT_HEADER)
    if not raw:
        return None
    name, _, options = raw.strip().partition(";")
    attempts = None
    option, _, value = options.strip().partition("=")
    if option == "attempts" and value.strip().isdigit():
        attempts = int(value)
    elif options.strip():
        name = ""  # an option we do not know: reported below
    if name.strip() not in FORCED:
        raise errors.invalid(
            f"Invalid {FAULT_HEADER} header {raw!r}: expected one of {', '.join(sorted(FORCED))}, "
            "optionally followed by ';attempts=N'."
        )
    return FORCED[name.strip()] if attempts is None or attempt < attempts else None


def drawn_fault(rates: FaultRates, rng: random.Random, stream: bool) -> str | None:
    """One draw against the cumulative rates; ``cut_stream`` only applies to streams."""
    draw = rng.random()
    for name, rate in (
        ("server_error", rates.server_error),
        ("overloaded", rates.overloaded),
        ("slow", rates.slow),
        ("cut_stream", rates.cut_stream),
        ("disconnect", rates.disconnect),
    ):
        if draw < rate:
            return name if name != "cut_stream" or stream else None
        draw -= rate
    return None


def server_fault(fault: str, retry_after_s: float | None) -> ApiError:
    """The 500 or 503 answer; ``retry_after_s`` is wall-clock seconds or None (as the API, no header)."""
    err = errors.server_error() if fault == "server_error" else errors.overloaded()
    if retry_after_s is not None:
        err.headers["retry-after-ms"] = str(max(1, round(retry_after_s * 1000)))
    return err


def rate_limited(
    profile: ModelProfile, admission: Admission, cost: int, *, forced: bool, scale: float
) -> ApiError:
    """The 429 ``rate_limit_exceeded`` answer, worded like the API's, with ``retry-after(-ms)``."""
    kind = admission.exhausted or "requests"
    if admission.too_large:
        message = (
            f"Request too large for {profile.name} in organization org-callscope on tokens per min (TPM): "
            f"Limit {admission.limit_tokens}, Requested {cost}. The input or output tokens must be reduced "
            "in order to run successfully."
        )
        return ApiError(429, message, type="tokens", code="rate_limit_exceeded", kind="request_too_large")
    # A forced 429 asks for one simulated second, whatever the buckets hold.
    wait = admission.retry_after_s if not forced else max(admission.retry_after_s, 1.0 * scale)
    limit, unit, asked = (
        (admission.limit_requests, "requests per min (RPM)", 1)
        if kind == "requests"
        else (admission.limit_tokens, "tokens per min (TPM)", cost)
    )
    used = limit - (admission.remaining_requests if kind == "requests" else admission.remaining_tokens)
    message = (
        f"Rate limit reached for {profile.name} in organization org-callscope on {unit}: Limit {limit}, "
        f"Used {used}, Requested {asked}. Please try again in {_human(wait)}. Visit "
        "https://platform.openai.com/account/rate-limits to learn more."
    )
    headers = {"retry-after": str(max(1, math.ceil(wait))), "retry-after-ms": str(max(1, round(wait * 1000)))}
    return ApiError(
        429, message, type=kind, code="rate_limit_exceeded", headers=headers, kind="rate_limit_exceeded"
    )


def _human(seconds: float) -> str:
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.3g}s"
