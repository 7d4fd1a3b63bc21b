"""Request shape without content: sizes, and keyed hashes of the request and its prefix.

The hashes let the analytics find repeated requests (cache them) and shared prompt
prefixes (make them cache-friendly, batch them) without storing any prompt text.
They are keyed BLAKE2b, so a prompt cannot be confirmed by hashing a guess unless
one also holds the key. The key comes from ``instrument(hash_key=...)``, else
``$CALLSCOPE_HASH_KEY``, else a random per-process key; only with a shared key do
hashes from different processes (or deployments) match.

* Request hash: canonical JSON (sorted keys, no whitespace) of the request body
  minus fields that do not change the answer (``stream``, ``stream_options``,
  ``user``, ``metadata``, ``store``, ``service_tier``, prompt-cache routing hints...).
* Prefix hash: the stable head of the prompt: ``instructions`` or the leading
  system/developer messages, then the tool definitions, in that order.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from callscope.instrumentation._internal_errors import log

from callscope.config import ENV_HASH_KEY

__all__ = [
    "NOISE_FIELDS",
    "Hasher",
    "canonical_json",
    "record_prompt_shape",
    "resolve_hash_key",
    "text_chars",
]

#: Body fields that do not change what the model answers.
NOISE_FIELDS = frozenset(
    {
        "stream",
        "stream_options",
        "user",
        "safety_identifier",
        "metadata",
        "store",
        "service_tier",
        "prompt_cache_key",
        "prompt_cache_retention",
        "background",
    }
)

_BLAKE2B_MAX_KEY = 64
#: Roles of the leading messages that belong to the stable prefix.
PREFIX_ROLES = frozenset({"system", "developer"})


def resolve_hash_key(explicit: str | bytes | None) -> bytes:
    """``explicit`` > ``$CALLSCOPE_HASH_KEY`` > a random key for this process (logged once)."""
    key: str | bytes | None = explicit if explicit is not None else os.environ.get(ENV_HASH_KEY) or None
    if key is None:
        log.info(
            "callscope: no hash key configured (instrument(hash_key=...) or $CALLSCOPE_HASH_KEY); "
            "using a random per-process key, so repeated requests are only recognised within this process"
        )
        return os.urandom(32)
    raw = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if not raw:
        raise ValueError("hash_key must not be empty")
    if len(raw) > _BLAKE2B_MAX_KEY:
        raw = hashlib.blake2b(raw).digest()
    return raw


class Hasher:
    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        self._key = key

    def hash(self, value: Any) -> str:
        return hashlib.blake2b(canonical_json(value), key=self._key, digest_size=16).hexdigest()


def _default(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump()
    if isinstance(value, bytes | bytearray):
        return value.hex()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Iterable) and not isinstance(value, str):
        return list(value)
    return repr(value)


# Built once: json.dumps() with non-default options builds a new encoder on every call.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default)


def canonical_json(value: Any) -> bytes:
    return _ENCODER.encode(value).encode("utf-8")


def without_noise(body: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in NOISE_FIELDS}


def text_chars(content: Any) -> int:
    """Characters of text in a message ``content`` (a string or a list of parts)."""
    if content is None:
        return 0
    if isinstance(content, str):
        return len(content)
    total = 0
    if isinstance(content, list | tuple):
        for part in content:
            if isinstance(part, str):
                total += len(part)
            elif isinstance(part, Mapping):
                text = part.get("text")
                if isinstance(text, str):
                    total += len(text)
                elif isinstance(part.get("output"), str):
                    total += len(part["output"])
    return total


def json_chars(value: Any) -> int:
    if not value:
        return 0
    return len(canonical_json(value).decode("utf-8"))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def set_number(attrs: dict[str, Any], key: str, value: Any) -> None:
    if _is_number(value):
        attrs[key] = value


def record_shape(
    attrs: dict[str, Any],
    hasher: Hasher,
    body: Mapping[str, Any],
    *,
    message_count: int,
    input_chars: int,
    prefix: list[Any],
    prefix_chars: int,
) -> None:
    """Sizes and hashes common to every surface. ``prefix`` is the ordered list of prefix parts."""
    from callscope.instrumentation import attributes as A

    attrs[A.REQUEST_MESSAGE_COUNT] = message_count
    attrs[A.REQUEST_INPUT_CHARS] = input_chars
    attrs[A.REQUEST_PREFIX_CHARS] = prefix_chars
    attrs[A.REQUEST_HASH] = hasher.hash(without_noise(body))
    if prefix:
        attrs[A.PREFIX_HASH] = hasher.hash(prefix)


def record_prompt_shape(
    attrs: dict[str, Any],
    hasher: Hasher,
    body: Mapping[str, Any],
    items: Sequence[Any],
    size_of: Callable[[Any], int],
    *,
    instructions: str | None = None,
    tools: Any = None,
) -> None:
    """:func:`record_shape` for a prompt of ``items`` (chat messages or Responses input items).

    The prefix is ``instructions``, then the leading system/developer items, then ``tools``;
    ``size_of`` gives an item's character count.
    """
    chars = 0
    prefix: list[Any] = []
    prefix_chars = 0
    if instructions:
        prefix.append(instructions)
        prefix_chars = chars = len(instructions)
    leading = True
    for item in items:
        size = size_of(item)
        chars += size
        if leading and isinstance(item, Mapping) and item.get("role") in PREFIX_ROLES:
            prefix.append(item)
            prefix_chars += size
        else:
            leading = False
    if tools:
        prefix.append(tools)
        tools_chars = json_chars(tools)
        prefix_chars += tools_chars
        chars += tools_chars
    record_shape(
        attrs,
        hasher,
        body,
        message_count=len(items),
        input_chars=chars,
        prefix=prefix,
        prefix_chars=prefix_chars,
    )
