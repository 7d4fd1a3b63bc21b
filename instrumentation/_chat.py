"""Chat Completions (``/chat/completions``) and legacy Completions (``/completions``)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from callscope.instrumentation import _content as content
from callscope.instrumentation import attributes as A
from callscope.instrumentation._call import INCOMPLETE, OK, Call
from callscope.instrumentation._request_shape import record_prompt_shape, record_shape, set_number, text_chars

__all__ = ["CHAT", "COMPLETIONS"]

_NUMBERS = (
    ("temperature", A.REQUEST_TEMPERATURE),
    ("top_p", A.REQUEST_TOP_P),
    ("frequency_penalty", A.REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", A.REQUEST_PRESENCE_PENALTY),
    ("seed", A.REQUEST_SEED),
)
_USAGE = "usage"


def _output_type(response_format: Any) -> tuple[str | None, str | None]:
    kind = response_format.get("type") if isinstance(response_format, Mapping) else None
    if not isinstance(kind, str):
        return None, None
    return kind, ("json" if kind.startswith("json") else "text" if kind == "text" else kind)


def common_request_attributes(call: Call, body: Mapping[str, Any], max_tokens: Any) -> dict[str, Any]:
    """Sampling parameters shared by chat and legacy completions."""
    attrs = call.attrs
    model = body.get("model")
    call.request_model = str(model) if model is not None else None
    set_number(attrs, A.REQUEST_MAX_TOKENS, max_tokens)
    for key, attribute in _NUMBERS:
        value = body.get(key)
        if value is not None:
            set_number(attrs, attribute, value)
    n = body.get("n")
    if isinstance(n, int) and n != 1:
        attrs[A.REQUEST_CHOICE_COUNT] = n
    stop = body.get("stop")
    if isinstance(stop, str):
        attrs[A.REQUEST_STOP_SEQUENCES] = [stop]
    elif isinstance(stop, list | tuple) and all(isinstance(s, str) for s in stop):
        attrs[A.REQUEST_STOP_SEQUENCES] = list(stop)
    tier = body.get("service_tier")
    if isinstance(tier, str):
        call.request_service_tier = tier
        if tier != "auto":
            attrs[A.REQUEST_SERVICE_TIER] = tier
    return attrs


def usage_from_mapping(call: Call, usage: Mapping[str, Any]) -> None:
    """The same as :func:`usage_from_chat`, from the usage chunk's JSON."""
    details = usage.get("prompt_tokens_details") or {}
    out_details = usage.get("completion_tokens_details") or {}
    call.set_usage(
        usage.get("prompt_tokens"),
        usage.get("completion_tokens"),
        details.get("cached_tokens"),
        out_details.get("reasoning_tokens"),
        details.get("cache_write_tokens"),
    )


def usage_from_chat(call: Call, usage: Any) -> None:
    """``CompletionUsage``: prompt tokens include cached ones, completion tokens include reasoning."""
    details = getattr(usage, "prompt_tokens_details", None)
    out_details = getattr(usage, "completion_tokens_details", None)
    call.set_usage(
        getattr(usage, "prompt_tokens", None),
        getattr(usage, "completion_tokens", None),
        getattr(details, "cached_tokens", None) if details is not None else None,
        getattr(out_details, "reasoning_tokens", None) if out_details is not None else None,
        getattr(details, "cache_write_tokens", None) if details is not None else None,
    )


def _response_common(call: Call, obj: Any) -> None:
    model = getattr(obj, "model", None)
    if isinstance(model, str):
        call.response_model = model
    response_id = getattr(obj, "id", None)
    if isinstance(response_id, str):
        call.attrs[A.RESPONSE_ID] = response_id
    fingerprint = getattr(obj, "system_fingerprint", None)
    if isinstance(fingerprint, str):
        call.attrs[A.SYSTEM_FINGERPRINT] = fingerprint
    tier = getattr(obj, "service_tier", None)
    if isinstance(tier, str):
        call.response_service_tier = tier


