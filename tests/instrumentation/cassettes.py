"""Replay recorded OpenAI API exchanges (VCR cassettes) through the real ``openai`` SDK.

The cassettes are real HTTP exchanges recorded by OpenTelemetry's openai-v2
instrumentation tests (see ``SOURCE.md`` next to them). :class:`ReplayTransport`
is an ``httpx2`` transport that answers each request the SDK sends with the
next recorded response for the same method and path, keeping the recorded
status, headers and body, and streaming SSE bodies one event at a time so a
stream behaves as it does over the network. Nothing here knows about
callscope: the same transport serves the bare SDK and the instrumented one.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx2
import yaml

__all__ = [
    "EXPECTED_CASSETTE_COUNT",
    "Cassette",
    "CassetteMismatch",
    "Interaction",
    "ReplayTransport",
    "SSEByteStream",
    "cassette_dir",
    "load_cassettes",
]

EXPECTED_CASSETTE_COUNT = 71
_REPO = Path(__file__).resolve().parents[2]
_CANDIDATE_DIRS = (
    _REPO / "tests" / "fixtures" / "openai-cassettes",
    _REPO.parent / "shared" / "fixtures" / "openai-cassettes",
)
# Framing headers describe the recorded wire encoding, not the body we hand back in-process.
_FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "content-encoding"})


class CassetteMismatch(AssertionError):
    """The SDK sent a request the cassette has no (more) recording for."""


def cassette_dir() -> Path:
    """Where the cassettes are: ``$CALLSCOPE_CASSETTES``, the repository's fixtures, or ``../shared``."""
    override = os.environ.get("CALLSCOPE_CASSETTES")
    candidates = (Path(override),) if override else _CANDIDATE_DIRS
    for candidate in candidates:
        if candidate.is_dir() and any(candidate.glob("*.yaml")):
            return candidate
    raise FileNotFoundError(f"no OpenAI cassettes found in any of {[str(c) for c in candidates]}")


@dataclass(frozen=True)
class Interaction:
    """One recorded request and its response."""

    method: str
    url: httpx2.URL
    request_body: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: str

    @classmethod
    def from_vcr(cls, raw: dict[str, Any]) -> Interaction:
        request, response = raw["request"], raw["response"]
        headers: list[tuple[str, str]] = []
        for name, value in response["headers"].items():
            values = value if isinstance(value, list) else [value]
            headers.extend((name, str(v)) for v in values)
        return cls(
            method=request["method"].upper(),
            url=httpx2.URL(request["uri"]),
            request_body=request["body"] or "",
            status=int(response["status"]["code"]),
            headers=tuple(headers),
            body=response["body"]["string"],
        )

    @cached_property
    def request_json(self) -> dict[str, Any]:
        """The request body the recording was made with (the SDK call's arguments)."""
        body: dict[str, Any] = json.loads(self.request_body) if self.request_body else {}
        return body

    def header(self, name: str) -> str | None:
        """The first recorded response header of that name (case-insensitive), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    @property
    def is_sse(self) -> bool:
        return (self.header("content-type") or "").startswith("text/event-stream")

    @cached_property
    def sse_frames(self) -> tuple[bytes, ...]:
        """The SSE body as the network would deliver it: one event (ending in a blank line) per piece."""
        frames = [frame + "\n\n" for frame in self.body.split("\n\n") if frame.strip()]
        return tuple(frame.encode() for frame in frames)

    @cached_property
    def sse_data(self) -> tuple[dict[str, Any], ...]:
        """The JSON payloads of the recorded SSE events, ``[DONE]`` excluded."""
        payloads = []
        for frame in self.sse_frames:
            for line in frame.decode().splitlines():
                if line.startswith("data:") and line[5:].strip() != "[DONE]":
                    payloads.append(json.loads(line[5:]))
        return tuple(payloads)

    @cached_property
    def response_json(self) -> dict[str, Any]:
        """The recorded JSON body (non-streamed responses and errors)."""
        body: dict[str, Any] = json.loads(self.body)
        return body


@dataclass(frozen=True)
class Cassette:
    """A recorded test: its name and its interactions, in order."""

    name: str
    path: Path
    interactions: tuple[Interaction, ...]

    @classmethod
    def load(cls, path: Path) -> Cassette:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        name = path.name.removesuffix(".yaml")
        return cls(name=name, path=path, interactions=tuple(map(Interaction.from_vcr, raw["interactions"])))

    @property
    def base_url(self) -> str:
        """The API base the recording talked to, e.g. ``https://api.openai.com/v1``."""
        url = self.interactions[0].url
        return str(url.copy_with(path="/v1", query=None))

    @property
    def endpoint(self) -> str:
        """``chat/completions``, ``responses`` or ``embeddings``."""
        return self.interactions[0].url.path.removeprefix("/v1/")

    @property
    def is_async(self) -> bool:
        return self.name.startswith("test_async_")

    def transport(self, **kwargs: Any) -> ReplayTransport:
        return ReplayTransport(self.interactions, **kwargs)


