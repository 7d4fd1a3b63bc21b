"""A scripted OpenAI API behind ``httpx2.MockTransport``, and payload builders.

The payloads follow the shapes of the recorded cassettes (real API responses), so
the real SDK parses them exactly as it parses the API's own answers.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx2
import openai

API_KEY = "sk-proj-callscope-TEST-SECRET-9f8e7d6c5b4a"
MODEL = "gpt-4o-mini"
RESPONSE_MODEL = "gpt-4o-mini-2024-07-18"

Reply = httpx2.Response | BaseException | Callable[[httpx2.Request], httpx2.Response]


def usage_chat(
    prompt: int = 2000, completion: int = 500, cached: int = 1024, reasoning: int = 0
) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": reasoning, "audio_tokens": 0},
    }


def chat_completion(
    content: str = "Hello there!",
    *,
    model: str = RESPONSE_MODEL,
    usage: dict[str, Any] | None = None,
    finish_reason: str = "stop",
    service_tier: str = "default",
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-CS1",
        "object": "chat.completion",
        "created": 1776481268,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None, "annotations": []},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": usage if usage is not None else usage_chat(),
        "service_tier": service_tier,
        "system_fingerprint": "fp_cs1",
    }


def chat_chunks(
    pieces: tuple[str, ...] = ("This", " is", " a", " test", "."),
    *,
    model: str = RESPONSE_MODEL,
    usage: dict[str, Any] | None = None,
    include_usage: bool = False,
    finish_reason: str | None = "stop",
) -> list[dict[str, Any]]:
    """Chunks as the API streams them; with ``include_usage`` every chunk has ``usage: null``
    and a last empty-choices chunk carries the usage."""

    def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": "chatcmpl-CS2",
            "object": "chat.completion.chunk",
            "created": 1776481268,
            "model": model,
            "service_tier": "default",
            "system_fingerprint": "fp_cs2",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if include_usage:
            out["usage"] = None
        return out

    chunks = [chunk({"role": "assistant", "content": "", "refusal": None}, None)]
    chunks += [chunk({"content": piece}, None) for piece in pieces]
    if finish_reason is not None:
        chunks.append(chunk({}, finish_reason))
    if include_usage:
        last = chunk({}, None)
        last["choices"] = []
        last["usage"] = usage if usage is not None else usage_chat(prompt=12, completion=5, cached=0)
        chunks.append(last)
    return chunks


def sse(
    events: list[dict[str, Any]], *, named: bool = False, done: bool = True, compact: bool = True
) -> bytes:
    """Server-sent events; ``compact`` JSON as OpenAI sends it (other servers add spaces)."""
    separators = (",", ":") if compact else (", ", ": ")
    lines = []
    for event in events:
        if named:
            lines.append(f"event: {event['type']}\n")
        lines.append(f"data: {json.dumps(event, separators=separators)}\n\n")
    if done:
        lines.append("data: [DONE]\n\n")
    return "".join(lines).encode()


def usage_responses(
    inp: int = 2000, out: int = 500, cached: int = 1024, reasoning: int = 0
) -> dict[str, Any]:
    return {
        "input_tokens": inp,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": out,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": inp + out,
    }


def response_object(
    text: str = "This is a test.",
    *,
    status: str = "completed",
    model: str = RESPONSE_MODEL,
    usage: dict[str, Any] | None = None,
    incomplete_reason: str | None = None,
    response_id: str = "resp_CS3",
) -> dict[str, Any]:
    output = []
    if status != "in_progress":
        output = [
            {
                "id": "msg_CS3",
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": text}],
            }
        ]
    return {
        "id": response_id,
        "object": "response",
        "created_at": 1776481268,
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": {"reason": incomplete_reason} if incomplete_reason else None,
        "instructions": None,
        "max_output_tokens": None,
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": (usage if usage is not None else usage_responses()) if status != "in_progress" else None,
        "user": None,
        "metadata": {},
    }


def response_events(
    pieces: tuple[str, ...] = ("This", " is", " a", " test", "."),
    *,
    usage: dict[str, Any] | None = None,
    terminal: bool = True,
) -> list[dict[str, Any]]:
    text = "".join(pieces)
    item = {"id": "msg_CS3", "type": "message", "status": "in_progress", "content": [], "role": "assistant"}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": response_object(status="in_progress")},
        {"type": "response.in_progress", "response": response_object(status="in_progress")},
        {"type": "response.output_item.added", "item": item, "output_index": 0},
        {
            "type": "response.content_part.added",
            "content_index": 0,
            "item_id": "msg_CS3",
            "output_index": 0,
            "part": {"type": "output_text", "annotations": [], "logprobs": [], "text": ""},
        },
    ]
    for piece in pieces:
        events.append(
            {
                "type": "response.output_text.delta",
                "content_index": 0,
                "delta": piece,
                "item_id": "msg_CS3",
                "logprobs": [],
                "output_index": 0,
            }
        )
    done_part = {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
    events += [
        {
            "type": "response.output_text.done",
            "content_index": 0,
            "item_id": "msg_CS3",
            "logprobs": [],
            "output_index": 0,
            "text": text,
        },
        {
            "type": "response.content_part.done",
            "content_index": 0,
            "item_id": "msg_CS3",
            "output_index": 0,
            "part": done_part,
        },
        {
            "type": "response.output_item.done",
            "item": {**item, "status": "completed", "content": [done_part]},
            "output_index": 0,
        },
    ]
    if terminal:
        events.append({"type": "response.completed", "response": response_object(text, usage=usage)})
    for number, event in enumerate(events):
        event["sequence_number"] = number
    return events


def embedding_response(dimensions: int = 4, tokens: int = 8) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.25] * dimensions}],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


HEADERS = {
    "x-request-id": "req_cs_0001",
    "openai-processing-ms": "321",
    "x-ratelimit-limit-requests": "10000",
    "x-ratelimit-limit-tokens": "200000",
    "x-ratelimit-remaining-requests": "9999",
    "x-ratelimit-remaining-tokens": "199950",
    "x-ratelimit-reset-requests": "6ms",
    "x-ratelimit-reset-tokens": "1m30.5s",
}


def json_reply(
    payload: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> httpx2.Response:
    return httpx2.Response(status, json=payload, headers={**HEADERS, **(headers or {})})


class Chunked(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """A body delivered piece by piece, as from the network (an in-memory body is pre-read)."""

    def __init__(self, body: bytes, size: int = 64) -> None:
        self.pieces = [body[i : i + size] for i in range(0, len(body), size)]

    def __iter__(self) -> Iterator[bytes]:
        yield from self.pieces

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece


def sse_reply(body: bytes, headers: dict[str, str] | None = None) -> httpx2.Response:
    return httpx2.Response(
        200, stream=Chunked(body), headers={"content-type": "text/event-stream", **HEADERS, **(headers or {})}
    )


def error_reply(
    status: int, code: str, message: str = "slow down", headers: dict[str, str] | None = None
) -> httpx2.Response:
    body = {
        "error": {
            "message": message,
            "type": "requests" if status == 429 else "server_error",
            "param": None,
            "code": code,
        }
    }
    return httpx2.Response(
        status, json=body, headers={"x-request-id": f"req_err_{status}", **(headers or {})}
    )


class CutStream(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """A response body that delivers ``head`` and then loses the connection."""

    def __init__(self, head: bytes) -> None:
        self.head = head

    def __iter__(self) -> Iterator[bytes]:
        yield self.head
        raise httpx2.ReadError("connection lost mid-stream")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.head
        raise httpx2.ReadError("connection lost mid-stream")


class FakeOpenAI:
    """Answers with queued replies first, then with sensible defaults per endpoint."""

    def __init__(self) -> None:
        self.queue: deque[Reply] = deque()
        self.requests: list[httpx2.Request] = []

    def add(self, *replies: Reply) -> FakeOpenAI:
        self.queue.extend(replies)
        return self

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if self.queue:
            reply = self.queue.popleft()
            if isinstance(reply, BaseException):
                raise reply
            if callable(reply) and not isinstance(reply, httpx2.Response):
                return reply(request)
            return reply
        return default_reply(request)

    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self.handler)

    def client(self, *, base_url: str | None = None, max_retries: int = 2, **kwargs: Any) -> openai.OpenAI:
        return openai.OpenAI(
            api_key=API_KEY,
            base_url=base_url,
            max_retries=max_retries,
            http_client=openai.DefaultHttpxClient(transport=self.transport()),
            **kwargs,
        )

    def async_client(
        self, *, base_url: str | None = None, max_retries: int = 2, **kwargs: Any
    ) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(
            api_key=API_KEY,
            base_url=base_url,
            max_retries=max_retries,
            http_client=openai.DefaultAsyncHttpxClient(transport=self.transport()),
            **kwargs,
        )


def default_reply(request: httpx2.Request) -> httpx2.Response:
    body = json.loads(request.content) if request.content else {}
    path = request.url.path
    streamed = bool(body.get("stream"))
    if path.endswith("/chat/completions"):
        if streamed:
            include = bool((body.get("stream_options") or {}).get("include_usage"))
            return sse_reply(sse(chat_chunks(include_usage=include)))
        return json_reply(chat_completion())
    if path.endswith("/responses") and request.method == "POST":
        return (
            sse_reply(sse(response_events(), named=True, done=False))
            if streamed
            else json_reply(response_object())
        )
    if "/responses/" in path and request.method == "GET":
        after = int(request.url.params.get("starting_after", "-1"))
        events = [e for e in response_events() if e["sequence_number"] > after]
        return sse_reply(sse(events, named=True, done=False))
    if path.endswith("/embeddings"):
        return json_reply(embedding_response())
    return httpx2.Response(404, json={"error": {"message": "no such route", "type": "invalid_request_error"}})