class ChatSurface:
    operation = "chat"
    api_type = "chat_completions"

    def start(self, call: Call, body: Mapping[str, Any]) -> None:
        attrs = common_request_attributes(
            call, body, body.get("max_completion_tokens") or body.get("max_tokens")
        )
        kind, output_type = _output_type(body.get("response_format"))
        if kind is not None:
            attrs[A.REQUEST_RESPONSE_FORMAT] = kind
            attrs[A.OUTPUT_TYPE] = output_type
        tools = body.get("tools") or body.get("functions")
        if isinstance(tools, list | tuple):
            attrs[A.REQUEST_TOOL_COUNT] = len(tools)
        else:
            tools = None
        effort = body.get("reasoning_effort")
        if isinstance(effort, str):
            attrs[A.REQUEST_REASONING_EFFORT] = effort
        messages = body.get("messages")
        messages = list(messages) if isinstance(messages, list | tuple) else []
        record_prompt_shape(attrs, call.config.hasher, body, messages, _message_chars, tools=tools)
        if call.config.capture_content:
            attrs[A.INPUT_MESSAGES] = content.dumps([_input_message(m) for m in messages])
            if tools:
                attrs[A.TOOL_DEFINITIONS] = content.dumps(tools)

    def record(self, call: Call, result: Any) -> str:
        _response_common(call, result)
        choices = getattr(result, "choices", None) or []
        reasons = [c.finish_reason for c in choices if getattr(c, "finish_reason", None)]
        if reasons:
            call.attrs[A.FINISH_REASONS] = reasons
        usage = getattr(result, "usage", None)
        if usage is not None:
            usage_from_chat(call, usage)
        if call.config.capture_content:
            call.attrs[A.OUTPUT_MESSAGES] = content.dumps([_output_message(c) for c in choices])
        return OK

    def stream(self, call: Call) -> ChatStream:
        return ChatStream(call.hide_usage_chunk, call.config.capture_content)


def _message_chars(message: Any) -> int:
    if not isinstance(message, Mapping):
        return 0
    size = text_chars(message.get("content"))
    for tool_call in message.get("tool_calls") or ():
        function = tool_call.get("function") if isinstance(tool_call, Mapping) else None
        if isinstance(function, Mapping) and isinstance(function.get("arguments"), str):
            size += len(function["arguments"])
    return size


def _input_message(message: Any) -> dict[str, Any]:
    if not isinstance(message, Mapping):
        return {"role": "unknown", "parts": []}
    role = message.get("role") or "unknown"
    if role == "tool":
        return {
            "role": "tool",
            "parts": [content.tool_response_part(message.get("tool_call_id"), message.get("content"))],
        }
    parts = content.input_parts(message.get("content"))
    for tool_call in message.get("tool_calls") or ():
        function = tool_call.get("function") or {} if isinstance(tool_call, Mapping) else {}
        parts.append(
            content.tool_call_part(tool_call.get("id"), function.get("name"), function.get("arguments"))
        )
    return {"role": role, "parts": parts}


def _output_message(choice: Any) -> dict[str, Any]:
    message = getattr(choice, "message", None)
    parts: list[dict[str, Any]] = []
    if message is not None:
        if isinstance(message.content, str):
            parts.append(content.text_part(message.content))
        if isinstance(getattr(message, "refusal", None), str):
            parts.append(content.text_part(message.refusal))
        for tool_call in getattr(message, "tool_calls", None) or ():
            function = getattr(tool_call, "function", None)
            parts.append(
                content.tool_call_part(
                    tool_call.id, getattr(function, "name", None), getattr(function, "arguments", None)
                )
            )
    return {
        "role": "assistant",
        "parts": parts,
        "finish_reason": getattr(choice, "finish_reason", None) or "error",
    }


class _ChoicesStream:
    """What chat and legacy completion streams share: chunk times, finish reasons per choice, usage."""

    __slots__ = ("chunks", "finish_reasons", "first", "hide_usage", "last", "last_chunk", "usage")

    def __init__(self, hide_usage: bool) -> None:
        self.hide_usage = hide_usage
        self.chunks = 0
        self.first = 0.0
        self.last = 0.0
        self.last_chunk: Any = None
        self.usage: Any = None
        self.finish_reasons: dict[int, str] = {}

    @property
    def outputs(self) -> int:
        return self.chunks

    def take_usage(self, payload: Mapping[str, Any]) -> None:
        """The usage-only chunk, intercepted as JSON before the SDK parsed it."""
        self.usage = payload["usage"]

    def finish(self, call: Call) -> str:
        if self.last_chunk is not None:
            _response_common(call, self.last_chunk)
        if self.finish_reasons:
            call.attrs[A.FINISH_REASONS] = [self.finish_reasons[i] for i in sorted(self.finish_reasons)]
        if isinstance(self.usage, Mapping):
            usage_from_mapping(call, self.usage)
        elif self.usage is not None:
            usage_from_chat(call, self.usage)
        return OK if self.finish_reasons else INCOMPLETE


