"""The Responses API: ``POST /responses`` and the streamed ``GET /responses/{id}`` (resume)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from callscope.instrumentation import _content as content
from callscope.instrumentation import attributes as A
from callscope.instrumentation._call import ERROR, INCOMPLETE, OK, Call
from callscope.instrumentation._request_shape import record_prompt_shape, set_number, text_chars

__all__ = ["RESPONSES", "RESUME"]

_TERMINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})
_TOOL_CALL_ITEMS = frozenset(
    {
        "function_call",
        "custom_tool_call",
        "computer_call",
        "local_shell_call",
        "shell_call",
        "apply_patch_call",
    }
)


def _item_chars(item: Any) -> int:
    if isinstance(item, str):
        return len(item)
    if not isinstance(item, Mapping):
        return 0
    size = text_chars(item.get("content"))
    for key in ("output", "arguments", "input"):
        value = item.get(key)
        if isinstance(value, str):
            size += len(value)
    return size


def finish_reasons(response: Any) -> list[str]:
    """Chat-style finish reasons, so one rule (``length`` = cut by the token cap) fits both APIs."""
    status = getattr(response, "status", None)
    if status == "completed":
        output = getattr(response, "output", None) or ()
        if any(getattr(item, "type", None) in _TOOL_CALL_ITEMS for item in output):
            return ["tool_calls"]
        return ["stop"]
    if status == "incomplete":
        reason = getattr(getattr(response, "incomplete_details", None), "reason", None)
        return ["length" if reason == "max_output_tokens" else str(reason or "incomplete")]
    if status == "failed":
        return ["error"]
    if status == "cancelled":
        return ["cancelled"]
    return []


def _record_response(call: Call, response: Any) -> str:
    attrs = call.attrs
    model = getattr(response, "model", None)
    if isinstance(model, str):
        call.response_model = model
    response_id = getattr(response, "id", None)
    if isinstance(response_id, str):
        attrs[A.RESPONSE_ID] = response_id
    tier = getattr(response, "service_tier", None)
    if isinstance(tier, str):
        call.response_service_tier = tier
    conversation = getattr(response, "conversation", None)
    conversation_id = getattr(conversation, "id", None)
    if isinstance(conversation_id, str):
        attrs[A.CONVERSATION_ID] = conversation_id
    reasons = finish_reasons(response)
    if reasons:
        attrs[A.FINISH_REASONS] = reasons
    usage = getattr(response, "usage", None)
    if usage is not None:
        details = getattr(usage, "input_tokens_details", None)
        out_details = getattr(usage, "output_tokens_details", None)
        call.set_usage(
            getattr(usage, "input_tokens", None),
            getattr(usage, "output_tokens", None),
            getattr(details, "cached_tokens", None),
            getattr(out_details, "reasoning_tokens", None),
            getattr(details, "cache_write_tokens", None),
        )
    if call.config.capture_content:
        attrs[A.OUTPUT_MESSAGES] = content.dumps([_output_message(response, reasons)])
    if getattr(response, "status", None) == "failed":
        error = getattr(response, "error", None)
        code = getattr(error, "code", None)
        attrs[A.ERROR_TYPE] = "response.failed"
        if code is not None:
            attrs[A.ERROR_CODE] = str(code)
        message = getattr(error, "message", None)
        if isinstance(message, str):
            attrs[A.ERROR_MESSAGE] = message[:500]
        return ERROR
    return OK


def _output_message(response: Any, reasons: list[str]) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    for item in getattr(response, "output", None) or ():
        kind = getattr(item, "type", None)
        if kind == "message":
            for part in getattr(item, "content", None) or ():
                text = getattr(part, "text", None) or getattr(part, "refusal", None)
                if isinstance(text, str):
                    parts.append(content.text_part(text))
        elif kind == "function_call":
            parts.append(content.tool_call_part(item.call_id, item.name, item.arguments))
        elif kind is not None and kind != "reasoning":
            parts.append({"type": str(kind)})
    return {"role": "assistant", "parts": parts, "finish_reason": reasons[0] if reasons else "error"}


def _input_message(item: Any) -> dict[str, Any]:
    if isinstance(item, str):
        return {"role": "user", "parts": [content.text_part(item)]}
    if not isinstance(item, Mapping):
        return {"role": "unknown", "parts": []}
    kind = item.get("type")
    if kind == "function_call_output":
        return {
            "role": "tool",
            "parts": [content.tool_response_part(item.get("call_id"), item.get("output"))],
        }
    if kind == "function_call":
        part = content.tool_call_part(item.get("call_id"), item.get("name"), item.get("arguments"))
        return {"role": "assistant", "parts": [part]}
    if "role" in item:
        return {"role": item.get("role"), "parts": content.input_parts(item.get("content"))}
    return {"role": "unknown", "parts": [{"type": str(kind)}]}


def _parameters(call: Call, body: Mapping[str, Any]) -> None:
    attrs = call.attrs
    set_number(attrs, A.REQUEST_MAX_TOKENS, body.get("max_output_tokens"))
    set_number(attrs, A.REQUEST_TEMPERATURE, body.get("temperature"))
    set_number(attrs, A.REQUEST_TOP_P, body.get("top_p"))
    tier = body.get("service_tier")
    if isinstance(tier, str):
        call.request_service_tier = tier
        if tier != "auto":
            attrs[A.REQUEST_SERVICE_TIER] = tier
    text = body.get("text")
    fmt = text.get("format") if isinstance(text, Mapping) else None
    kind = fmt.get("type") if isinstance(fmt, Mapping) else None
    if isinstance(kind, str):
        attrs[A.REQUEST_RESPONSE_FORMAT] = kind
        attrs[A.OUTPUT_TYPE] = "json" if kind.startswith("json") else kind
    reasoning = body.get("reasoning")
    effort = reasoning.get("effort") if isinstance(reasoning, Mapping) else None
    if isinstance(effort, str):
        attrs[A.REQUEST_REASONING_EFFORT] = effort
    conversation = body.get("conversation")
    conversation_id = conversation.get("id") if isinstance(conversation, Mapping) else conversation
    if isinstance(conversation_id, str):
        attrs[A.CONVERSATION_ID] = conversation_id


def _shape(
    call: Call, body: Mapping[str, Any], instructions: str | None, items: list[Any], tools: Any
) -> None:
    """Sizes and hashes; the prefix is the instructions, leading system/developer items, then tools."""
    record_prompt_shape(
        call.attrs, call.config.hasher, body, items, _item_chars, instructions=instructions, tools=tools
    )


class ResponsesSurface:
    operation = "chat"
    api_type = "responses"

    def start(self, call: Call, body: Mapping[str, Any]) -> None:
        attrs = call.attrs
        model = body.get("model")
        call.request_model = str(model) if model is not None else None
        _parameters(call, body)
        tools = body.get("tools")
        if isinstance(tools, list | tuple):
            attrs[A.REQUEST_TOOL_COUNT] = len(tools)
        else:
            tools = None
        instructions = body.get("instructions")
        instructions = instructions if isinstance(instructions, str) and instructions else None
        raw_input = body.get("input")
        items = (
            [raw_input]
            if isinstance(raw_input, str)
            else list(raw_input)
            if isinstance(raw_input, list)
            else []
        )
        _shape(call, body, instructions, items, tools)
        if call.config.capture_content:
            attrs[A.INPUT_MESSAGES] = content.dumps([_input_message(item) for item in items])
            if instructions:
                attrs[A.SYSTEM_INSTRUCTIONS] = content.dumps([content.text_part(instructions)])
            if tools:
                attrs[A.TOOL_DEFINITIONS] = content.dumps(tools)

    def record(self, call: Call, result: Any) -> str:
        return _record_response(call, result)

    def stream(self, call: Call) -> ResponsesStream:
        return ResponsesStream()


class ResumeSurface(ResponsesSurface):
    """``responses.stream(response_id=..., starting_after=...)``: a GET that streams the rest.

    The request carries no model or input, so no request shape is recorded; the
    model comes from the response events.
    """

    def start(self, call: Call, body: Mapping[str, Any]) -> None:
        call.attrs[A.STREAM_RESUMED] = True


class ResponsesStream:
    """Per-event state of a streamed response. Time to first chunk = first output delta."""

    __slots__ = ("chunks", "error", "final", "first", "last", "latest", "outputs")

    def __init__(self) -> None:
        self.chunks = 0
        self.outputs = 0
        self.first = 0.0
        self.last = 0.0
        self.final: Any = None
        self.latest: Any = None
        self.error: Any = None

    def on_chunk(self, event: Any) -> bool:
        self.chunks += 1
        kind = event.type
        if kind.endswith(".delta"):
            now = time.perf_counter()
            if not self.outputs:
                self.first = now
            self.outputs += 1
            self.last = now
        elif kind in _TERMINAL:
            self.final = event.response
        elif kind == "error":
            self.error = event
        elif kind == "response.created":
            self.latest = event.response
        return True

    def finish(self, call: Call) -> str:
        if self.final is not None:
            return _record_response(call, self.final)
        latest = self.latest
        if latest is not None:  # cut before the terminal event: what response.created said
            if isinstance(getattr(latest, "model", None), str):
                call.response_model = latest.model
            if isinstance(getattr(latest, "id", None), str):
                call.attrs[A.RESPONSE_ID] = latest.id
            if isinstance(getattr(latest, "service_tier", None), str):
                call.response_service_tier = latest.service_tier
        if self.error is not None:
            call.attrs[A.ERROR_TYPE] = "error"
            code = getattr(self.error, "code", None)
            if code is not None:
                call.attrs[A.ERROR_CODE] = str(code)
            message = getattr(self.error, "message", None)
            if isinstance(message, str):
                call.attrs[A.ERROR_MESSAGE] = message[:500]
            return ERROR
        return INCOMPLETE


RESPONSES = ResponsesSurface()
RESUME = ResumeSurface()
