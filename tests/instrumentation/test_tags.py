"""``callscope.tags``: nesting, threads, asyncio tasks, baggage, decorator."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from callscope.instrumentation import attributes as A
from callscope.instrumentation.tags import bind_context, current_tags, tags
from opentelemetry import baggage
from opentelemetry import context as otel_context

import callscope
from tests.instrumentation.conftest import Telemetry
from tests.instrumentation.fakes import FakeOpenAI

MESSAGES: Any = [{"role": "user", "content": "hi"}]


def _tags_of(telemetry: Telemetry) -> list[dict[str, str]]:
    out = []
    for span in telemetry.spans():
        attrs = dict[str, Any](span.attributes or {})
        out.append({k[len(A.TAG_PREFIX) :]: v for k, v in attrs.items() if k.startswith(A.TAG_PREFIX)})
    return out


def test_nesting_merges_and_restores() -> None:
    assert current_tags() == {}
    with tags(feature="summarize", customer="acme"):
        with tags(customer="globex", tier=3):
            assert current_tags() == {"feature": "summarize", "customer": "globex", "tier": "3"}
        assert current_tags() == {"feature": "summarize", "customer": "acme"}
    assert current_tags() == {}
    assert callscope.tags is tags


def test_calls_get_their_tags(traced: Telemetry, fake: FakeOpenAI) -> None:
    client = fake.client()
    with tags(feature="summarize"):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        with tags(customer="acme"):
            client.embeddings.create(model="text-embedding-3-small", input="x")
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert _tags_of(traced) == [{"feature": "summarize"}, {"feature": "summarize", "customer": "acme"}, {}]


def test_stream_keeps_the_tags_of_its_creation_context(traced: Telemetry, fake: FakeOpenAI) -> None:
    with tags(feature="chat-ui"):
        stream = fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    with tags(feature="other"):
        list(stream)
    # the tags of the block the call was made in, wherever the stream was read
    assert _tags_of(traced) == [{"feature": "chat-ui"}]


def test_threads_are_isolated_and_bind_context_carries_tags() -> None:
    seen: dict[str, object] = {}

    def worker(name: str) -> None:
        seen[name] = dict(current_tags())

    with tags(feature="batch"):
        plain = threading.Thread(target=worker, args=("plain",))
        plain.start()
        plain.join()
        with ThreadPoolExecutor(max_workers=2) as pool:
            pool.submit(bind_context(worker), "bound").result()
            pool.submit(worker, "pool").result()
    assert seen == {"plain": {}, "bound": {"feature": "batch"}, "pool": {}}


def test_threads_each_with_their_own_tags(traced: Telemetry, fake: FakeOpenAI) -> None:
    client = fake.client()

    def work(i: int) -> None:
        with tags(worker=i):
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(work, range(8)))
    assert sorted(t["worker"] for t in _tags_of(traced)) == [str(i) for i in range(8)]


async def test_asyncio_tasks_copy_tags(traced: Telemetry, fake: FakeOpenAI) -> None:
    client = fake.async_client()

    async def call(feature: str) -> None:
        with tags(feature=feature):
            await asyncio.sleep(0)
            await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    with tags(service="api"):
        task = asyncio.create_task(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES))
    await asyncio.gather(call("a"), call("b"), task)
    got = sorted(tuple(sorted(t.items())) for t in _tags_of(traced))
    assert got == [(("feature", "a"),), (("feature", "b"),), (("service", "api"),)]


def test_baggage_entries_are_tags(traced: Telemetry, fake: FakeOpenAI) -> None:
    ctx = baggage.set_baggage(A.TAG_PREFIX + "tenant", "t-42")
    ctx = baggage.set_baggage("unrelated", "not-a-tag", context=ctx)
    token = otel_context.attach(ctx)
    try:
        assert current_tags() == {"tenant": "t-42"}
        with tags(tenant="local-wins"):
            fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    finally:
        otel_context.detach(token)
    assert _tags_of(traced) == [{"tenant": "local-wins"}, {"tenant": "t-42"}]


async def test_decorator_on_sync_and_async_functions(traced: Telemetry, fake: FakeOpenAI) -> None:
    client = fake.client()
    aclient = fake.async_client()

    @tags(feature="sync-fn")
    def sync_fn() -> None:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    @tags(feature="async-fn")
    async def async_fn() -> None:
        await aclient.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    sync_fn()
    coro = async_fn()  # created outside any block: the tags apply when it runs
    await coro
    assert _tags_of(traced) == [{"feature": "sync-fn"}, {"feature": "async-fn"}]
    assert current_tags() == {}
