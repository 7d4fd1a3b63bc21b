"""Deterministic pseudo-text and JSON whose token counts are exact.

Text is built from pieces that the o200k pre-tokenizer keeps apart (a word with its leading space, a
punctuation mark), so the text's token count is the sum of its pieces' counts and a target length can be
hit exactly. The pieces double as the stream's deltas, so a client re-tokenizing what it received gets the
``completion_tokens`` the server reported.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from typing import Any

from callscope.demo.tokens import Tokenizer

_WORD_BLOCK = """
the of and to in is that for it as with on are be this by at from or an have not can more about which their
will one all would there what so if out up time some other into when only than them also its two like these
how our may new any use most over such very make after where first well way even because good each those
could through many work part long made find both little between great help system data model call cost team
user request answer service value report result review plan change check update price order account support
customer product feature release test build deploy error issue fix note detail summary context question
option number list table query search index cache limit rate budget month week today latency token prompt
response stream batch retry queue server client network region version policy access key project document
message reply email ticket status priority owner schedule meeting agenda draft final clear simple quick
small large short useful likely usually often sometimes always never already still next last early later
"""
_WORDS = tuple(_WORD_BLOCK.split())
_CLOSERS = (".", ".", ".", "!", "?")


class PieceCosts:
    """Token counts of pieces, memoised per tokenizer."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer
        self._costs: dict[str, int] = {}

    def __call__(self, piece: str) -> int:
        cost = self._costs.get(piece)
        if cost is None:
            cost = self._costs[piece] = self.tokenizer.count(piece)
        return cost


def words(rng: random.Random, count: int) -> str:
    """A few words, for strings inside generated JSON."""
    return " ".join(rng.choice(_WORDS) for _ in range(max(1, count)))


def text_pieces(tokens: int, rng: random.Random, costs: PieceCosts, *, finished: bool = True) -> list[str]:
    """Pieces of a text of exactly ``tokens`` tokens (when every piece is one token, as the vocabulary is).

    ``finished`` ends the text with a full stop, as a model that chose to stop does; a truncated text stops
    mid-sentence.
    """
    pieces: list[str] = []
    total = 0
    sentence = 0
    target = rng.randint(6, 18)
    paragraph_start = True
    while total < tokens:
        remaining = tokens - total
        if finished:  # never leave a single token for a sentence that could not be closed
            closing = sentence > 0 and (remaining == 1 or (sentence >= target and remaining != 2))
        else:
            closing = sentence > 0 and sentence >= target
        if closing:
            closer = rng.choice(_CLOSERS)
            piece = closer + ("\n\n" if rng.random() < 0.2 else "")
            if costs(piece) > remaining or (finished and remaining - costs(piece) <= 1):
                piece = closer
            sentence, target = 0, rng.randint(6, 18)
        else:
            word = rng.choice(_WORDS)
            if sentence == 0:
                word = word.capitalize()
            elif rng.random() < 0.08 and sentence < target - 1 and remaining > 2:
                pieces.append(",")
                total += costs(",")
                remaining = tokens - total
            piece = word if paragraph_start else " " + word
            # A finished text keeps one token for the full stop.
            if costs(piece) > (remaining - 1 if finished and remaining > 1 else remaining):
                piece = "the" if paragraph_start else " the"
            sentence += 1
        pieces.append(piece)
        total += costs(piece)
        paragraph_start = piece.endswith("\n")
    return pieces


def split_tokens(text: str, tokenizer: Tokenizer) -> list[str]:
    """``text`` cut at token boundaries (never inside a UTF-8 character), for streaming JSON and arguments."""
    pieces: list[str] = []
    pending: list[int] = []
    for token in tokenizer.encode(text):
        pending.append(token)
        piece = tokenizer.decode(pending)
        if "\ufffd" not in piece:
            pieces.append(piece)
            pending = []
    if pending:
        pieces.append(tokenizer.decode(pending))
    return pieces


def truncate(text: str, tokens: int, tokenizer: Tokenizer) -> str:
    """The first ``tokens`` tokens of ``text``."""
    return tokenizer.decode(tokenizer.encode(text)[:tokens])


def instance(schema: Any, rng: random.Random, defs: Mapping[str, Any] | None = None, depth: int = 0) -> Any:
    """A value valid against a (strict-mode) JSON schema: what a model following the schema would produce."""
    if not isinstance(schema, dict) or depth > 8:
        return words(rng, 2)
    defs = {**(defs or {}), **schema.get("$defs", {}), **schema.get("definitions", {})}
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return instance(defs.get(ref.rsplit("/", 1)[-1], {}), rng, defs, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return rng.choice(schema["enum"])
    for key in ("anyOf", "oneOf", "allOf"):
        options = [o for o in schema.get(key) or [] if not (isinstance(o, dict) and o.get("type") == "null")]
        if options:
            return instance(options[0] if key == "allOf" else rng.choice(options), rng, defs, depth + 1)
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    return _SCALARS.get(kind, _string)(schema, rng, defs, depth)


def _object(schema: dict[str, Any], rng: random.Random, defs: Mapping[str, Any], depth: int) -> Any:
    properties = schema.get("properties") or {}
    if not properties:
        return {"answer": words(rng, rng.randint(2, 8))}
    return {name: instance(sub, rng, defs, depth + 1) for name, sub in properties.items()}


def _array(schema: dict[str, Any], rng: random.Random, defs: Mapping[str, Any], depth: int) -> Any:
    low = int(schema.get("minItems", 1))
    high = int(schema.get("maxItems", max(low, 3)))
    return [instance(schema.get("items", {}), rng, defs, depth + 1) for _ in range(rng.randint(low, high))]


def _string(schema: dict[str, Any], rng: random.Random, defs: Mapping[str, Any], depth: int) -> Any:
    fmt = schema.get("format")
    if fmt == "date-time":
        return f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z"
    if fmt == "date":
        return f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if fmt == "email":
        return f"{rng.choice(_WORDS)}@example.com"
    return words(rng, rng.randint(1, 6))


def _integer(schema: dict[str, Any], rng: random.Random, defs: Mapping[str, Any], depth: int) -> Any:
    return rng.randint(int(schema.get("minimum", 0)), int(schema.get("maximum", 100)))


def _number(schema: dict[str, Any], rng: random.Random, defs: Mapping[str, Any], depth: int) -> Any:
    return round(rng.uniform(float(schema.get("minimum", 0)), float(schema.get("maximum", 100))), 2)


_SCALARS: dict[str, Callable[[dict[str, Any], random.Random, Mapping[str, Any], int], Any]] = {
    "object": _object,
    "array": _array,
    "string": _string,
    "integer": _integer,
    "number": _number,
    "boolean": lambda schema, rng, defs, depth: rng.random() < 0.5,
    "null": lambda schema, rng, defs, depth: None,
}


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
