"""Every recorded OpenAI exchange, replayed through the real SDK with callscope instrumenting it.

For each cassette the recorded calls are made twice through a fresh client:
once bare and once instrumented. The caller must see exactly the same thing
both times (same objects, chunks, headers and exceptions), the SDK must send
the same requests (but for the stream usage callscope asks for), and each call
must give one span whose attributes match what the recording says: models,
ids, finish reasons, tokens, headers, errors, cost and the stream's ending.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import structlog
from callscope.instrumentation import OpenAIInstrumentor, _internal_errors, flush
from callscope.instrumentation import attributes as A
from callscope.instrumentation._metrics import COST_METRIC
from callscope.instrumentation._responses import ResponsesStream
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import GEN_AI_TOKEN_TYPE
from opentelemetry.semconv._incubating.metrics import gen_ai_metrics
from opentelemetry.trace import SpanKind, StatusCode

from tests.instrumentation.cassette_calls import (
    API_KEY,
    CallResult,
    Mode,
    Plan,
    Scenario,
    call_kwargs,
    plan_for,
    run_scenario,
)
from tests.instrumentation.cassette_expectations import ABSENT, PRESENT, expected_attributes
from tests.instrumentation.cassettes import EXPECTED_CASSETTE_COUNT, Cassette, load_cassettes

CASSETTES = load_cassettes()
CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
_CONTENT_ATTRIBUTES = (A.INPUT_MESSAGES, A.OUTPUT_MESSAGES, A.SYSTEM_INSTRUCTIONS, A.TOOL_DEFINITIONS)


@contextmanager
def instrumented(*, sampled: bool = True) -> Iterator[tuple[InMemorySpanExporter, InMemoryMetricReader]]:
    """callscope on, exporting to memory; the SDK restored afterwards."""
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider(sampler=ALWAYS_ON if sampled else ALWAYS_OFF)
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    try:
        yield exporter, reader
    finally:
        instrumentor.uninstrument()


def _comparable(result: CallResult) -> Any:
    """What the caller saw, in a form that compares by value (exceptions by class, message and payload)."""
    error = result.error
    if error is None:
        return result.value
    facts = [type(error), str(error)]
    facts += [
        getattr(error, name, None) for name in ("status_code", "body", "code", "type", "param", "request_id")
    ]
    return result.value, facts


def assert_same_for_caller(bare: Scenario, traced: Scenario, *, hidden_usage: bool = False) -> None:
    """The caller cannot tell the runs apart (``hidden_usage``: except that one usage chunk was hidden)."""
    assert len(traced.results) == len(bare.results)
    for b, t in zip(bare.results, traced.results, strict=True):
        expected = _comparable(b)
        if hidden_usage:
            raw, chunks, final = expected
            assert chunks[-1]["choices"] == []
            assert chunks[-1]["usage"] is not None
            expected = (raw, chunks[:-1], final)
        assert _comparable(t) == expected
        if b.returned is not None:
            assert isinstance(t.returned, type(b.returned))
        if t.raised is not None:
            assert t.error is t.raised, "the caller's own exception must reach it unchanged"


def assert_same_requests(bare: Scenario, traced: Scenario, *, injected_usage: bool) -> None:
    """callscope changes nothing in what is sent, except asking a chat stream for its usage."""
    assert bare.transport is not None
    assert traced.transport is not None
    assert len(traced.transport.requests) == len(bare.transport.requests)
    for index, request in enumerate(bare.transport.requests):
        sent, expected = traced.transport.sent_json(index), bare.transport.sent_json(index)
        if injected_usage:
            assert sent.pop("stream_options") == {"include_usage": True}
            assert "stream_options" not in expected
        assert sent == expected
        assert traced.transport.requests[index].url == request.url


def _mismatches(span: ReadableSpan, expected: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    attributes = dict(span.attributes or {})
    wrong = {}
    for name, want in expected.items():
        got = attributes.get(name, ABSENT)
        if want is PRESENT:
            ok = got is not ABSENT
        elif isinstance(want, float) and isinstance(got, float) and name.startswith("callscope.cost."):
            ok = got == pytest.approx(want, rel=1e-9)
        else:
            ok = got == want
        if not ok:
            wrong[name] = (want, got)
    return wrong


def _strings_of(span: ReadableSpan) -> Iterator[str]:
    yield span.name
    collections = [span.attributes or {}, span.resource.attributes]
    collections += [event.attributes or {} for event in span.events]
    for collection in collections:
        for key, value in collection.items():
            yield key
            yield from (str(v) for v in (value if isinstance(value, tuple) else (value,)))


def _prompt_texts(body: dict[str, Any]) -> list[str]:
    """The prompt's texts (long enough to be unmistakable)."""
    raw_input = body.get("input")
    items = body.get("messages") or (raw_input if isinstance(raw_input, list) else [])
    texts = [item.get("content") if isinstance(item, dict) else item for item in items]
    texts += [body.get("instructions"), raw_input if isinstance(raw_input, str) else None]
    return [t for t in texts if isinstance(t, str) and len(t) >= 12]


