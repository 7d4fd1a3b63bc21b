"""Automatic prompt caching as the API does it (models before GPT-5.6).

A prompt of at least 1024 tokens whose leading tokens match a prompt seen recently, token for token, has
the matched prefix reported as ``cached_tokens``, counted in steps of 128 (1024, 1152, 1280, ...). The
cache is per model; an entry lives ``ttl`` simulated seconds after its last use.
"""

from __future__ import annotations

import hashlib
import threading
from array import array
from collections.abc import Sequence

MIN_TOKENS = 1024
STEP = 128
_MAX_ENTRIES = 500_000


def boundaries(length: int) -> range:
    """Prefix lengths that can be cached for a prompt of ``length`` tokens."""
    return range(MIN_TOKENS, length + 1, STEP)


def _prefix_digests(tokens: Sequence[int]) -> list[tuple[int, bytes]]:
    """(prefix length, digest of that prefix) at every cacheable boundary, computed in one pass."""
    digest = hashlib.blake2b(digest_size=16)
    out: list[tuple[int, bytes]] = []
    start = 0
    for end in boundaries(len(tokens)):
        digest.update(array("q", tokens[start:end]).tobytes())
        out.append((end, digest.copy().digest()))
        start = end
    return out


class PromptCache:
    """Cached prefixes per model, keyed by digest, with an expiry in simulated time. Thread-safe."""

    def __init__(self, ttl: float) -> None:
        self._ttl = ttl
        self._entries: dict[tuple[str, bytes], float] = {}
        self._lock = threading.Lock()

    def lookup_and_store(self, model: str, tokens: Sequence[int], now: float) -> int:
        """Cached tokens for this prompt, then remember (or refresh) every prefix of it."""
        digests = _prefix_digests(tokens)
        if not digests:
            return 0
        cached = 0
        expiry = now + self._ttl
        with self._lock:
            for length, key in digests:
                if self._entries.get((model, key), -1.0) >= now:
                    cached = length
            for _, key in digests:
                self._entries[(model, key)] = expiry
            if len(self._entries) > _MAX_ENTRIES:
                self._entries = {k: t for k, t in self._entries.items() if t >= now}
        return cached
