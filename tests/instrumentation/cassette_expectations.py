"""What callscope's span must say about a recorded call, computed from the recording itself.

Every expected value is read from the cassette: the request body the SDK call
was made with, the recorded response body (or its SSE events) and its
headers. Nothing is copied by hand, so the same code checks all 71 cassettes.
``ABSENT`` marks an attribute that must not be on the span.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any, Final

from callscope.instrumentation import attributes as A
from genai_prices import Usage, calc_price

from tests.instrumentation.cassette_calls import PARTIAL_CHUNKS, CallResult, Mode, Plan
from tests.instrumentation.cassettes import Interaction

__all__ = ["ABSENT", "PRESENT", "AtLeast", "expected_attributes", "expected_cost", "recorded_outcome"]


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


ABSENT: Final = _Marker("ABSENT")
PRESENT: Final = _Marker("PRESENT")  # any value; used where the recording cannot say which


class AtLeast:
    """An integer no smaller than ``bound``."""

    def __init__(self, bound: int) -> None:
        self.bound = bound

    def __eq__(self, other: object) -> bool:
        return isinstance(other, int) and other >= self.bound

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"AtLeast({self.bound})"


_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_MS_PER_UNIT = {"ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_API_TYPE = {"chat": "chat_completions", "responses": "responses", "embeddings": "embeddings"}


def _duration_ms(text: str) -> float:
    """A Go duration as OpenAI sends it (``8.64s``, ``132ms``, ``6m0s``), parsed independently."""
    parts = _GO_DURATION.findall(text)
    assert "".join(n + u for n, u in parts) == text, f"unexpected duration {text!r}"
    return sum(float(n) * _MS_PER_UNIT[u] for n, u in parts)


def header_expectations(recorded: Interaction) -> dict[str, Any]:
    """``x-request-id``, ``openai-processing-ms`` and ``x-ratelimit-*`` as recorded (absent if not sent)."""
    expected: dict[str, Any] = {}
    plain: dict[str, tuple[str, Callable[[str], Any]]] = {
        A.REQUEST_ID: ("x-request-id", str),
        A.SERVER_PROCESSING_MS: ("openai-processing-ms", float),
        A.RATELIMIT_LIMIT_REQUESTS: ("x-ratelimit-limit-requests", int),
        A.RATELIMIT_LIMIT_TOKENS: ("x-ratelimit-limit-tokens", int),
        A.RATELIMIT_REMAINING_REQUESTS: ("x-ratelimit-remaining-requests", int),
        A.RATELIMIT_REMAINING_TOKENS: ("x-ratelimit-remaining-tokens", int),
        A.RATELIMIT_RESET_REQUESTS_MS: ("x-ratelimit-reset-requests", _duration_ms),
        A.RATELIMIT_RESET_TOKENS_MS: ("x-ratelimit-reset-tokens", _duration_ms),
    }
    for attribute, (header, parse) in plain.items():
        value = recorded.header(header)
        expected[attribute] = ABSENT if value is None else parse(value)
    return expected


def request_expectations(plan: Plan, body: dict[str, Any]) -> dict[str, Any]:
    """The request's shape, from the recorded request body."""
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens", body.get("max_output_tokens")))
    n = body.get("n")
    stop = body.get("stop")
    tier = body.get("service_tier")
    expected: dict[str, Any] = {
        A.REQUEST_MODEL: body["model"],
        A.REQUEST_MAX_TOKENS: ABSENT if max_tokens is None else max_tokens,
        A.REQUEST_TEMPERATURE: body.get("temperature", ABSENT),
        A.REQUEST_TOP_P: body.get("top_p", ABSENT),
        A.REQUEST_SEED: body.get("seed", ABSENT),
        A.REQUEST_CHOICE_COUNT: n if n not in (None, 1) else ABSENT,
        A.REQUEST_STOP_SEQUENCES: ABSENT
        if stop is None
        else tuple([stop] if isinstance(stop, str) else stop),
        A.REQUEST_SERVICE_TIER: tier if tier not in (None, "auto") else ABSENT,
        A.REQUEST_TOOL_COUNT: len(body["tools"]) if body.get("tools") else ABSENT,
        A.REQUEST_HASH: PRESENT,
        A.REQUEST_REASONING_EFFORT: body.get(
            "reasoning_effort", (body.get("reasoning") or {}).get("effort", ABSENT)
        ),
    }
    response_format = body.get("response_format") or (body.get("text") or {}).get("format")
    kind = response_format["type"] if response_format else None
    expected[A.REQUEST_RESPONSE_FORMAT] = kind or ABSENT
    expected[A.OUTPUT_TYPE] = ABSENT if kind is None else "json" if kind.startswith("json") else kind
    if plan.api != "embeddings":
        expected |= _prompt_shape(body)
    if plan.api == "embeddings":
        inputs = [body["input"]] if isinstance(body["input"], str) else body["input"]
        fmt = body.get("encoding_format")
        expected |= {
            A.EMBEDDINGS_DIMENSION_COUNT: body.get("dimensions", ABSENT),
            # Without one from the caller, the SDK asks for base64 itself.
            A.REQUEST_ENCODING_FORMATS: (fmt,) if fmt else ("base64",),
            A.REQUEST_MESSAGE_COUNT: len(inputs),
            A.REQUEST_INPUT_CHARS: sum(len(text) for text in inputs),
            A.PREFIX_HASH: ABSENT,
        }
    return expected