def _completion_texts(plan: Plan, index: int) -> list[str]:
    """The answer's texts, as the recording has them (a stream's deltas joined)."""
    recorded = plan.cassette.interactions[index]
    if recorded.status != 200 or plan.api == "embeddings":
        return []
    if recorded.is_sse and plan.api == "chat":
        deltas = [
            c["delta"].get("content") for e in recorded.sse_data for c in e["choices"] if c["index"] == 0
        ]
        texts = ["".join(d for d in deltas if d)]
    elif recorded.is_sse:
        texts = ["".join(e["delta"] for e in recorded.sse_data if e["type"] == "response.output_text.delta")]
    elif plan.api == "chat":
        messages = [c["message"] for c in recorded.response_json["choices"]]
        texts = [m.get("content") for m in messages]
        texts += [call["function"]["arguments"] for m in messages for call in m.get("tool_calls") or ()]
    else:
        output = recorded.response_json["output"]
        texts = [part.get("text") for item in output for part in item.get("content") or ()]
        texts += [item.get("arguments") for item in output]
    return [t for t in texts if isinstance(t, str) and len(t) >= 12]


def check_privacy(plan: Plan, index: int, span: ReadableSpan) -> None:
    strings = list(_strings_of(span))
    assert not [s for s in strings if API_KEY in s or "Bearer" in s], "API key in the span"
    assert not [s for s in strings if "authorization" in s.lower()]
    attributes = span.attributes or {}
    if plan.capture_content:
        if plan.api == "embeddings":
            return  # the conventions define no content attribute for embeddings
        captured = str(attributes.get(A.INPUT_MESSAGES, "")) + str(attributes.get(A.SYSTEM_INSTRUCTIONS, ""))
        missing = [
            text
            for text in _prompt_texts(plan.cassette.interactions[index].request_json)
            if json.dumps(text)[1:-1] not in captured
        ]
        assert not missing, f"content capture is on, but the prompt is not on the span: {missing}"
        if attributes.get(A.STATUS) == "ok":
            assert A.OUTPUT_MESSAGES in attributes
        return
    assert not [name for name in _CONTENT_ATTRIBUTES if name in attributes]
    texts = _prompt_texts(plan.cassette.interactions[index].request_json) + _completion_texts(plan, index)
    leaked = [text for text in texts if any(text in s for s in strings)]
    assert not leaked, f"message content on the span without opt-in: {leaked}"


def check_span(plan: Plan, index: int, span: ReadableSpan, result: CallResult, **usage: bool) -> None:
    recorded = plan.cassette.interactions[index]
    expected = expected_attributes(plan, recorded, result, **usage)
    if expected[A.USAGE_SOURCE] is PRESENT:
        # The recording has no usage the caller's reading reached: nothing may claim to be exact.
        usage_source = (span.attributes or {}).get(A.USAGE_SOURCE)
        assert usage_source in (None, "estimated")
        if usage_source is None:
            assert not [
                n for n in (A.INPUT_TOKENS, A.OUTPUT_TOKENS, A.COST_USD) if n in (span.attributes or {})
            ]
        for name in (
            A.USAGE_SOURCE,
            A.INPUT_TOKENS,
            A.OUTPUT_TOKENS,
            A.CACHED_INPUT_TOKENS,
            A.REASONING_TOKENS,
        ):
            expected.pop(name)
    assert _mismatches(span, expected) == {}
    assert span.name == f"{expected[A.OPERATION]} {recorded.request_json['model']}"
    assert span.kind is SpanKind.CLIENT
    failed = expected[A.STATUS] == "error"
    assert span.status.status_code is (StatusCode.ERROR if failed else StatusCode.UNSET)
    ttfc = (span.attributes or {}).get(A.TIME_TO_FIRST_CHUNK)
    if ttfc is not None:
        assert span.end_time is not None
        assert span.start_time is not None
        assert isinstance(ttfc, float)
        assert 0 < ttfc * 1e9 <= span.end_time - span.start_time
    check_privacy(plan, index, span)


