"""An in-process OpenAI Chat Completions endpoint for the overhead benchmark.

It runs in every benchmark environment (callscope's and each peer's), so it
needs only the standard library and whichever HTTP library the installed
``openai`` uses (``httpx2`` for openai 3.x, ``httpx`` before). Payloads are
built once; answering a request costs the same for every instrumentation.
The headers and bodies have the shape of real API answers (see the recorded
cassettes), and a stream carries its usage chunk only when the request asked
for it with ``stream_options.include_usage``, as the real API does.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

MODEL = "gpt-4o-mini"
RESPONSE_MODEL = "gpt-4o-mini-2024-07-18"
STREAM_CHUNKS = 50  # chunks the caller receives: a role chunk, 48 content chunks, a finish chunk
PROMPT_TOKENS, COMPLETION_TOKENS = 24, 48
MESSAGES: list[Any] = [
    {"role": "system", "content": "You are a terse assistant."},
    {"role": "user", "content": "Name forty-eight words, one per chunk."},
]

_HEADERS = [
    ("content-type", "application/json"),
    ("openai-processing-ms", "312"),
    ("openai-version", "2020-10-01"),
    ("x-ratelimit-limit-requests", "10000"),
    ("x-ratelimit-limit-tokens", "2000000"),
    ("x-ratelimit-remaining-requests", "9999"),
    ("x-ratelimit-remaining-tokens", "1999976"),
    ("x-ratelimit-reset-requests", "6ms"),
    ("x-ratelimit-reset-tokens", "0s"),
    ("x-request-id", "req_0123456789abcdef0123456789abcdef"),
]
_SSE_HEADERS = [("content-type", "text/event-stream; charset=utf-8"), *_HEADERS[1:]]
_USAGE = {
    "prompt_tokens": PROMPT_TOKENS,
    "completion_tokens": COMPLETION_TOKENS,
    "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
}


def _completion_body() -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-bench0000000000000000000000",
            "object": "chat.completion",
            "created": 1764460800,
            "model": RESPONSE_MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "word " * COMPLETION_TOKENS, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": _USAGE,
            "service_tier": "default",
            "system_fingerprint": "fp_bench",
        }
    ).encode()


def _chunk(choices: list[dict[str, Any]], usage: dict[str, Any] | None = None) -> bytes:
    payload = {
        "id": "chatcmpl-bench0000000000000000000000",
        "object": "chat.completion.chunk",
        "created": 1764460800,
        "model": RESPONSE_MODEL,
        "service_tier": "default",
        "system_fingerprint": "fp_bench",
        "choices": choices,
        "usage": usage,
    }
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def _delta(delta: dict[str, Any], finish: str | None = None) -> list[dict[str, Any]]:
    return [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]


def _stream_frames() -> tuple[bytes, ...]:
    frames = [_chunk(_delta({"role": "assistant", "content": "", "refusal": None}))]
    frames += [_chunk(_delta({"content": f" word{i}"})) for i in range(STREAM_CHUNKS - 2)]
    frames.append(_chunk(_delta({}, "stop")))
    return tuple(frames)


COMPLETION_BODY = _completion_body()
STREAM_FRAMES = _stream_frames()
USAGE_FRAME = _chunk([], _USAGE)
DONE_FRAME = b"data: [DONE]\n\n"


def make_transport(http: ModuleType, delay_s: float = 0.0) -> Any:
    """A ``MockTransport`` of the given HTTP library (``httpx2`` or ``httpx``) answering chat completions.

    ``delay_s``: sleep that long before answering, as the network and the API would (the
    calling thread releases the GIL meanwhile, so other threads run). 0 by default: the
    overhead table measures the instrumentation alone.
    """

    class FrameStream(http.SyncByteStream, http.AsyncByteStream):  # type: ignore[name-defined,misc]
        def __init__(self, frames: tuple[bytes, ...]) -> None:
            self._frames = frames

        def __iter__(self) -> Iterator[bytes]:
            yield from self._frames

        async def __aiter__(self) -> Any:
            for frame in self._frames:
                yield frame

    def answer(request: Any) -> Any:
        if delay_s:
            time.sleep(delay_s)
        body = json.loads(request.content)
        if not body.get("stream"):
            return http.Response(200, headers=_HEADERS, content=COMPLETION_BODY)
        frames = STREAM_FRAMES
        if (body.get("stream_options") or {}).get("include_usage"):
            frames = (*frames, USAGE_FRAME)
        return http.Response(200, headers=_SSE_HEADERS, stream=FrameStream((*frames, DONE_FRAME)))

    return http.MockTransport(answer)
