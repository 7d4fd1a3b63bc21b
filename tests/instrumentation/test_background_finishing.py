"""Background finishing: what ``docs/instrumentation.md`` promises about spans built off the app's thread."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx2
import pytest
from callscope.instrumentation._finisher import Finisher
from opentelemetry import trace

from tests.instrumentation import fakes
from tests.instrumentation.conftest import Telemetry
from tests.instrumentation.fakes import FakeOpenAI

MESSAGES: Any = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize("background", [True, False], ids=["background", "inline"])
def test_span_keeps_the_calls_parent_and_times(
    telemetry: Telemetry, fake: FakeOpenAI, background: bool
) -> None:
    telemetry.instrument(finish_in_background=background)
    app = telemetry.tracer_provider.get_tracer("app")
    inside: list[trace.Span] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        # What a span made by a hook inside the SDK (an HTTP client instrumentation) would see.
        inside.append(trace.get_current_span())
        with app.start_as_current_span("inside the sdk"):
            return fakes.json_reply(fakes.chat_completion())

    fake.add(answer)
    with app.start_as_current_span("handler") as handler:
        before = time.time_ns()
        fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        after = time.time_ns()

    spans = {span.name: span for span in telemetry.spans()}
    call, child = spans["chat gpt-4o-mini"], spans["inside the sdk"]
    handler_id = handler.get_span_context().span_id
    assert call.parent is not None
    assert call.parent.span_id == handler_id
    # The call's span is not current while the SDK runs: a span made there is its sibling.
    assert inside == [handler]
    assert child.parent is not None
    assert child.parent.span_id == handler_id
    assert call.start_time is not None
    assert call.end_time is not None
    assert before <= call.start_time <= call.end_time <= after


def test_exemplars_point_at_the_callers_span(telemetry: Telemetry, fake: FakeOpenAI) -> None:
    telemetry.instrument()
    app = telemetry.tracer_provider.get_tracer("app")
    with app.start_as_current_span("handler") as handler:
        fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    (point,) = telemetry.metric_points()["gen_ai.client.operation.duration"]
    (exemplar,) = point.exemplars
    assert exemplar.span_id == handler.get_span_context().span_id
    assert exemplar.trace_id == handler.get_span_context().trace_id


class _Recorded:
    def __init__(self, name: int, done: list[int], gate: threading.Event | None = None) -> None:
        self.name, self.done, self.gate = name, done, gate
        self.started = threading.Event()

    def complete(self) -> None:
        self.started.set()
        if self.gate is not None:
            self.gate.wait(10)
        self.done.append(self.name)


def test_queue_is_bounded_and_callers_finish_the_oldest_when_behind() -> None:
    finisher, done, gate = Finisher(max_pending=3), list[int](), threading.Event()
    first = _Recorded(1, done, gate)
    finisher.submit(first)
    assert first.started.wait(10)  # the thread holds call 1: the queue is empty again
    for name in range(2, 7):
        finisher.submit(_Recorded(name, done))
    # Calls 2 and 3 were the oldest waiting when 5 and 6 arrived: this thread finished them itself.
    assert finisher.finished_by_callers == 2
    assert done == [2, 3]
    gate.set()
    assert finisher.flush(10)
    assert done == [2, 3, 1, 4, 5, 6]  # nothing lost


def test_a_flush_marker_is_never_set_before_the_calls_ahead_of_it() -> None:
    finisher, done, gate = Finisher(max_pending=1), list[int](), threading.Event()
    first = _Recorded(1, done, gate)
    finisher.submit(first)
    assert first.started.wait(10)
    finisher.submit(_Recorded(2, done))
    flushed = threading.Event()

    def flush() -> None:
        if finisher.flush(10):
            flushed.set()

    flusher = threading.Thread(target=flush)
    flusher.start()
    deadline = time.monotonic() + 10
    while finisher.pending() < 2:  # call 2, then the flush's marker
        assert time.monotonic() < deadline
        time.sleep(0.001)
    finisher.submit(_Recorded(3, done))  # over the limit: helps with 2; the marker goes to the back
    finisher.submit(_Recorded(4, done))  # over the limit again: the marker is next, and is put back
    assert not flushed.is_set()  # call 1 is still running on the finisher
    gate.set()
    flusher.join(10)
    assert flushed.is_set()
    assert set(done) == {1, 2, 3, 4}
