"""The demo app's background jobs, on the sync ``openai.OpenAI`` client and thread pools.

No user waits on these: each job run is a trace of its own under an internal span (there is no request
handler above it), and the jobs that run on a schedule say so with a ``job`` tag:

* the nightly digest summarises tickets one small non-streamed call at a time, and meets some tickets
  twice (planted: *batch non-interactive traffic* and *cache repeated requests*);
* the blog writer sets no output cap; now and then the legacy model rambles on until its 4,096-token
  limit cuts it off (planted: *cap output length*);
* the catalogue re-tag job fires a burst at a model with a low requests-per-minute limit and lets the
  SDK retry the 429s (planted: *back off and spread load*);
* the help-centre indexer embeds one article per request (planted: *batch embeddings*).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import openai
from opentelemetry.trace import SpanKind, Tracer

import callscope
from callscope.demo.config import OUTPUT_TOKENS_HEADER
from callscope.demo.workload import texts
from callscope.demo.workload.plan import MODELS, Plan
from callscope.demo.workload.recorder import Recorder, prefix_chars, request_key
from callscope.instrumentation import bind_context

__all__ = ["RETAG_MAX_RETRIES", "Jobs"]

#: The re-tag job's client retries more than the SDK's default 2, as bulk jobs often do.
RETAG_MAX_RETRIES = 3
#: Length (tokens) the blog writer's rambling answers would reach without the model's limit.
RAMBLING_TOKENS = 6_000


class Jobs:
    """The background jobs of the plan; each method runs one job to completion."""

    def __init__(
        self,
        client: openai.OpenAI,
        retag_client: openai.OpenAI,
        recorder: Recorder,
        plan: Plan,
        tracer: Tracer,
        *,
        stopping: threading.Event | None = None,
    ) -> None:
        self.client = client
        self.retag_client = retag_client
        self.recorder = recorder
        self.plan = plan
        self.tracer = tracer
        #: Set when the run is interrupted: calls not yet started are skipped.
        self.stopping = stopping or threading.Event()

    @contextmanager
    def _run(self, job: str) -> Iterator[None]:
        """One run of a job: its root span and its tags, seen by every call in its worker threads."""
        with (
            self.tracer.start_as_current_span(f"job {job}", kind=SpanKind.INTERNAL),
            callscope.tags(job=job, feature=job),
        ):
            yield

    def _pool(self, workers: int, work: Callable[[Any], None], items: Sequence[Any]) -> None:
        def guarded(item: Any) -> None:
            if not self.stopping.is_set():
                work(item)

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="demo-job") as pool:
            # bind_context: each worker sees the job's span and tags, as an asyncio task would.
            for future in [pool.submit(bind_context(guarded), item) for item in items]:
                future.result()

    # -- nightly digest ----------------------------------------------------------------------------------

    def digest_order(self) -> list[int]:
        """Ticket indexes in the order the digest meets them; some come back later (reopened tickets)."""
        plan = self.plan
        rng = random.Random(f"{plan.seed}:digest-order")
        order = list(range(plan.digests - plan.digest_repeats))
        for repeat in rng.sample(order, plan.digest_repeats):
            order.insert(rng.randint(order.index(repeat) + 1, len(order)), repeat)
        return order

    def _summarize(self, ticket_index: int) -> None:
        model = MODELS["nightly-digest"]
        ticket = texts.ticket_thread(self.plan.seed, 10_000 + ticket_index)
        body: dict[str, Any] = {
            "model": model,
            "messages": [
                {"role": "system", "content": texts.DIGEST_PROMPT},
                {"role": "user", "content": ticket},
            ],
            "max_tokens": 300,
        }
        length = str(random.Random(f"{self.plan.seed}:digest-length:{ticket_index}").randint(100, 180))
        with self.recorder.measure(
            "nightly-digest",
            model=model,
            stream=False,
            max_tokens=300,
            prefix_chars=prefix_chars(texts.DIGEST_PROMPT),
            request_key=request_key(body),
            tags={"job": "nightly-digest", "feature": "nightly-digest"},
        ) as measure:
            measure.completion(
                self.client.chat.completions.create(**body, extra_headers={OUTPUT_TOKENS_HEADER: length})
            )

    def nightly_digest(self) -> None:
        with self._run("nightly-digest"):
            self._pool(6, self._summarize, self.digest_order())

    # -- blog writer -------------------------------------------------------------------------------------

    def _write(self, item: tuple[int, int]) -> None:
        index, wanted = item
        model = MODELS["blog-writer"]
        body: dict[str, Any] = {
            "model": model,
            "messages": [{"role": "user", "content": texts.blog_request(self.plan.seed, index)}],
            "temperature": 0.8,
        }
        with self.recorder.measure(
            "blog-writer",
            model=model,
            stream=False,
            request_key=request_key(body),
            tags={"job": "blog-writer", "feature": "blog-writer"},
        ) as measure:
            measure.completion(
                self.client.chat.completions.create(**body, extra_headers={OUTPUT_TOKENS_HEADER: str(wanted)})
            )

    def blog_writer(self) -> None:
        plan = self.plan
        rng = random.Random(f"{plan.seed}:blog")
        rambling = set(rng.sample(range(plan.posts), plan.rambling_posts))
        wanted = {i: RAMBLING_TOKENS if i in rambling else rng.randint(450, 900) for i in range(plan.posts)}
        # The long ones first, so that they do not set the end of the whole demo.
        order = sorted(range(plan.posts), key=lambda i: (i not in rambling, i))
        with self._run("blog-writer"):
            self._pool(4, self._write, [(i, wanted[i]) for i in order])

    # -- catalogue re-tag burst --------------------------------------------------------------------------

    def _retag(self, index: int) -> None:
        model = MODELS["catalog-retag"]
        body: dict[str, Any] = {
            "model": model,
            "messages": [{"role": "user", "content": texts.retag_request(self.plan.seed, index)}],
            "max_tokens": 60,
        }
        length = str(random.Random(f"{self.plan.seed}:retag-length:{index}").randint(8, 24))
        try:
            with self.recorder.measure(
                "catalog-retag",
                model=model,
                stream=False,
                max_tokens=60,
                request_key=request_key(body),
                tags={"job": "catalog-retag", "feature": "catalog-retag"},
            ) as measure:
                measure.completion(
                    self.retag_client.chat.completions.create(
                        **body, extra_headers={OUTPUT_TOKENS_HEADER: length}
                    )
                )
        except openai.RateLimitError:
            pass  # the job logs the item and moves on; it is retried in tomorrow's run

    def catalog_retag(self) -> None:
        with self._run("catalog-retag"):
            self._pool(8, self._retag, range(self.plan.retags))

    # -- help-centre indexer -----------------------------------------------------------------------------

    def _embed(self, index: int) -> None:
        model = MODELS["kb-indexer"]
        body = {"model": model, "input": texts.article(self.plan.seed, index)}
        with self.recorder.measure(
            "kb-indexer",
            operation="embeddings",
            model=model,
            stream=False,
            request_key=request_key(body),
            tags={"job": "kb-indexer", "feature": "kb-indexer"},
        ) as measure:
            measure.embedding(self.client.embeddings.create(model=model, input=body["input"]))

    def kb_indexer(self) -> None:
        with self._run("kb-indexer"):
            self._pool(4, self._embed, range(self.plan.articles))

    def all(self) -> list[Callable[[], None]]:
        """The jobs, slowest first."""
        return [self.blog_writer, self.catalog_retag, self.nightly_digest, self.kb_indexer]
