"""Facts from OpenAI's response headers: request id, server time, rate-limit headroom.

Rate-limit headers are optional (Azure sends -1/0, proxies drop them), so every
value is parsed defensively: anything unparsable is simply not recorded.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from datetime import UTC
from typing import Any

from callscope.instrumentation import attributes as A

__all__ = ["header_attributes", "parse_duration_ms", "retry_after_ms"]

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_MS = {"ns": 1e-6, "us": 1e-3, "µs": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


@functools.lru_cache(maxsize=512)  # the same few reset values recur on every response; the regex costs ~3 µs
def parse_duration_ms(text: str) -> float | None:
    """Parse a Go-style duration (``1s``, ``6m0s``, ``1m30.5s``, ``250ms``) into milliseconds."""
    text = text.strip()
    if not text:
        return None
    total = 0.0
    pos = 0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            return None
        total += float(match.group(1)) * _UNIT_MS[match.group(2)]
        pos = match.end()
    if pos != len(text):
        try:  # some proxies send plain seconds
            return float(text) * 1000.0
        except ValueError:
            return None
    return total


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        try:
            return int(float(text))
        except ValueError:
            return None


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _str(text: str) -> str | None:
    return text or None


# lower-cased header name (bytes, as httpx stores it) -> (attribute, parser)
_WANTED: dict[bytes, tuple[str, Callable[[str], Any]]] = {
    b"x-request-id": (A.REQUEST_ID, _str),
    b"openai-processing-ms": (A.SERVER_PROCESSING_MS, _float),
    b"x-ratelimit-limit-requests": (A.RATELIMIT_LIMIT_REQUESTS, _int),
    b"x-ratelimit-limit-tokens": (A.RATELIMIT_LIMIT_TOKENS, _int),
    b"x-ratelimit-remaining-requests": (A.RATELIMIT_REMAINING_REQUESTS, _int),
    b"x-ratelimit-remaining-tokens": (A.RATELIMIT_REMAINING_TOKENS, _int),
    b"x-ratelimit-reset-requests": (A.RATELIMIT_RESET_REQUESTS_MS, parse_duration_ms),
    b"x-ratelimit-reset-tokens": (A.RATELIMIT_RESET_TOKENS_MS, parse_duration_ms),
}


def _raw_items(headers: Any) -> Iterable[tuple[bytes, bytes]]:
    raw = getattr(headers, "raw", None)
    if raw is not None:
        return raw  # type: ignore[no-any-return]
    return ((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items())


def header_attributes(headers: Any, out: dict[str, Any]) -> None:
    """Add the attributes found in ``headers`` (an ``httpx2.Headers``) to ``out``.

    One pass over the raw header list: cheaper than eight case-insensitive lookups.
    """
    wanted = _WANTED
    for key, value in _raw_items(headers):
        entry = wanted.get(key)
        if entry is None:
            if key.islower() or key.lower() not in wanted:  # HTTP/2 and OpenAI send lower case
                continue
            entry = wanted[key.lower()]
        parsed = entry[1](value.decode("latin-1"))
        if parsed is not None:
            out[entry[0]] = parsed


def retry_after_ms(headers: Any) -> float | None:
    """The wait a response asked for: ``retry-after-ms``, else ``retry-after`` in seconds."""
    if headers is None:
        return None
    value = headers.get("retry-after-ms")
    if value is not None:
        return _float(value)
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _float(value)
    if seconds is not None:
        return seconds * 1000.0
    from datetime import datetime
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds() * 1000.0)
