"""Turn a request's input into the token sequence the model reads.

The order follows how the API lays a prompt out, which is what decides prompt-cache hits: the leading
system/developer messages, then the tool definitions (rendered in the TypeScript-like ``namespace functions``
form), then a structured-output schema, then the rest of the conversation. Every message costs 3 tokens of
framing plus its role and content, a ``name`` one more, and the reply is primed with 3 (the cookbook's
accounting), so ``len(tokens)`` is the ``prompt_tokens`` the API would report.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from callscope.demo._apierrors import ApiError, invalid, invalid_type, missing
from callscope.demo.tokens import Tokenizer

# Framing tokens outside the text vocabulary (o200k's ChatML ids); they only need to be distinct.
_START, _END, _SEP, _NAME = 200264, 200265, 200266, 200267
_IMAGE = 210_000  # an image input costs 85 tokens (low detail)
_IMAGE_TOKENS = 85
_CHAT_ROLES = ("system", "assistant", "user", "function", "tool", "developer")
# Every role name is one token in o200k; fixed ids keep that true under the approximate tokenizer too.
_ROLE_IDS = {role: 200300 + i for i, role in enumerate(_CHAT_ROLES)}
_LEADING_ROLES = ("system", "developer")


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: Mapping[str, Any]


@dataclass
class Prompt:
    """What the simulated model sees, API-independent."""

    tokens: list[int] = field(default_factory=list)
    #: All message text, for checks such as "json must appear when asking for json_object".
    text: str = ""
    tools: list[ToolSpec] = field(default_factory=list)
    #: "auto", "none", "required", or the name of the function the caller forces.
    tool_choice: str = "auto"
    parallel_tool_calls: bool = True
    #: The conversation ends with a tool result, so an "auto" model answers in words.
    after_tool_result: bool = False


class _Builder:
    def __init__(self, tokenizer: Tokenizer, prompt: Prompt) -> None:
        self.tokenizer = tokenizer
        self.prompt = prompt
        self.texts: list[str] = []

    def message(self, role: str, content: Sequence[int], name: str | None = None) -> None:
        tokens = self.prompt.tokens
        tokens += (_START, _ROLE_IDS[role])
        if name:
            tokens.append(_NAME)
            tokens.extend(self.tokenizer.encode(name))
        tokens.append(_SEP)
        tokens.extend(content)
        tokens.append(_END)

    def text(self, text: str) -> list[int]:
        self.texts.append(text)
        return self.tokenizer.encode(text)

    def content(self, content: Any, param: str) -> list[int]:
        """Tokens of a message's content: a string or a list of parts (text and images)."""
        if content is None:
            return []
        if isinstance(content, str):
            return self.text(content)
        if not isinstance(content, list):
            raise invalid_type(param, "one of a string or array of objects", content)
        out: list[int] = []
        for i, part in enumerate(content):
            if not isinstance(part, dict):
                raise invalid_type(f"{param}[{i}]", "an object", part)
            kind = part.get("type")
            if kind in ("text", "input_text", "output_text", "refusal"):
                out += self.text(str(part.get("text", part.get("refusal", ""))))
            elif kind in ("image_url", "input_image"):
                url = part.get("image_url", "")
                seed = zlib.crc32(json.dumps(url, sort_keys=True).encode())
                out += [_IMAGE + (seed + i) % 1000 for i in range(_IMAGE_TOKENS)]
            else:
                out += self.text(json.dumps(part, sort_keys=True))
        return out

    def finish(self) -> Prompt:
        self.prompt.tokens += [_START, _ROLE_IDS["assistant"], _SEP]
        self.prompt.text = "\n".join(self.texts)
        return self.prompt


#: JSON-schema type -> the TypeScript type the API shows the model.
_TS_TYPES = {
    "integer": "number",
    "number": "number",
    "string": "string",
    "boolean": "boolean",
    "null": "null",
    "object": "object",
}


def _ts_type(schema: Any) -> str:
    if not isinstance(schema, dict):
        return "any"
    if "enum" in schema:
        return " | ".join(json.dumps(v) for v in schema["enum"])
    kind = schema.get("type")
    if kind == "array":
        return f"{_ts_type(schema.get('items'))}[]"
    return _TS_TYPES.get(str(kind), "any")


