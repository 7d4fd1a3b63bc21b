"""Embeddings: deterministic unit vectors in which texts sharing words point the same way.

Each token adds a few signed unit spikes at positions derived from its id (a hashing trick), plus a faint
dense component derived from the whole text, so search over the demo's documents behaves plausibly and
repeated texts give identical vectors. ``dimensions`` keeps the leading components and renormalizes, as the
text-embedding-3 models do.
"""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from collections.abc import Sequence
from typing import Any

_SPIKES = 8
_DENSE_WEIGHT = 0.15


def vector(tokens: Sequence[int], size: int, seed: int) -> list[float]:
    values = [0.0] * size
    for token in tokens:
        digest = hashlib.blake2b(f"{seed}:{token}".encode(), digest_size=3 * _SPIKES).digest()
        for i in range(_SPIKES):
            position = int.from_bytes(digest[3 * i : 3 * i + 2], "big") % size
            values[position] += 1.0 if digest[3 * i + 2] & 1 else -1.0
    noise = hashlib.shake_256(f"{seed}:{list(tokens)}".encode()).digest(size)
    scale = _DENSE_WEIGHT * math.sqrt(max(1, len(tokens)) * _SPIKES / size)
    values = [v + scale * (b - 127.5) / 127.5 for v, b in zip(values, noise, strict=True)]
    return normalize(values)


def normalize(values: list[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def encode(values: list[float], encoding_format: str) -> Any:
    """As JSON floats, or base64 of little-endian float32 (what the SDK asks for by default)."""
    if encoding_format == "base64":
        return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()
    return values


def embedding_list(vectors: list[Any], model: str, tokens: int) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