def _metric_points(reader: InMemoryMetricReader, name: str) -> list[Any]:
    data = reader.get_metrics_data()
    if data is None:
        return []
    return [
        point
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == name
        for point in metric.data.data_points
    ]


def check_metrics(reader: InMemoryMetricReader, spans: tuple[ReadableSpan, ...]) -> None:
    """One duration per call; token histograms and the cost counter add up to the spans."""
    durations = _metric_points(reader, gen_ai_metrics.GEN_AI_CLIENT_OPERATION_DURATION)
    assert sum(point.count for point in durations) == len(spans)
    costs = [(span.attributes or {}).get(A.COST_USD) for span in spans]
    counted = sum(point.value for point in _metric_points(reader, COST_METRIC))
    assert counted == pytest.approx(sum(c for c in costs if isinstance(c, float)), rel=1e-9)
    tokens = _metric_points(reader, gen_ai_metrics.GEN_AI_CLIENT_TOKEN_USAGE)
    for token_type, attribute in (("input", A.INPUT_TOKENS), ("output", A.OUTPUT_TOKENS)):
        recorded = [(span.attributes or {}).get(attribute) for span in spans]
        measured = [p for p in tokens if p.attributes.get(GEN_AI_TOKEN_TYPE) == token_type]
        assert sum(p.sum for p in measured) == sum(v for v in recorded if isinstance(v, int))
        assert sum(p.count for p in measured) == sum(isinstance(v, int) for v in recorded)