def render_tools(tools: Sequence[ToolSpec]) -> str:
    """Tool definitions as the API shows them to the model."""
    lines = ["# Tools", "", "## functions", "", "namespace functions {", ""]
    for tool in tools:
        if tool.description:
            lines.append(f"// {tool.description}")
        properties = tool.parameters.get("properties") or {}
        if not properties:
            lines.append(f"type {tool.name} = () => any;")
        else:
            required = set(tool.parameters.get("required") or ())
            lines.append(f"type {tool.name} = (_: {{")
            for name, spec in properties.items():
                if isinstance(spec, dict) and spec.get("description"):
                    lines.append(f"// {spec['description']}")
                lines.append(f"{name}{'' if name in required else '?'}: {_ts_type(spec)},")
            lines.append("}) => any;")
        lines.append("")
    lines.append("} // namespace functions")
    return "\n".join(lines)


def _tool_spec(raw: Any, index: int, nested: bool) -> ToolSpec:
    param = f"tools[{index}]"
    if not isinstance(raw, dict):
        raise invalid_type(param, "an object", raw)
    spec = raw.get("function") if nested else raw
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise missing(f"{param}.function.name" if nested else f"{param}.name")
    parameters = spec.get("parameters") or {}
    return ToolSpec(spec["name"], str(spec.get("description") or ""), parameters)


def _tool_choice(raw: Any, names: Sequence[str], nested: bool) -> str:
    if raw is None:
        return "auto"
    if isinstance(raw, str):
        if raw not in ("auto", "none", "required"):
            raise invalid(
                f"Invalid value: '{raw}'. Supported values are: 'none', 'auto', and 'required'.",
                param="tool_choice",
                code="invalid_value",
            )
        return raw
    if isinstance(raw, dict):
        name = (raw.get("function") or {}).get("name") if nested else raw.get("name")
        if name not in names:
            raise invalid(
                f"Invalid value for 'tool_choice': function '{name}' is not one of the provided tools.",
                param="tool_choice",
                code="invalid_value",
            )
        return str(name)
    raise invalid_type("tool_choice", "one of a string or object", raw)


def _schema_block(response_format: Any) -> str | None:
    if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
        spec = response_format.get("json_schema", response_format)
        return (
            f"# Response Formats\n\n## {spec.get('name', 'response')}\n\n{json.dumps(spec.get('schema', {}))}"
        )
    return None


def _preamble(builder: _Builder, tools: Sequence[ToolSpec], response_format: Any) -> None:
    if tools:
        builder.message("system", builder.tokenizer.encode(render_tools(tools)))
    block = _schema_block(response_format)
    if block:
        builder.message("system", builder.tokenizer.encode(block))


def chat_prompt(body: Mapping[str, Any], tokenizer: Tokenizer) -> Prompt:
    """The prompt of a Chat Completions request (raises ApiError 400 for malformed messages)."""
    messages = body.get("messages")
    if messages is None:
        raise missing("messages")
    if not isinstance(messages, list):
        raise invalid_type("messages", "an array of objects", messages)
    if not messages:
        raise invalid(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty "
            "array instead.",
            param="messages",
            code="empty_array",
        )
    raw_tools = body.get("tools") or []
    if not isinstance(raw_tools, list):
        raise invalid_type("tools", "an array of objects", raw_tools)
    tools = [_tool_spec(raw, i, nested=True) for i, raw in enumerate(raw_tools)]
    prompt = Prompt(
        tools=tools,
        tool_choice=_tool_choice(body.get("tool_choice"), [t.name for t in tools], nested=True),
        parallel_tool_calls=body.get("parallel_tool_calls") is not False,
    )
    builder = _Builder(tokenizer, prompt)
    preamble_done = False
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise invalid_type(f"messages[{i}]", "an object", message)
        role = message.get("role")
        if role not in _CHAT_ROLES:
            raise invalid(
                f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', 'function', "
                "'tool', and 'developer'.",
                param=f"messages[{i}].role",
                code="invalid_value",
            )
        if not preamble_done and role not in _LEADING_ROLES:
            _preamble(builder, tools, body.get("response_format"))
            preamble_done = True
        if role in ("user", "system", "developer") and message.get("content") is None:
            raise missing(f"messages[{i}].content")
        content = builder.content(message.get("content"), f"messages[{i}].content")
        for call in message.get("tool_calls") or []:
            function = (call.get("function") or {}) if isinstance(call, dict) else {}
            content += builder.text(str(function.get("name", ""))) + builder.text(
                str(function.get("arguments", ""))
            )
        builder.message(role, content, message.get("name"))
    if not preamble_done:
        _preamble(builder, tools, body.get("response_format"))
    prompt.after_tool_result = messages[-1].get("role") in ("tool", "function")
    return builder.finish()


