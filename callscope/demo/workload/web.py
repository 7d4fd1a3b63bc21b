"""The demo app's web side: the Acme Cloud console's async request handlers, on ``openai.AsyncOpenAI``.

Each handler runs inside a server span, as a web framework's OpenTelemetry instrumentation would open one,
so callscope knows a user was waiting on these calls. The handlers are what a team would write:

* ``POST /chat``: the support assistant streams its answer, with a long system prompt shared by every
  conversation (planted: *trim prompts*; its streams also give the time to first token other rules use);
* ``POST /tickets``: new tickets are routed by gpt-4o answering one word (planted: *right-size the model*);
* ``POST /orders/assist``: an agent with five tools whose schemas change key order on every request
  (planted: *make prompts cache-friendly*);
* ``POST /reports/weekly``: a long weekly report generated without streaming while the account manager
  waits (planted: *stream interactive calls*).
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import openai
from opentelemetry.semconv.attributes.http_attributes import (
    HTTP_REQUEST_METHOD,
    HTTP_RESPONSE_STATUS_CODE,
    HTTP_ROUTE,
)
from opentelemetry.semconv.attributes.url_attributes import URL_PATH, URL_SCHEME
from opentelemetry.trace import SpanKind, Tracer

import callscope
from callscope.demo.config import OUTPUT_TOKENS_HEADER
from callscope.demo.workload import texts
from callscope.demo.workload.plan import MODELS, Plan
from callscope.demo.workload.recorder import Recorder, prefix_chars, request_key

__all__ = ["SupportSite", "request_span"]

#: Requests each route serves at once (the site's worker pool).
_CONCURRENCY = {"/chat": 12, "/tickets": 6, "/orders/assist": 6, "/reports/weekly": 8}


@contextmanager
def request_span(tracer: Tracer, method: str, route: str, path: str) -> Iterator[None]:
    """A request handler's server span, named and attributed as OTel's web instrumentations do."""
    attributes = {HTTP_REQUEST_METHOD: method, HTTP_ROUTE: route, URL_PATH: path, URL_SCHEME: "https"}
    with tracer.start_as_current_span(
        f"{method} {route}", kind=SpanKind.SERVER, attributes=attributes
    ) as span:
        yield
        span.set_attribute(HTTP_RESPONSE_STATUS_CODE, 200)


class SupportSite:
    """The console's backend, serving the plan's share of requests."""

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        recorder: Recorder,
        plan: Plan,
        tracer: Tracer,
        stopping: threading.Event | None = None,
    ) -> None:
        self.client = client
        self.recorder = recorder
        self.plan = plan
        self.tracer = tracer
        #: Set when the run is interrupted: requests not yet started are dropped.
        self.stopping = stopping or threading.Event()

    def _length(self, kind: str, index: int, low: int, high: int) -> str:
        """How long the simulated model's answer is (a header only the simulator reads)."""
        return str(random.Random(f"{self.plan.seed}:{kind}-length:{index}").randint(low, high))

    async def chat(self, index: int) -> None:
        model = MODELS["support-chat"]
        body: dict[str, Any] = {
            "model": model,
            "messages": [
                {"role": "system", "content": texts.SUPPORT_PROMPT},
                {"role": "user", "content": texts.chat_question(self.plan.seed, index)},
            ],
            "max_tokens": 500,
            "temperature": 0.3,
        }
        labels = {"feature": "support-chat", "session_id": f"sess-{index:05d}"}
        with (
            request_span(self.tracer, "POST", "/chat", "/chat"),
            callscope.tags(**labels),
            self.recorder.measure(
                "support-chat",
                model=model,
                stream=True,
                max_tokens=500,
                prefix_chars=prefix_chars(texts.SUPPORT_PROMPT),
                request_key=request_key(body),
                route="/chat",
                tags=labels,
            ) as measure,
        ):
            stream = await self.client.chat.completions.create(
                **body,
                stream=True,
                stream_options={"include_usage": True},  # the app keeps its own token counts
                extra_headers={OUTPUT_TOKENS_HEADER: self._length("chat", index, 40, 180)},
            )
            measure.headers(stream.response.headers)
            async for chunk in stream:
                measure.chunk(chunk)

    async def triage(self, index: int) -> None:
        model = MODELS["ticket-triage"]
        _, ticket = texts.ticket(self.plan.seed, index)
        body: dict[str, Any] = {
            "model": model,
            "messages": [
                {"role": "system", "content": texts.CLASSIFIER_PROMPT},
                {"role": "user", "content": ticket},
            ],
            "temperature": 0,
        }
        labels = {"feature": "ticket-triage"}
        with (
            request_span(self.tracer, "POST", "/tickets", "/tickets"),
            callscope.tags(**labels),
            self.recorder.measure(
                "ticket-triage",
                model=model,
                stream=False,
                prefix_chars=prefix_chars(texts.CLASSIFIER_PROMPT),
                request_key=request_key(body),
                route="/tickets",
                tags=labels,
            ) as measure,
        ):
            answer = await self.client.chat.completions.create(
                **body, extra_headers={OUTPUT_TOKENS_HEADER: "1"}
            )
            measure.completion(answer)

    async def agent(self, index: int) -> None:
        model = MODELS["order-agent"]
        tools = texts.agent_tools(random.Random(f"{self.plan.seed}:tools:{index}"))
        body: dict[str, Any] = {
            "model": model,
            "messages": [
                {"role": "system", "content": texts.AGENT_INSTRUCTIONS},
                {"role": "user", "content": texts.agent_context(self.plan.seed, index)},
            ],
            "tools": tools,
            "tool_choice": "required",
            "parallel_tool_calls": False,
            "max_tokens": 400,
        }
        labels = {"feature": "order-agent", "customer": f"C-{7_000 + index}"}
        route = "/orders/assist"
        with (
            request_span(self.tracer, "POST", route, route),
            callscope.tags(**labels),
            self.recorder.measure(
                "order-agent",
                model=model,
                stream=False,
                max_tokens=400,
                prefix_chars=prefix_chars(texts.AGENT_INSTRUCTIONS, tools),
                request_key=request_key(body),
                route=route,
                tags=labels,
                tools=len(tools),
            ) as measure,
        ):
            measure.completion(await self.client.chat.completions.create(**body))

    async def report(self, index: int) -> None:
        model = MODELS["weekly-report"]
        wanted = self.plan.report_tokens
        body: dict[str, Any] = {
            "model": model,
            "messages": [
                {"role": "system", "content": texts.REPORT_PROMPT},
                {"role": "user", "content": texts.report_request(self.plan.seed, index)},
            ],
            "max_tokens": min(16_384, wanted + 512),
        }
        labels = {"feature": "weekly-report", "customer": f"C-{7_000 + index}"}
        route = "/reports/weekly"
        with (
            request_span(self.tracer, "POST", route, route),
            callscope.tags(**labels),
            self.recorder.measure(
                "weekly-report",
                model=model,
                stream=False,
                max_tokens=body["max_tokens"],
                prefix_chars=prefix_chars(texts.REPORT_PROMPT),
                request_key=request_key(body),
                route=route,
                tags=labels,
            ) as measure,
        ):
            answer = await self.client.chat.completions.create(
                **body, extra_headers={OUTPUT_TOKENS_HEADER: str(wanted)}
            )
            measure.completion(answer)

    async def serve(self) -> None:
        """All the plan's requests, the slow reports first, each route with its own concurrency."""
        plan = self.plan
        routes: list[tuple[str, Callable[[int], Awaitable[None]], int]] = [
            ("/reports/weekly", self.report, plan.reports),
            ("/orders/assist", self.agent, plan.agent_calls),
            ("/tickets", self.triage, plan.tickets),
            ("/chat", self.chat, plan.chats),
        ]
        await asyncio.gather(
            *(self._serve_route(handler, count, _CONCURRENCY[route]) for route, handler, count in routes)
        )

    async def _serve_route(
        self, handler: Callable[[int], Awaitable[None]], count: int, concurrency: int
    ) -> None:
        gate = asyncio.Semaphore(concurrency)

        async def one(index: int) -> None:
            async with gate:
                if not self.stopping.is_set():
                    await handler(index)

        await asyncio.gather(*(one(index) for index in range(count)))