def _prompt_shape(body: dict[str, Any]) -> dict[str, Any]:
    """Message count and the stable prefix: instructions, leading system/developer messages, tools."""
    items = body.get("messages", body.get("input"))
    items = [items] if isinstance(items, str) else list(items or ())
    leading = []
    for item in items:
        if not (isinstance(item, dict) and item.get("role") in ("system", "developer")):
            break
        leading.append(item)
    instructions = body.get("instructions") or ""
    has_prefix = bool(instructions or leading or body.get("tools"))
    texts = [i if isinstance(i, str) else i.get("content") for i in items]
    text_chars = len(instructions) + sum(len(t) for t in texts if isinstance(t, str))
    expected: dict[str, Any] = {
        A.REQUEST_MESSAGE_COUNT: len(items),
        A.PREFIX_HASH: PRESENT if has_prefix else ABSENT,
        # Tool definitions and tool-call arguments count too: the recording bounds the size from below.
        A.REQUEST_INPUT_CHARS: AtLeast(text_chars),
    }
    if not body.get("tools"):
        expected[A.REQUEST_PREFIX_CHARS] = len(instructions) + sum(len(m["content"]) for m in leading)
    return expected


def _chat_usage(usage: dict[str, Any]) -> dict[str, Any]:
    prompt_details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    return {
        A.INPUT_TOKENS: usage["prompt_tokens"],
        A.OUTPUT_TOKENS: usage.get("completion_tokens", ABSENT),
        A.CACHED_INPUT_TOKENS: prompt_details.get("cached_tokens", ABSENT),
        A.REASONING_TOKENS: completion_details.get("reasoning_tokens", ABSENT),
    }


def _responses_usage(usage: dict[str, Any]) -> dict[str, Any]:
    return {
        A.INPUT_TOKENS: usage["input_tokens"],
        A.OUTPUT_TOKENS: usage["output_tokens"],
        A.CACHED_INPUT_TOKENS: (usage.get("input_tokens_details") or {}).get("cached_tokens", ABSENT),
        A.REASONING_TOKENS: (usage.get("output_tokens_details") or {}).get("reasoning_tokens", ABSENT),
    }


_NO_USAGE = {
    A.INPUT_TOKENS: ABSENT,
    A.OUTPUT_TOKENS: ABSENT,
    A.CACHED_INPUT_TOKENS: ABSENT,
    A.REASONING_TOKENS: ABSENT,
}