class ChatStream(_ChoicesStream):
    """Per-chunk state of a streamed chat completion: a few slots, no attribute writes."""

    __slots__ = ("capture", "texts", "tools")

    def __init__(self, hide_usage: bool, capture: bool) -> None:
        super().__init__(hide_usage)
        self.capture = capture
        self.texts: dict[int, list[str]] = {}
        self.tools: dict[tuple[int, int], dict[str, Any]] = {}

    def on_chunk(self, chunk: Any) -> bool:
        now = time.perf_counter()
        self.last_chunk = chunk
        usage = chunk.usage
        if usage is not None:
            self.usage = usage
            if self.hide_usage and not chunk.choices:
                return False  # the usage-only chunk callscope asked for: the caller never sees it
        elif self.hide_usage:
            # The server now sends "usage": null on every chunk; without callscope the field
            # would be absent, so make the chunk's set fields (to_dict/to_json) match.
            chunk.__pydantic_fields_set__.discard(_USAGE)
        if not self.chunks:
            self.first = now
        self.chunks += 1
        self.last = now
        for choice in chunk.choices:
            if choice.finish_reason is not None:
                self.finish_reasons[choice.index] = choice.finish_reason
            if self.capture:
                self._capture(choice)
        return True

    def _capture(self, choice: Any) -> None:
        delta = choice.delta
        if delta is None:
            return
        if delta.content:
            self.texts.setdefault(choice.index, []).append(delta.content)
        for tool_call in delta.tool_calls or ():
            entry = self.tools.setdefault(
                (choice.index, tool_call.index), {"id": None, "name": None, "args": []}
            )
            if tool_call.id:
                entry["id"] = tool_call.id
            function = tool_call.function
            if function is not None:
                if function.name:
                    entry["name"] = function.name
                if function.arguments:
                    entry["args"].append(function.arguments)

    def finish(self, call: Call) -> str:
        status = super().finish(call)
        if self.capture:
            indexes = sorted(set(self.texts) | set(self.finish_reasons) | {i for i, _ in self.tools})
            messages = []
            for index in indexes:
                parts = [content.text_part("".join(self.texts[index]))] if index in self.texts else []
                for (choice, _), entry in sorted(self.tools.items()):
                    if choice == index:
                        parts.append(
                            content.tool_call_part(entry["id"], entry["name"], "".join(entry["args"]))
                        )
                reason = self.finish_reasons.get(index, "error")
                messages.append({"role": "assistant", "parts": parts, "finish_reason": reason})
            call.attrs[A.OUTPUT_MESSAGES] = content.dumps(messages)
        return status


class CompletionsSurface:
    """Legacy ``/completions``: same usage shape as chat, a prompt instead of messages."""

    operation = "text_completion"
    api_type = "completions"

    def start(self, call: Call, body: Mapping[str, Any]) -> None:
        attrs = common_request_attributes(call, body, body.get("max_tokens"))
        prompt = body.get("prompt")
        prompts = [prompt] if isinstance(prompt, str) else list(prompt) if isinstance(prompt, list) else []
        chars = sum(len(p) for p in prompts if isinstance(p, str))
        record_shape(
            attrs,
            call.config.hasher,
            body,
            message_count=len(prompts),
            input_chars=chars,
            prefix=[],
            prefix_chars=0,
        )
        if call.config.capture_content:
            attrs[A.INPUT_MESSAGES] = content.dumps(
                [{"role": "user", "parts": [content.text_part(p)]} for p in prompts if isinstance(p, str)]
            )

    def record(self, call: Call, result: Any) -> str:
        _response_common(call, result)
        choices = getattr(result, "choices", None) or []
        reasons = [c.finish_reason for c in choices if getattr(c, "finish_reason", None)]
        if reasons:
            call.attrs[A.FINISH_REASONS] = reasons
        usage = getattr(result, "usage", None)
        if usage is not None:
            usage_from_chat(call, usage)
        if call.config.capture_content:
            call.attrs[A.OUTPUT_MESSAGES] = content.dumps(
                [
                    {
                        "role": "assistant",
                        "parts": [content.text_part(c.text)],
                        "finish_reason": c.finish_reason,
                    }
                    for c in choices
                ]
            )
        return OK

    def stream(self, call: Call) -> CompletionsStream:
        return CompletionsStream(call.hide_usage_chunk)


class CompletionsStream(_ChoicesStream):
    """Per-chunk state of a streamed legacy completion."""

    __slots__ = ()

    def on_chunk(self, chunk: Any) -> bool:
        now = time.perf_counter()
        self.last_chunk = chunk
        if chunk.usage is not None:
            self.usage = chunk.usage
            if self.hide_usage and not chunk.choices:
                return False
        elif self.hide_usage:
            chunk.__pydantic_fields_set__.discard(_USAGE)
        if not self.chunks:
            self.first = now
        self.chunks += 1
        self.last = now
        for choice in chunk.choices:
            if choice.finish_reason is not None:
                self.finish_reasons[choice.index] = choice.finish_reason
        return True


CHAT = ChatSurface()
COMPLETIONS = CompletionsSurface()
