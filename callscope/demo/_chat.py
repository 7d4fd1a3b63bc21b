"""Chat Completions on the wire: the ``chat.completion`` object and the ``chat.completion.chunk`` stream."""

from __future__ import annotations

import json
import random
from typing import Any

from callscope.demo._model import Answer
from callscope.demo._wire import CallInfo, Event, Usage, obfuscation, sse


def usage_json(usage: Usage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": usage.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _tool_calls(answer: Answer) -> list[dict[str, Any]]:
    return [
        {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
        for c in answer.tool_calls
    ]


def completion(info: CallInfo, answers: list[Answer], usage: Usage) -> dict[str, Any]:
    """The non-streamed ``chat.completion`` object."""
    choices = []
    for index, answer in enumerate(answers):
        message: dict[str, Any] = {
            "role": "assistant",
            "content": answer.text,
            "refusal": None,
            "annotations": [],
        }
        if answer.tool_calls:
            message["tool_calls"] = _tool_calls(answer)
        choices.append(
            {"index": index, "message": message, "logprobs": None, "finish_reason": answer.finish_reason}
        )
    return {
        "id": info.id,
        "object": "chat.completion",
        "created": info.created,
        "model": info.model,
        "choices": choices,
        "usage": usage_json(usage),
        "service_tier": info.service_tier,
        "system_fingerprint": info.system_fingerprint,
    }


_Delta = tuple[float, dict[str, Any], str | None, str | None]  # (token offset, delta, finish_reason, text)


def _deltas(answer: Answer) -> list[_Delta]:
    """One choice's deltas: the role, text pieces or tool calls with their argument pieces, the end."""
    if not answer.tool_calls:
        out: list[_Delta] = [(0, {"role": "assistant", "content": "", "refusal": None}, None, "")]
        step = answer.output_tokens / max(1, len(answer.pieces))
        out += [(i * step, {"content": piece}, None, piece) for i, piece in enumerate(answer.pieces, start=1)]
        return [*out, (answer.output_tokens, {}, answer.finish_reason, None)]
    out = [(0, {"role": "assistant", "content": None, "refusal": None}, None, None)]
    produced = 0.0
    for position, call in enumerate(answer.tool_calls):
        opening = {"index": position, "id": call.id, "type": "function"}
        out.append(
            (
                produced,
                {"tool_calls": [{**opening, "function": {"name": call.name, "arguments": ""}}]},
                None,
                None,
            )
        )
        for piece in call.pieces:
            produced += 1
            out.append(
                (
                    produced,
                    {"tool_calls": [{"index": position, "function": {"arguments": piece}}]},
                    None,
                    piece,
                )
            )
    return [*out, (answer.output_tokens, {}, answer.finish_reason, None)]


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def chunks(
    info: CallInfo,
    answers: list[Answer],
    usage: Usage,
    *,
    include_usage: bool,
    include_obfuscation: bool,
    rng: random.Random,
) -> list[Event]:
    """The ``chat.completion.chunk`` events, ``data: [DONE]`` included, each stamped with its token offset.

    Choices are generated side by side: token k of every choice goes out at the same offset.
    """
    head = {
        "id": info.id,
        "object": "chat.completion.chunk",
        "created": info.created,
        "model": info.model,
        "service_tier": info.service_tier,
        "system_fingerprint": info.system_fingerprint,
    }

    # A stream is mostly content deltas: their JSON is assembled from pre-encoded parts (same bytes as
    # json.dumps with compact separators), which keeps the simulator far cheaper than the client parsing it.
    opening = "data: {" + _compact(head)[1:-1] + ',"choices":['
    closing = "]" + (',"usage":null' if include_usage else "")

    def chunk(index: int, delta: dict[str, Any], finish: str | None, text: str | None) -> bytes:
        if finish is None and set(delta) == {"content"}:
            choice = f'{{"index":{index},"delta":{{"content":{_compact(delta["content"])}}},"logprobs":null,'
            choice += '"finish_reason":null}'
        else:
            choice = _compact({"index": index, "delta": delta, "logprobs": None, "finish_reason": finish})
        pad = f',"obfuscation":"{obfuscation(rng, text)}"' if include_obfuscation and text is not None else ""
        return f"{opening}{choice}{closing}{pad}}}\n\n".encode()

    timed: list[tuple[float, int, int, bytes]] = []  # (offset, order, choice, bytes) for a stable merge
    for index, answer in enumerate(answers):
        for order, (offset, delta, finish, text) in enumerate(_deltas(answer)):
            timed.append((offset, order, index, chunk(index, delta, finish, text)))
    timed.sort(key=lambda item: item[:3])
    events: list[Event] = [(offset, data) for offset, _, _, data in timed]
    last = max((a.output_tokens for a in answers), default=0)
    if include_usage:
        events.append((last, sse({**head, "choices": [], "usage": usage_json(usage)})))
    events.append((last, sse("[DONE]")))
    return events
