"""Message content capture: off unless opted in, then JSON strings on the span.

``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` opts in, with either of the
spellings OpenTelemetry instrumentations use: a boolean (``true``) or the util-genai
enum (``SPAN_ONLY`` / ``SPAN_AND_EVENT``; ``EVENT_ONLY`` and ``NO_CONTENT`` keep
content off the span, and callscope emits no events). ``instrument(capture_content=...)``
overrides the variable.

When on, the span gets ``gen_ai.input.messages``, ``gen_ai.output.messages``,
``gen_ai.system_instructions`` and ``gen_ai.tool.definitions`` as JSON strings in
the shape of the GenAI conventions' message schemas (role + typed parts). Binary
parts (images, audio, files) are reduced to their type: their bytes never go on
a span. API keys and auth headers are never read, whatever this setting.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from callscope.config import ENV_CAPTURE_CONTENT

__all__ = ["capture_content_from_env", "dumps", "input_parts", "text_part"]

_ON = frozenset({"1", "true", "yes", "on", "span_only", "span_and_event"})


def capture_content_from_env() -> bool:
    return os.environ.get(ENV_CAPTURE_CONTENT, "").strip().lower() in _ON


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


def text_part(text: str) -> dict[str, Any]:
    return {"type": "text", "content": text}


def _get(obj: Any, key: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def input_parts(content: Any) -> list[dict[str, Any]]:
    """Semconv parts for a message ``content`` (string, or list of typed parts)."""
    if content is None:
        return []
    if isinstance(content, str):
        return [text_part(content)]
    parts: list[dict[str, Any]] = []
    if isinstance(content, Iterable):
        for part in content:
            if isinstance(part, str):
                parts.append(text_part(part))
                continue
            kind = _get(part, "type") or "unknown"
            text = _get(part, "text")
            if isinstance(text, str):
                parts.append(text_part(text))
            elif kind in ("refusal",) and isinstance(_get(part, "refusal"), str):
                parts.append(text_part(_get(part, "refusal")))
            else:
                parts.append({"type": str(kind)})  # image/audio/file: never the bytes
    return parts


def tool_call_part(call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
    part: dict[str, Any] = {"type": "tool_call", "id": call_id, "name": name}
    if isinstance(arguments, str):
        try:
            part["arguments"] = json.loads(arguments)
        except ValueError:
            part["arguments"] = arguments
    elif arguments is not None:
        part["arguments"] = arguments
    return part


def tool_response_part(call_id: Any, response: Any) -> dict[str, Any]:
    return {"type": "tool_call_response", "id": call_id, "response": response}
