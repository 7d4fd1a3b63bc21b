"""Pieces shared by the API renderers: call identity, usage, and server-sent events."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from callscope.demo._random import alnum

#: A streamed event: how many output tokens the model has produced when it is sent, and its bytes.
Event = tuple[float, bytes]


@dataclass(frozen=True)
class CallInfo:
    """What identifies one answer on the wire."""

    id: str
    created: int
    #: The snapshot the answer reports (``gpt-4o-mini-2024-07-18`` for ``gpt-4o-mini``).
    model: str
    service_tier: str
    system_fingerprint: str


@dataclass(frozen=True)
class Usage:
    input_tokens: int
    cached_tokens: int
    #: Completion tokens, reasoning included (as billed).
    output_tokens: int
    reasoning_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def sse(data: Any, event: str | None = None) -> bytes:
    """One server-sent event; ``data`` is JSON-encoded unless it is already a string."""
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


_PADDING = alnum(random.Random(0), 4096)


def obfuscation(rng: random.Random, delta: str) -> str:
    """Padding the API adds to stream deltas so their sizes do not reveal the tokens (a random slice)."""
    length = max(1, 16 - len(delta))
    start = rng.getrandbits(12) % (len(_PADDING) - length)
    return _PADDING[start : start + length]