def responses_prompt(
    body: Mapping[str, Any], tokenizer: Tokenizer, history: Sequence[int] | None = None
) -> Prompt:
    """The prompt of a Responses request; ``history`` is the conversation of ``previous_response_id``."""
    raw_input = body.get("input")
    if raw_input is None and history is None:
        raise missing("input")
    raw_tools = body.get("tools") or []
    if not isinstance(raw_tools, list):
        raise invalid_type("tools", "an array of objects", raw_tools)
    tools = [
        _tool_spec(raw, i, nested=False)
        for i, raw in enumerate(raw_tools)
        if isinstance(raw, dict) and raw.get("type", "function") == "function"
    ]
    prompt = Prompt(
        tools=tools,
        tool_choice=_tool_choice(body.get("tool_choice"), [t.name for t in tools], nested=False),
        parallel_tool_calls=body.get("parallel_tool_calls") is not False,
    )
    builder = _Builder(tokenizer, prompt)
    instructions = body.get("instructions")
    if isinstance(instructions, str) and instructions:
        builder.message("developer", builder.text(instructions))
    text_format = (body.get("text") or {}).get("format") if isinstance(body.get("text"), dict) else None
    _preamble(builder, tools, text_format)
    if history:
        prompt.tokens.extend(history)
    items: list[Any] = (
        [{"role": "user", "content": raw_input}] if isinstance(raw_input, str) else raw_input or []
    )
    if not isinstance(items, list):
        raise invalid_type("input", "one of a string or array of objects", raw_input)
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise invalid_type(f"input[{i}]", "an object", item)
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role")
            if role not in ("user", "assistant", "system", "developer"):
                raise invalid(
                    f"Invalid value: '{role}'. Supported values are: 'assistant', 'system', 'developer', "
                    "and 'user'.",
                    param=f"input[{i}].role",
                    code="invalid_value",
                )
            builder.message(role, builder.content(item.get("content"), f"input[{i}].content"))
        elif kind == "function_call":
            call = builder.text(str(item.get("name", ""))) + builder.text(str(item.get("arguments", "")))
            builder.message("assistant", call)
        elif kind == "function_call_output":
            output = item.get("output", "")
            builder.message("tool", builder.text(output if isinstance(output, str) else json.dumps(output)))
        elif kind != "reasoning":
            builder.message("user", builder.text(json.dumps(item, sort_keys=True)))
    last = items[-1] if items else {}
    prompt.after_tool_result = isinstance(last, dict) and last.get("type") == "function_call_output"
    return builder.finish()


def embedding_inputs(body: Mapping[str, Any], tokenizer: Tokenizer) -> list[list[int]]:
    """Token sequences of an embeddings request's ``input`` (text, texts, token ids or lists of them)."""
    raw = body.get("input")
    if raw is None:
        raise missing("input")
    if isinstance(raw, str):
        items: list[Any] = [raw]
    elif isinstance(raw, list) and raw and all(isinstance(x, int) for x in raw):
        items = [raw]
    elif isinstance(raw, list):
        items = raw
    else:
        raise invalid_type("input", "one of a string or array", raw)
    if not items:
        raise invalid("'$.input' is invalid. Please check the API reference.", param="input")
    out: list[list[int]] = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            if not item:
                raise invalid(
                    "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/"
                    "api-reference.",
                    param="input",
                )
            out.append(tokenizer.encode(item))
        elif isinstance(item, list) and all(isinstance(x, int) for x in item):
            out.append(list(item))
        else:
            raise invalid_type(f"input[{i}]", "a string", item)
    return out


__all__ = [
    "ApiError",
    "Prompt",
    "ToolSpec",
    "chat_prompt",
    "embedding_inputs",
    "render_tools",
    "responses_prompt",
]
