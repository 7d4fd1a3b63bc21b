"""Reading a request's parameters the way the API validates them: every failure is the API's own 400."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from callscope.demo import _apierrors as errors
from callscope.demo._prompt import Prompt
from callscope.demo.config import OUTPUT_TOKENS_HEADER
from callscope.demo.profiles import ModelProfile

#: service_tier asked -> (reported, generation speed, TTFT factor, queueing factor)
TIERS = {
    "auto": ("default", 1.0, 1.0, 1.0),
    "default": ("default", 1.0, 1.0, 1.0),
    "scale": ("scale", 1.0, 1.0, 1.0),
    "priority": ("priority", 1.35, 0.8, 0.3),
    "fast": ("priority", 1.35, 0.8, 0.3),
    "flex": ("flex", 0.6, 2.0, 4.0),
}


def json_body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise errors.invalid(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
            "your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was "
            "not valid JSON. If you have trouble figuring out how to fix this, please contact us through "
            "our help center at help.openai.com.)"
        )
    return body


def int_param(body: Mapping[str, Any], name: str, low: int, high: int | None) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise errors.invalid_type(name, "an integer", value)
    if value < low:
        raise errors.invalid(
            f"Invalid '{name}': integer below minimum value. Expected a value >= {low}, but got {value} "
            "instead.",
            param=name,
            code="integer_below_min_value",
        )
    if high is not None and value > high:
        raise errors.invalid(
            f"Invalid '{name}': integer above maximum value. Expected a value <= {high}, but got {value} "
            "instead.",
            param=name,
            code="integer_above_max_value",
        )
    return value


def output_cap(
    body: Mapping[str, Any], profile: ModelProfile, names: tuple[str, ...], minimum: int = 1
) -> int | None:
    """The first of ``names`` that is set (``max_completion_tokens``, ``max_tokens``...), checked."""
    if profile.reasoning and body.get("max_tokens") is not None and "max_tokens" in names:
        raise errors.invalid(
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
            "'max_completion_tokens' instead.",
            param="max_tokens",
            code="unsupported_parameter",
        )
    for name in names:
        value = int_param(body, name, minimum, None)
        if value is None:
            continue
        if value > profile.max_output_tokens:
            raise errors.invalid(
                f"{name} is too large: {value}. This model supports at most {profile.max_output_tokens} "
                f"completion tokens, whereas you provided {value}.",
                param=name,
                code="invalid_value",
            )
        return value
    return None


def check_temperature(body: Mapping[str, Any]) -> None:
    value = body.get("temperature")
    if value is not None and (not isinstance(value, int | float) or not 0 <= value <= 2):
        raise errors.invalid(
            f"Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got {value} "
            "instead.",
            param="temperature",
            code="decimal_above_max_value",
        )


def service_tier(body: Mapping[str, Any]) -> str:
    tier = body.get("service_tier") or "auto"
    if tier not in TIERS:
        raise errors.invalid(
            f"Invalid value: '{tier}'. Supported values are: 'auto', 'default', 'flex', 'scale', and "
            "'priority'.",
            param="service_tier",
            code="invalid_value",
        )
    return str(tier)


def response_format(raw: Any, param: str) -> tuple[str | None, Any]:
    """(None | "json_object" | "json_schema", schema) from ``response_format`` or ``text.format``."""
    if raw is None:
        return None, None
    kind = raw.get("type") if isinstance(raw, dict) else None
    if kind == "text":
        return None, None
    if kind == "json_object":
        return "json_object", None
    if kind == "json_schema":
        spec = raw.get("json_schema", raw)  # chat nests it, responses does not
        if not isinstance(spec, dict) or not isinstance(spec.get("schema"), dict):
            raise errors.missing(f"{param}.json_schema.schema" if "json_schema" in raw else f"{param}.schema")
        return "json_schema", spec["schema"]
    raise errors.invalid(
        f"Invalid value: '{kind}'. Supported values are: 'json_object', 'json_schema', and 'text'.",
        param=f"{param}.type",
        code="invalid_value",
    )


def check_context(prompt: Prompt, cap: int | None, profile: ModelProfile, param: str) -> None:
    asked = len(prompt.tokens) + (cap or 0)
    if asked > profile.context_window:
        raise errors.invalid(
            f"This model's maximum context length is {profile.context_window} tokens. However, you requested "
            f"{asked} tokens ({len(prompt.tokens)} in the messages, {cap or 0} in the completion). Please "
            "reduce the length of the messages or completion.",
            param=param,
            code="context_length_exceeded",
        )


def wanted_tokens(headers: Mapping[str, str]) -> int | None:
    """The answer length fixed by the simulator's ``x-simulator-output-tokens`` header, if any."""
    raw = headers.get(OUTPUT_TOKENS_HEADER)
    if raw is None:
        return None
    if not raw.strip().isdigit() or int(raw) < 1:
        raise errors.invalid(f"Invalid {OUTPUT_TOKENS_HEADER} header {raw!r}: expected a positive integer.")
    return int(raw)


def content_key(body: Mapping[str, Any]) -> str:
    """What decides the answer's content: the request minus how it is delivered."""
    relevant = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
    return hashlib.blake2b(json.dumps(relevant, sort_keys=True).encode(), digest_size=16).hexdigest()
