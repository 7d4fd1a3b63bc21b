"""Run the demo app against an OpenAI-compatible base URL: the web side and every job at once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import openai
from opentelemetry import trace

from callscope.demo.errors import DemoError
from callscope.demo.workload.jobs import RETAG_MAX_RETRIES, Jobs
from callscope.demo.workload.plan import Plan
from callscope.demo.workload.recorder import CallRecord, Recorder
from callscope.demo.workload.web import SupportSite

__all__ = ["API_KEY", "run_workload"]

#: Any key works with the simulator; the SDK insists on having one.
API_KEY = "sk-callscope-demo"
#: Instrumentation scope of the app's own spans (request handlers, job runs).
TRACER_NAME = "acme-support"


def run_workload(
    plan: Plan, base_url: str, *, on_call: Callable[[CallRecord], None] | None = None
) -> list[CallRecord]:
    """Make every call of ``plan`` through the real ``openai`` SDK; returns them as the app saw them.

    Whatever instruments the SDK (``callscope.instrument()``) sees them as it would in production. API errors
    the app expects (the re-tag job's 429s) are part of the run; anything else is a :class:`DemoError`.
    Interrupted (Ctrl-C), it starts no more calls, and the interrupt goes on once those in flight have ended.
    """
    recorder = Recorder(on_call)
    stopping = threading.Event()
    tracer = trace.get_tracer(TRACER_NAME)
    client = openai.OpenAI(base_url=base_url, api_key=API_KEY)
    retag_client = openai.OpenAI(base_url=base_url, api_key=API_KEY, max_retries=RETAG_MAX_RETRIES)
    jobs = Jobs(client, retag_client, recorder, plan, tracer, stopping=stopping)
    _warm_up(client, retag_client)

    async def web() -> None:
        async with openai.AsyncOpenAI(base_url=base_url, api_key=API_KEY) as async_client:
            _warm_up(async_client)
            await SupportSite(async_client, recorder, plan, tracer, stopping).serve()

    try:
        with ThreadPoolExecutor(max_workers=5, thread_name_prefix="demo-app") as app:
            parts = [app.submit(job) for job in jobs.all()]
            parts.append(app.submit(asyncio.run, web()))
            try:
                for part in parts:
                    part.result()
            except BaseException:  # Ctrl-C, or a failure: start no more calls, let those in flight end
                stopping.set()
                raise
    except openai.APIError as err:
        raise DemoError(f"the demo app's call to the simulator failed unexpectedly: {err}") from err
    finally:
        client.close()
        retag_client.close()
    return recorder.records()


def _warm_up(*clients: openai.OpenAI | openai.AsyncOpenAI) -> None:
    """Import the SDK's resources now: the first ``client.chat`` imports them (a few hundred ms), which the
    app's clock around its first calls would otherwise count as if it were time spent in the API."""
    for client in clients:
        _ = client.chat.completions, client.embeddings