def load_cassettes() -> list[Cassette]:
    """Every cassette in :func:`cassette_dir`, sorted by name."""
    return [Cassette.load(path) for path in sorted(cassette_dir().glob("*.yaml"))]


class SSEByteStream(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """A response body handed out one SSE event at a time, optionally cut after ``cut_after`` events.

    ``frames_sent`` counts what the client pulled; ``closed`` tells whether the
    client released the response (what a well-behaved stream must do).
    """

    def __init__(self, frames: tuple[bytes, ...], cut_after: int | None = None) -> None:
        self._frames = frames
        self._cut_after = cut_after
        self.frames_sent = 0
        self.closed = False

    def _next_frames(self) -> Iterator[bytes]:
        for frame in self._frames:
            if self._cut_after is not None and self.frames_sent >= self._cut_after:
                raise httpx2.ReadError("connection reset by peer (cut by the replay transport)")
            self.frames_sent += 1
            yield frame

    def __iter__(self) -> Iterator[bytes]:
        yield from self._next_frames()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for frame in self._next_frames():
            yield frame

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


@dataclass
class ReplayTransport(httpx2.BaseTransport, httpx2.AsyncBaseTransport):
    """Answers each request with the next unused recording for its method and path.

    ``cut_streams_after`` cuts every SSE body with a connection error after that
    many events (a network failure mid-stream). ``requests`` keeps what the SDK
    actually sent, ``bodies`` the response streams handed out.
    """

    interactions: tuple[Interaction, ...]
    cut_streams_after: int | None = None
    requests: list[httpx2.Request] = field(default_factory=list)
    bodies: list[SSEByteStream] = field(default_factory=list)
    _used: set[int] = field(default_factory=set)

    def _answer(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        for index, recorded in enumerate(self.interactions):
            if index in self._used:
                continue
            if recorded.method == request.method and recorded.url.path == request.url.path:
                self._used.add(index)
                return self._response(recorded, request)
        raise CassetteMismatch(f"no unused recording for {request.method} {request.url.path}")

    def _response(self, recorded: Interaction, request: httpx2.Request) -> httpx2.Response:
        headers = [(k, v) for k, v in recorded.headers if k.lower() not in _FRAMING_HEADERS]
        if recorded.is_sse:
            frames = recorded.sse_frames
            cut = self.cut_streams_after
        else:
            frames, cut = (recorded.body.encode(),), None
        body = SSEByteStream(frames, cut_after=cut)
        self.bodies.append(body)
        return httpx2.Response(recorded.status, headers=headers, stream=body, request=request)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        return self._answer(request)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        return self._answer(request)

    @property
    def unused(self) -> list[Interaction]:
        return [recorded for index, recorded in enumerate(self.interactions) if index not in self._used]

    def sent_json(self, index: int) -> dict[str, Any]:
        """The JSON body of the ``index``-th request the SDK sent."""
        body: dict[str, Any] = json.loads(self.requests[index].content)
        return body
