"""The simulated model: what it answers, in how many tokens, and whether it calls a tool.

Everything here depends only on the prompt, the request parameters and a generator derived from the seed
and the request's content, so the same request always gets the same answer (as with ``temperature=0``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Literal

from callscope.demo._prompt import Prompt, ToolSpec
from callscope.demo._random import alnum, lognormal_int
from callscope.demo._textgen import (
    PieceCosts,
    instance,
    json_text,
    split_tokens,
    text_pieces,
    truncate,
    words,
)
from callscope.demo.profiles import ModelProfile

Finish = Literal["stop", "length", "tool_calls"]
#: Tokens of framing around each tool call the model emits.
_TOOL_CALL_OVERHEAD = 3
_EFFORT = {"minimal": 0.15, "low": 0.4, "medium": 1.0, "high": 2.5, "xhigh": 4.0}


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str
    #: The arguments cut into streaming deltas.
    pieces: tuple[str, ...] = ()


@dataclass
class Answer:
    """One choice: text or tool calls, with its token counts."""

    text: str | None
    #: Deltas of ``text`` for streaming (they concatenate to ``text``).
    pieces: list[str]
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: Finish = "stop"
    #: Visible output tokens (text or tool calls), as the tokenizer counts them.
    output_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def completion_tokens(self) -> int:
        return self.output_tokens + self.reasoning_tokens


@dataclass(frozen=True)
class Ask:
    """The request parameters that shape an answer."""

    #: Cap on completion tokens (reasoning included), or None for the model's own maximum.
    max_tokens: int | None
    #: The answer length the caller fixed through the simulator header, if any.
    wanted_tokens: int | None
    #: None, "json_object", or "json_schema" with ``schema``.
    response_format: str | None = None
    schema: Any = None
    reasoning_effort: str | None = None


def _wants_tool(prompt: Prompt, profile: ModelProfile, rng: random.Random) -> list[ToolSpec]:
    if not prompt.tools or prompt.tool_choice == "none":
        return []
    if prompt.tool_choice not in ("auto", "required"):
        return [t for t in prompt.tools if t.name == prompt.tool_choice][:1]
    if prompt.tool_choice == "auto" and (prompt.after_tool_result or rng.random() >= profile.tool_call_rate):
        return []
    chosen = [rng.choice(prompt.tools)]
    if prompt.parallel_tool_calls and rng.random() < 0.25:
        chosen.append(rng.choice(prompt.tools))
    return chosen


def answer(prompt: Prompt, ask: Ask, profile: ModelProfile, rng: random.Random, costs: PieceCosts) -> Answer:
    """What the model says for one choice; ``rng`` derives from the request content and the choice index."""
    tokenizer = costs.tokenizer
    cap = min(ask.max_tokens or profile.max_output_tokens, profile.max_output_tokens)
    reasoning = 0
    if profile.reasoning:
        effort = _EFFORT.get(ask.reasoning_effort or "medium", 1.0)
        reasoning = lognormal_int(rng, profile.reasoning_tokens_median * effort, 0.6, 1, cap)
        if reasoning >= cap:
            return Answer("", [], finish_reason="length", reasoning_tokens=cap)
    budget = cap - reasoning

    tools = _wants_tool(prompt, profile, rng)
    if tools:
        calls = []
        for tool in tools:
            arguments = json_text(instance(tool.parameters, rng))
            calls.append(ToolCall(f"call_{alnum(rng, 24)}", tool.name, arguments))
        used = sum(
            tokenizer.count(c.arguments) + tokenizer.count(c.name) + _TOOL_CALL_OVERHEAD for c in calls
        )
        finish: Finish = "tool_calls"
        if used > budget:  # cut short, as the API does: the first call's arguments end mid-JSON
            first = calls[0]
            keep = max(0, budget - tokenizer.count(first.name) - _TOOL_CALL_OVERHEAD)
            calls = [ToolCall(first.id, first.name, truncate(first.arguments, keep, tokenizer))]
            used, finish = budget, "length"
        calls = [
            ToolCall(c.id, c.name, c.arguments, tuple(split_tokens(c.arguments, tokenizer))) for c in calls
        ]
        return Answer(None, [], calls, finish, used, reasoning)

    wanted = ask.wanted_tokens
    if ask.response_format is not None:
        if ask.response_format == "json_schema":
            value = instance(ask.schema, rng)
        else:
            value = {"answer": words(rng, max(1, (wanted or rng.randint(8, 40)) - 6))}
        text = json_text(value)
        finish = "stop"
        if tokenizer.count(text) > budget:
            text, finish = truncate(text, budget, tokenizer), "length"
        return Answer(text, split_tokens(text, tokenizer), [], finish, tokenizer.count(text), reasoning)

    if wanted is None:
        wanted = lognormal_int(rng, profile.output_tokens_median, profile.output_tokens_sigma, 1, 1_000_000)
    length = min(wanted, budget)
    pieces = text_pieces(length, rng, costs, finished=wanted <= budget)
    text = "".join(pieces)
    return Answer(
        text, pieces, [], "stop" if wanted <= budget else "length", tokenizer.count(text), reasoning
    )