async def replay(plan: Plan, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """The whole check for one plan: bare run, instrumented run, then compare and inspect the spans."""
    if plan.capture_content:
        monkeypatch.setenv(CONTENT_ENV, "true")
    else:
        monkeypatch.delenv(CONTENT_ENV, raising=False)
    bare = await run_scenario(plan)
    caplog.set_level(logging.WARNING)
    with instrumented(sampled=not plan.unsampled) as (exporter, reader):
        traced = await run_scenario(plan)
        flush()  # the spans are built on the finisher thread
        spans = exporter.get_finished_spans()
    assert "Calling end() on an ended span" not in caplog.text, "a span was ended twice"
    # Chat streams get usage only on request: callscope asks when the caller did not.
    first_call = call_kwargs(plan, plan.cassette.interactions[0])
    injected = plan.api == "chat" and plan.mode is not Mode.RESULT and "stream_options" not in first_call
    hidden = plan.strip_stream_options  # the recording has a usage chunk the caller did not ask for
    assert_same_for_caller(bare, traced, hidden_usage=hidden)
    assert_same_requests(bare, traced, injected_usage=injected)
    assert traced.transport is not None
    assert all(body.closed for body in traced.transport.bodies), "a response was left open"
    if plan.unsampled:
        assert spans == ()
        # Metrics do not depend on trace sampling: every call is still measured.
        durations = _metric_points(reader, gen_ai_metrics.GEN_AI_CLIENT_OPERATION_DURATION)
        assert sum(point.count for point in durations) == len(plan.cassette.interactions)
        return
    assert len(spans) == len(plan.cassette.interactions), "one span per call"
    for index, (span, result) in enumerate(zip(spans, traced.results, strict=True)):
        check_span(plan, index, span, result, hidden_usage=hidden, injected_usage=injected)
    check_metrics(reader, spans)


def test_every_cassette_is_covered() -> None:
    names = [cassette.name for cassette in CASSETTES]
    assert len(names) == EXPECTED_CASSETTE_COUNT == len(set(names))
    # Four recorded tests made two calls each (a tool call, then the answer to its result).
    assert sum(len(cassette.interactions) for cassette in CASSETTES) == EXPECTED_CASSETTE_COUNT + 4


@pytest.mark.parametrize("cassette", CASSETTES, ids=[c.name for c in CASSETTES])
async def test_cassette(
    cassette: Cassette, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    plan = plan_for(cassette)
    if plan.internal_error:
        await replay_internal_error(plan, monkeypatch)
    else:
        await replay(plan, monkeypatch, caplog)


async def replay_internal_error(plan: Plan, monkeypatch: pytest.MonkeyPatch) -> None:
    """callscope's own stream code fails on every event: the caller notices nothing, the span still ends."""
    bare = await run_scenario(plan)

    def broken(self: object, event: object) -> bool:
        raise RuntimeError("instrumentation bug")

    monkeypatch.setattr(_internal_errors, "reraise_internal_errors", False)  # production behaviour
    monkeypatch.setattr(ResponsesStream, "on_chunk", broken)
    with instrumented() as (exporter, _reader), structlog.testing.capture_logs() as logs:
        traced = await run_scenario(plan)
        flush()
        spans = exporter.get_finished_spans()
    assert_same_for_caller(bare, traced)
    assert [entry["log_level"] for entry in logs if "internal error" in entry["event"]] == ["error"]
    (span,) = spans
    attributes = span.attributes or {}
    assert attributes[A.REQUEST_MODEL] == plan.cassette.interactions[0].request_json["model"]
    assert attributes[A.STREAM_END] == "exhausted"
    assert A.ERROR_TYPE not in attributes
    assert span.status.status_code is StatusCode.UNSET


def _chat_streams_with_usage() -> list[Cassette]:
    return [
        c
        for c in CASSETTES
        if c.endpoint == "chat/completions"
        and c.interactions[0].is_sse
        and any(event.get("usage") for event in c.interactions[0].sse_data)
        and plan_for(c).mode in (Mode.ITERATE, Mode.WITH)
    ]


@pytest.mark.parametrize("cassette", _chat_streams_with_usage(), ids=lambda c: c.name)
async def test_chat_stream_usage_is_requested_and_hidden(
    cassette: Cassette, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A caller who does not ask for stream usage: callscope asks, records it, and hides the extra chunk."""
    plan = plan_for(cassette)
    await replay(dataclasses.replace(plan, strip_stream_options=True), monkeypatch, caplog)


def test_stream_usage_variant_covers_sync_and_async() -> None:
    chosen = _chat_streams_with_usage()
    assert {c.is_async for c in chosen} == {True, False}
    assert any(plan_for(c).raw for c in chosen)


def _full_streams() -> list[Cassette]:
    """Recorded streams that were read to the end without raw responses."""
    return [c for c in CASSETTES if plan_for(c).mode in (Mode.ITERATE, Mode.WITH) and not plan_for(c).raw]


@pytest.mark.parametrize("cassette", _full_streams(), ids=lambda c: c.name)
async def test_stream_helper(
    cassette: Cassette, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The ``.stream()`` helpers of chat completions and responses over the recorded streams."""
    await replay(dataclasses.replace(plan_for(cassette), mode=Mode.HELPER), monkeypatch, caplog)


def _with_model(cassette: Cassette, model: str) -> Cassette:
    """The cassette as if the caller had asked for ``model`` and the API had answered with it."""
    interactions = []
    for recorded in cassette.interactions:
        request, response = (
            recorded.request_json | {"model": model},
            recorded.response_json | {"model": model},
        )
        changed = dataclasses.replace(recorded, request_body=json.dumps(request), body=json.dumps(response))
        interactions.append(changed)
    return dataclasses.replace(cassette, name=f"{cassette.name}-as-{model}", interactions=tuple(interactions))


UNPRICED = (
    "test_chat_completion_no_content",
    "test_responses_create_basic[content_mode0]",
    "test_embeddings_no_content",
)


@pytest.mark.parametrize("name", UNPRICED)
async def test_unknown_model_has_tokens_but_no_cost(
    name: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A model genai-prices does not know: exact tokens, and no cost at all (never 0)."""
    (cassette,) = [c for c in CASSETTES if c.name == name]
    plan = plan_for(_with_model(cassette, "acme-private-finetune-7"))
    expected = expected_attributes(
        plan, plan.cassette.interactions[0], CallResult(), hidden_usage=False, injected_usage=False
    )
    assert isinstance(expected[A.INPUT_TOKENS], int)
    assert expected[A.COST_USD] is ABSENT
    await replay(plan, monkeypatch, caplog)
