"""The Responses API on the wire: the ``response`` object and its event stream.

Shapes follow recorded API traffic: ``response.created`` / ``in_progress`` carry the response with empty
output, each output item is opened and closed (``output_item.added`` ... ``output_item.done``), text arrives
as ``output_text.delta`` events, and the stream ends with ``response.completed`` (or ``response.incomplete``
when ``max_output_tokens`` cut the answer) carrying the usage. Every event has a ``sequence_number``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from callscope.demo._model import Answer
from callscope.demo._random import hexid
from callscope.demo._wire import CallInfo, Event, Usage, obfuscation, sse


def usage_json(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_tokens},
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.total_tokens,
    }


def output_items(info: CallInfo, answer: Answer, rng: random.Random) -> list[dict[str, Any]]:
    """The finished output items: reasoning, then function calls or the message."""
    stem = info.id.removeprefix("resp_")[:16]
    items: list[dict[str, Any]] = []
    if answer.reasoning_tokens:
        items.append({"id": f"rs_{stem}{hexid(rng, 34)}", "type": "reasoning", "summary": []})
    for call in answer.tool_calls:
        items.append(
            {
                "id": f"fc_{stem}{hexid(rng, 34)}",
                "type": "function_call",
                "status": "completed",
                "arguments": call.arguments,
                "call_id": call.id,
                "name": call.name,
            }
        )
    # A reasoning model that spent the whole budget thinking has no message at all.
    if answer.text is not None and not (answer.text == "" and answer.reasoning_tokens):
        status = "incomplete" if answer.finish_reason == "length" else "completed"
        part = {"type": "output_text", "annotations": [], "logprobs": [], "text": answer.text}
        items.append(
            {
                "id": f"msg_{stem}{hexid(rng, 34)}",
                "type": "message",
                "status": status,
                "content": [part],
                "role": "assistant",
            }
        )
    return items


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def response(
    info: CallInfo,
    body: Mapping[str, Any],
    answer: Answer,
    usage: Usage | None,
    items: list[dict[str, Any]],
    *,
    done: bool,
) -> dict[str, Any]:
    """The ``response`` object, finished (``done``) or as announced at the start of a stream."""
    incomplete = done and answer.finish_reason == "length"
    status = "in_progress" if not done else "incomplete" if incomplete else "completed"
    text_config = _mapping(body.get("text"))
    reasoning = _mapping(body.get("reasoning"))
    return {
        "id": info.id,
        "object": "response",
        "created_at": info.created,
        "status": status,
        "background": False,
        "completed_at": info.created + 1 if done else None,
        "error": None,
        "frequency_penalty": 0.0,
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": body.get("max_tool_calls"),
        "model": info.model,
        "output": items if done else [],
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "presence_penalty": 0.0,
        "previous_response_id": body.get("previous_response_id"),
        "prompt_cache_key": body.get("prompt_cache_key"),
        "prompt_cache_retention": "in_memory",
        "reasoning": {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")},
        "safety_identifier": body.get("safety_identifier"),
        "service_tier": info.service_tier,
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": {"format": text_config.get("format", {"type": "text"}), "verbosity": "medium"},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools", []),
        "top_logprobs": body.get("top_logprobs", 0),
        "top_p": body.get("top_p", 1.0),
        "truncation": body.get("truncation", "disabled"),
        "usage": usage_json(usage) if done and usage else None,
        "user": body.get("user"),
        "metadata": body.get("metadata") or {},
    }


def events(
    info: CallInfo,
    body: Mapping[str, Any],
    answer: Answer,
    *,
    usage: Usage,
    items: list[dict[str, Any]],
    rng: random.Random,
) -> list[Event]:
    """The whole event stream, each event stamped with the output-token offset at which it is sent."""
    out: list[Event] = []
    sequence = 0

    def emit(offset: float, kind: str, **fields: Any) -> None:
        nonlocal sequence
        out.append((offset, sse({"type": kind, **fields, "sequence_number": sequence}, event=kind)))
        sequence += 1

    started = response(info, body, answer, None, items, done=False)
    # created / in_progress go out before the first token (negative offset: at the start of processing).
    emit(-1, "response.created", response=started)
    emit(-1, "response.in_progress", response=started)
    produced = 0.0
    for index, item in enumerate(items):
        kind = item["type"]
        if kind == "reasoning":
            emit(produced, "response.output_item.added", item=item, output_index=index)
            emit(produced, "response.output_item.done", item=item, output_index=index)
        elif kind == "function_call":
            call = next(c for c in answer.tool_calls if c.id == item["call_id"])
            emit(
                produced,
                "response.output_item.added",
                item={**item, "status": "in_progress", "arguments": ""},
                output_index=index,
            )
            for piece in call.pieces:
                produced += 1
                emit(
                    produced,
                    "response.function_call_arguments.delta",
                    delta=piece,
                    item_id=item["id"],
                    obfuscation=obfuscation(rng, piece),
                    output_index=index,
                )
            emit(
                produced,
                "response.function_call_arguments.done",
                arguments=call.arguments,
                item_id=item["id"],
                output_index=index,
            )
            emit(produced, "response.output_item.done", item=item, output_index=index)
        else:
            empty = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
            ids = {"item_id": item["id"], "output_index": index, "content_index": 0}
            emit(
                produced,
                "response.output_item.added",
                item={**item, "status": "in_progress", "content": []},
                output_index=index,
            )
            emit(produced, "response.content_part.added", part=empty, **ids)
            step = answer.output_tokens / max(1, len(answer.pieces))
            for piece in answer.pieces:
                produced += step
                emit(
                    produced,
                    "response.output_text.delta",
                    delta=piece,
                    logprobs=[],
                    obfuscation=obfuscation(rng, piece),
                    **ids,
                )
            emit(produced, "response.output_text.done", text=answer.text, logprobs=[], **ids)
            emit(produced, "response.content_part.done", part=item["content"][0], **ids)
            emit(produced, "response.output_item.done", item=item, output_index=index)
    final = response(info, body, answer, usage, items, done=True)
    emit(produced, f"response.{final['status']}", response=final)
    return out
