"""Seeded randomness that does not depend on thread scheduling.

Each decision draws from its own ``random.Random`` derived from the simulator's seed and a key naming what
is being decided (the request's content, the nth occurrence of a request, ...), never from a shared
generator whose state depends on which request came first.
"""

from __future__ import annotations

import hashlib
import math
import random
import string

_ALNUM = string.ascii_letters + string.digits


def derive(seed: int, *parts: object) -> random.Random:
    """A generator determined by ``seed`` and ``parts`` only."""
    material = repr((seed, *parts)).encode()
    return random.Random(int.from_bytes(hashlib.blake2b(material, digest_size=8).digest(), "big"))


def alnum(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(_ALNUM) for _ in range(length))


def hexid(rng: random.Random, length: int) -> str:
    return f"{rng.getrandbits(4 * length):0{length}x}"


def lognormal_int(rng: random.Random, median: float, sigma: float, low: int, high: int) -> int:
    """An integer around ``median`` with a long right tail, clamped to [low, high]."""
    value = median * math.exp(rng.gauss(0.0, sigma)) if median > 0 else 0.0
    return max(low, min(high, round(value)))


def factor(rng: random.Random, sigma: float) -> float:
    """A multiplicative jitter with median 1."""
    return math.exp(rng.gauss(0.0, sigma)) if sigma > 0 else 1.0