def _chat_stream_outcome(events: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    """Aggregate chat chunks the way a reader of the stream would."""
    first = next((e for e in events if e.get("id")), {})
    finish: dict[int, str] = {}
    usage = None
    for event in events:
        for choice in event.get("choices") or ():
            if choice.get("finish_reason"):
                finish[choice["index"]] = choice["finish_reason"]
        usage = event.get("usage") or usage
    return {
        A.RESPONSE_ID: first.get("id", ABSENT),
        A.RESPONSE_MODEL: first.get("model", ABSENT),
        A.FINISH_REASONS: tuple(finish[i] for i in sorted(finish)) if finish else ABSENT,
        A.SYSTEM_FINGERPRINT: first.get("system_fingerprint") or ABSENT,
        A.RESPONSE_SERVICE_TIER: first.get("service_tier") or ABSENT,
        **(_chat_usage(usage) if usage else _NO_USAGE),
    }


def _chat_outcome(body: dict[str, Any]) -> dict[str, Any]:
    return {
        A.RESPONSE_ID: body["id"],
        A.RESPONSE_MODEL: body["model"],
        A.FINISH_REASONS: tuple(c["finish_reason"] for c in body["choices"]),
        A.SYSTEM_FINGERPRINT: body.get("system_fingerprint") or ABSENT,
        A.RESPONSE_SERVICE_TIER: body.get("service_tier") or ABSENT,
        **_chat_usage(body["usage"]),
    }


def responses_finish_reasons(response: dict[str, Any]) -> tuple[str, ...]:
    """Finish reasons of a Responses API answer, in the Chat Completions vocabulary."""
    status = response.get("status")
    if status == "incomplete":
        reason = (response.get("incomplete_details") or {}).get("reason")
        return ("length",) if reason == "max_output_tokens" else (reason or "incomplete",)
    if status == "failed":
        return ("error",)
    if any(item.get("type") == "function_call" for item in response.get("output") or ()):
        return ("tool_calls",)
    return ("stop",)


def _responses_outcome(response: dict[str, Any] | None, first: dict[str, Any] | None) -> dict[str, Any]:
    if response is None:  # the stream ended before response.completed
        started = (first or {}).get("response") or {}
        return {
            A.RESPONSE_ID: started.get("id", ABSENT),
            A.RESPONSE_MODEL: started.get("model", ABSENT),
            A.FINISH_REASONS: ABSENT,
            A.RESPONSE_SERVICE_TIER: PRESENT if started.get("service_tier") else ABSENT,
            **_NO_USAGE,
        }
    return {
        A.RESPONSE_ID: response["id"],
        A.RESPONSE_MODEL: response["model"],
        A.FINISH_REASONS: responses_finish_reasons(response),
        A.RESPONSE_SERVICE_TIER: response.get("service_tier") or ABSENT,
        **_responses_usage(response["usage"]),
    }


def _embeddings_outcome(body: dict[str, Any]) -> dict[str, Any]:
    return {
        A.RESPONSE_MODEL: body["model"],
        A.RESPONSE_ID: ABSENT,
        A.FINISH_REASONS: ABSENT,
        A.INPUT_TOKENS: body["usage"]["prompt_tokens"],
        A.OUTPUT_TOKENS: ABSENT,
        A.CACHED_INPUT_TOKENS: ABSENT,
        A.REASONING_TOKENS: ABSENT,
    }


def recorded_outcome(
    plan: Plan, recorded: Interaction, result: CallResult, hidden_usage: bool
) -> dict[str, Any]:
    """What the response said, limited to the part the caller actually read.

    ``hidden_usage``: callscope asked for usage and the caller did not, so the
    recorded usage chunk reached callscope but not the caller.
    """
    if plan.api == "embeddings":
        return _embeddings_outcome(recorded.response_json)
    if not recorded.is_sse:
        if plan.api == "chat":
            return _chat_outcome(recorded.response_json)
        return _responses_outcome(recorded.response_json, None)
    seen = recorded.sse_data[: result.chunks + (1 if hidden_usage else 0)]
    if plan.api == "chat":
        return _chat_stream_outcome(seen)
    completed = next((e["response"] for e in seen if e.get("type") == "response.completed"), None)
    return _responses_outcome(completed, seen[0] if seen else None)


def expected_cost(outcome: dict[str, Any], service_tier: str | None) -> dict[str, Any]:
    """genai-prices' price of the recorded usage for the answering model, now; all absent if unknown."""
    unknown = {A.COST_USD: ABSENT, A.COST_INPUT_USD: ABSENT, A.COST_OUTPUT_USD: ABSENT, A.PRICE_MODEL: ABSENT}
    tokens = outcome.get(A.INPUT_TOKENS)
    if tokens is ABSENT or tokens is None:
        return unknown
    cached = outcome.get(A.CACHED_INPUT_TOKENS)
    output = outcome.get(A.OUTPUT_TOKENS)
    usage = Usage(
        input_tokens=tokens,
        cache_read_tokens=cached if isinstance(cached, int) else None,
        output_tokens=output if isinstance(output, int) else None,
    )
    try:
        price = calc_price(
            usage,
            outcome[A.RESPONSE_MODEL],
            provider_id="openai",
            genai_request_timestamp=dt.datetime.now(dt.UTC),
            price_context={"service_tier": service_tier} if service_tier else None,
        )
    except LookupError:
        return unknown
    return {
        A.COST_USD: float(price.total_price),
        A.COST_INPUT_USD: float(price.input_price),
        A.COST_OUTPUT_USD: float(price.output_price),
        A.PRICE_MODEL: price.model.id,
    }


def stream_expectations(plan: Plan, recorded: Interaction, result: CallResult) -> dict[str, Any]:
    """The stream facts: flag, chunk count, how it ended, and the call's status."""
    if plan.mode is Mode.RESULT:
        return {
            A.STREAM: ABSENT,
            A.STREAM_END: ABSENT,
            A.STREAM_CHUNKS: ABSENT,
            A.TIME_TO_FIRST_CHUNK: ABSENT,
        }
    end, status = {
        Mode.ITERATE: ("exhausted", "ok"),
        Mode.WITH: ("exhausted", "ok"),
        Mode.ITERATE_THEN_CLOSE: ("exhausted", "ok"),
        Mode.PARTIAL: ("closed", "incomplete"),
        Mode.RESPONSE_ONLY: ("closed", "incomplete"),
        Mode.USER_EXCEPTION: ("closed", "incomplete"),
        Mode.CUT: ("error", "error"),
        Mode.HELPER: ("exhausted", "ok"),
    }[plan.mode]
    if plan.mode is Mode.PARTIAL:
        assert result.chunks == PARTIAL_CHUNKS
    # The first chunk of output: any chat chunk; for the Responses API the first ``*.delta`` event.
    events = recorded.sse_data[: result.chunks]
    outputs = events if plan.api == "chat" else [e for e in events if e["type"].endswith(".delta")]
    return {
        A.STREAM: True,
        A.STREAM_END: end,
        A.STATUS: status,
        A.STREAM_CHUNKS: result.chunks,
        A.TIME_TO_FIRST_CHUNK: PRESENT if outputs else ABSENT,
        A.TIME_PER_CHUNK_MS: PRESENT if len(outputs) > 1 else ABSENT,
    }


def expected_attributes(
    plan: Plan, recorded: Interaction, result: CallResult, *, hidden_usage: bool, injected_usage: bool
) -> dict[str, Any]:
    """Every attribute the span of this call must have (or must not have), from the recording.

    ``injected_usage``: callscope had to ask this chat stream for its usage;
    ``hidden_usage``: the recording's usage chunk was then hidden from the caller.
    """
    body = recorded.request_json
    expected: dict[str, Any] = {
        A.USAGE_INJECTED: True if injected_usage else ABSENT,
        A.OPERATION: "embeddings" if plan.api == "embeddings" else "chat",
        A.PROVIDER: "openai",
        A.API_TYPE: _API_TYPE[plan.api],
        A.SERVER_ADDRESS: recorded.url.host,
        A.SERVER_PORT: recorded.url.port or 443,
        A.ATTEMPTS: 1,
        A.ATTEMPT_STATUSES: (str(recorded.status),),
        A.HTTP_STATUS: recorded.status,
        **request_expectations(plan, body),
        **header_expectations(recorded),
    }
    if recorded.status >= 400:
        error = recorded.response_json["error"]
        expected |= {
            A.STATUS: "error",
            A.ERROR_TYPE: type(result.error).__name__,
            A.ERROR_CODE: error.get("code") or ABSENT,
            A.RESPONSE_MODEL: ABSENT,
            A.RESPONSE_ID: ABSENT,
            A.COST_USD: ABSENT,
            A.PRICE_MODEL: ABSENT,
            A.USAGE_SOURCE: ABSENT,
            **_NO_USAGE,
        }
        return expected
    outcome = recorded_outcome(plan, recorded, result, hidden_usage)
    expected |= outcome
    expected |= {A.STATUS: "ok", A.ERROR_TYPE: ABSENT}
    expected |= stream_expectations(plan, recorded, result)
    if plan.mode is Mode.CUT:
        expected[A.ERROR_TYPE] = type(result.error).__name__
    exact_usage = outcome[A.INPUT_TOKENS] is not ABSENT
    expected[A.USAGE_SOURCE] = "api" if exact_usage else PRESENT
    if exact_usage:
        tier = outcome.get(A.RESPONSE_SERVICE_TIER)
        expected |= expected_cost(outcome, tier if isinstance(tier, str) else body.get("service_tier"))
    return expected
