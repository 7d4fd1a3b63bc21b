"""span_to_row: callscope's own spans and real spans of three peer instrumentations."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest
from callscope.collector.normalize import CALL_COLUMNS, SPAN_COLUMNS, span_to_row, span_values
from callscope.collector.records import SpanEvent
from callscope.collector.schema import SCHEMA_VERSION
from callscope.instrumentation import attributes as A

from tests.collector.spans import NOON_NS, callscope_record, peer_records, server_record


def test_callscope_span_fills_every_typed_column() -> None:
    table, row = span_to_row(callscope_record(7))
    assert table == "calls"
    assert list(row) == list(CALL_COLUMNS)
    assert row == {
        "trace_id": f"{8:032x}",
        "span_id": f"{8:016x}",
        "parent_span_id": "00000000000000ff",
        "start_time": NOON_NS // 1000,
        "end_time": NOON_NS // 1000 + 800_000,
        "duration_ms": 800.0,
        "service_name": "api",
        "service_version": "2.1.0",
        "deployment_environment": "prod",
        "provider": "openai",
        "server_address": "api.openai.com",
        "server_port": 443,
        "operation": "chat",
        "api": "chat_completions",
        "request_model": "gpt-4o-mini",
        "response_model": "gpt-4o-mini-2024-07-18",
        "response_id": "chatcmpl-7",
        "stream": False,  # callscope marks only streamed calls
        "ttft_ms": None,
        "time_per_chunk_ms": None,
        "stream_chunks": None,
        "input_tokens": 2007,
        "output_tokens": 500,
        "cached_input_tokens": 1024,
        "cache_write_tokens": 0,
        "reasoning_tokens": 0,
        "usage_source": "api",
        "cost_usd": 0.0005232,
        "status": "ok",
        "error_type": None,
        "error_code": None,
        "http_status": 200,
        "attempts": 2,
        "retry_wait_ms": 480.0,
        "attempt_statuses": ["429", "200"],
        "attempt_durations_ms": [12.5, 310.0],
        "server_processing_ms": 290.0,
        "request_id": "req_0007",
        "ratelimit_remaining_requests": 4999,
        "ratelimit_remaining_tokens": 1_999_000,
        "ratelimit_limit_requests": 5000,
        "ratelimit_limit_tokens": 2_000_000,
        "max_output_tokens": 256,
        "temperature": 0.2,
        "choice_count": 2,
        "tool_count": 3,
        "response_format": "json_schema",
        "service_tier": "flex",
        "response_service_tier": "default",
        "finish_reasons": ["stop"],
        "request_hash": "a" * 64,
        "prefix_hash": "b" * 64,
        "prefix_chars": 4100,
        "input_chars": 9000,
        "input_messages": 4,
        "tags": {"customer": "acme", "feature": "summarize"},
        "instrumentation": "callscope",
        "attributes": json.dumps(
            {A.RETRY_AFTER_MS: [500.0, 0.0], A.SYSTEM_FINGERPRINT: "fp_1234"}, separators=(",", ":")
        ),
        "schema_version": SCHEMA_VERSION,
    }


def test_stream_ttft_is_converted_from_seconds_to_milliseconds() -> None:
    attributes = {
        **callscope_record().attributes,
        A.STREAM: True,
        A.TIME_TO_FIRST_CHUNK: 0.25,
        A.STREAM_CHUNKS: 42,
        A.TIME_PER_CHUNK_MS: 11.5,
    }
    _, row = span_to_row(callscope_record(attributes=attributes))
    assert (row["stream"], row["ttft_ms"], row["stream_chunks"], row["time_per_chunk_ms"]) == (
        True,
        250.0,
        42,
        11.5,
    )


def test_span_to_row_is_pure() -> None:
    record = callscope_record(attributes={**callscope_record().attributes, "weird": float("nan")})
    before = copy.deepcopy(record)
    first = span_to_row(record)
    assert span_to_row(record) == first
    assert record.attributes.keys() == before.attributes.keys()
    assert record.resource == before.resource
    assert record.events == before.events


def test_non_genai_span_goes_to_spans_with_every_attribute() -> None:
    table, row = span_to_row(server_record(3))
    assert table == "spans"
    assert list(row) == list(SPAN_COLUMNS)
    assert row["name"] == "POST /summarize"
    assert (row["kind"], row["status_code"], row["status_message"]) == ("server", "unset", None)
    assert (row["http_route"], row["http_method"], row["http_status"]) == ("/summarize", "POST", 200)
    assert row["duration_ms"] == 910.0
    assert row["parent_span_id"] is None
    assert json.loads(row["attributes"]) == {
        "http.route": "/summarize",
        "http.request.method": "POST",
        "http.response.status_code": 200,
    }


@pytest.mark.parametrize("operation", ["execute_tool", "invoke_agent", "create_agent"])
def test_agent_and_tool_spans_are_not_calls(operation: str) -> None:
    record = callscope_record(attributes={A.OPERATION: operation, A.PROVIDER: "openai"})
    assert span_to_row(record)[0] == "spans"


def test_old_and_new_spellings_agree_whatever_their_order() -> None:
    new_first = {A.OPERATION: "chat", A.PROVIDER: "openai", A.INPUT_TOKENS: 10, A.LEGACY_PROMPT_TOKENS: 99}
    old_first = {
        A.LEGACY_PROMPT_TOKENS: 99,
        A.LEGACY_SYSTEM: "OpenAI",
        A.PROVIDER: "openai",
        A.INPUT_TOKENS: 10,
    }
    for attributes in (new_first, old_first):
        _, row = span_to_row(callscope_record(attributes={A.OPERATION: "chat", **attributes}))
        assert (row["input_tokens"], row["provider"]) == (10, "openai")
        assert row["attributes"] is None  # the weaker spelling is dropped, not kept twice


def test_legacy_names_alone_fill_the_columns() -> None:
    attributes = {
        A.LEGACY_SYSTEM: "OpenAI",
        A.REQUEST_MODEL: "gpt-5-mini",
        A.LEGACY_PROMPT_TOKENS: 100,
        A.LEGACY_COMPLETION_TOKENS: 20,
        A.LEGACY_REQUEST_SERVICE_TIER: "flex",
        A.LEGACY_RESPONSE_SERVICE_TIER: "flex",
        A.LEGACY_RESPONSE_FORMAT: "json_object",
    }
    _, row = span_to_row(callscope_record(attributes=attributes, scope_name="somebody"))
    assert row["provider"] == "openai"
    assert (row["input_tokens"], row["output_tokens"]) == (100, 20)
    assert (row["service_tier"], row["response_service_tier"], row["response_format"]) == (
        "flex",
        "flex",
        "json_object",
    )
    assert row["instrumentation"] == "somebody"
    assert row["usage_source"] == "api"
    assert row["cost_usd"] == pytest.approx(
        (100 * 0.125 + 20 * 1.0) / 1e6, rel=1e-12
    )  # gpt-5-mini, flex tier


def test_wrong_typed_values_are_converted_or_kept_in_attributes() -> None:
    attributes = {
        A.OPERATION: "chat",
        A.REQUEST_MODEL: "gpt-4o-mini",
        A.INPUT_TOKENS: "120",  # an OTLP/JSON client sending ints as strings
        A.OUTPUT_TOKENS: 7.0,
        A.REQUEST_TEMPERATURE: 1,
        A.STREAM: "true",
        A.FINISH_REASONS: "stop",
        A.ATTEMPTS: "many",
    }
    _, row = span_to_row(callscope_record(attributes=attributes))
    assert (row["input_tokens"], row["output_tokens"], row["temperature"]) == (120, 7, 1.0)
    assert row["stream"] is True
    assert row["finish_reasons"] == ["stop"]
    assert row["attempts"] is None


def test_non_finite_attributes_become_json_null() -> None:
    attributes = {A.OPERATION: "chat", "custom.score": float("inf"), "custom.list": (1.0, float("nan"))}
    _, row = span_to_row(callscope_record(attributes=attributes))
    assert json.loads(row["attributes"]) == {"custom.score": None, "custom.list": [1.0, None]}


def test_cost_is_filled_when_missing_and_null_for_an_unknown_model() -> None:
    base = {A.OPERATION: "chat", A.PROVIDER: "openai", A.INPUT_TOKENS: 2000, A.CACHED_INPUT_TOKENS: 1024}
    _, known = span_to_row(
        callscope_record(attributes={**base, A.OUTPUT_TOKENS: 500, A.REQUEST_MODEL: "gpt-4o-mini"})
    )
    assert known["cost_usd"] == pytest.approx(0.0005232, rel=1e-12)  # (976*0.15 + 1024*0.075 + 500*0.6)/1e6
    _, unknown = span_to_row(callscope_record(attributes={**base, A.REQUEST_MODEL: "my-finetune-xyz"}))
    assert unknown["cost_usd"] is None
    _, kept = span_to_row(
        callscope_record(attributes={**base, A.REQUEST_MODEL: "gpt-4o-mini", A.COST_USD: 1.5})
    )
    assert kept["cost_usd"] == 1.5
    _, no_usage = span_to_row(
        callscope_record(attributes={A.OPERATION: "chat", A.REQUEST_MODEL: "gpt-4o-mini"})
    )
    assert no_usage["cost_usd"] is None


def test_error_type_comes_from_the_exception_event_when_missing() -> None:
    event = SpanEvent(
        "exception", NOON_NS, {"exception.type": "openai.APITimeoutError", "exception.message": "x"}
    )
    record = callscope_record(attributes={A.OPERATION: "chat"}, status_code="error", events=[event])
    _, row = span_to_row(record)
    assert (row["status"], row["error_type"]) == ("error", "APITimeoutError")


def test_status_of_an_error_span_without_callscope_status() -> None:
    record = callscope_record(
        attributes={A.OPERATION: "chat"},
        status_code="error",
        status_message="Error code: 503 - {'error': {'code': 'server_overloaded'}}",
    )
    _, row = span_to_row(record)
    assert (row["status"], row["http_status"], row["error_code"]) == ("error", 503, "server_overloaded")


def test_tags_from_openllmetry_association_properties() -> None:
    attributes = {A.OPERATION: "chat", "traceloop.association.properties.customer": "acme"}
    _, row = span_to_row(callscope_record(attributes=attributes))
    assert row["tags"] == {"customer": "acme"}


# --- real spans of the peers (tests/collector/fixtures/peer-*.json) -------------------------

COMMON = {"provider": "openai", "operation": "chat", "status": "ok", "service_version": "1.2.3"}

EXPECTED: dict[tuple[str, str], dict[str, Any]] = {
    ("v2", "chat"): {
        "instrumentation": "openai-v2",
        "api": "chat_completions",
        "request_model": "gpt-4o-mini",
        "response_model": "gpt-4o-mini-2024-07-18",
        "response_id": "chatcmpl-abc123",
        "input_tokens": 2000,
        "output_tokens": 500,
        "cached_input_tokens": None,  # openai-v2 does not report cached tokens
        "max_output_tokens": 50,
        "temperature": 0.2,
        "finish_reasons": ["stop"],
        "response_service_tier": "default",
        "usage_source": "api",
        "cost_usd": 0.0006,  # (2000*0.15 + 500*0.6)/1e6: no cache discount known
        "attributes": None,
    },
    ("v2", "chat_stream"): {"input_tokens": 12, "output_tokens": 3, "stream": None, "cost_usd": 3.6e-06},
    ("v2", "embeddings"): {
        "operation": "embeddings",
        "api": "embeddings",
        "input_tokens": 8,
        "output_tokens": None,
        "cost_usd": 1.6e-07,
        "attributes": '{"gen_ai.embeddings.dimension.count":3}',
    },
    ("v2", "chat_error"): {
        "status": "error",
        "error_type": "RateLimitError",
        "http_status": 429,
        "cost_usd": None,
        "request_model": "gpt-error",
    },
    ("v2new", "chat"): {
        "instrumentation": "openai-v2",
        "input_tokens": 2000,
        "cost_usd": 0.0006,
        "attributes": '{"openai.response.system_fingerprint":"fp_1234"}',
    },
    ("v2new", "chat_error"): {"status": "error", "error_type": "RateLimitError", "http_status": 429},
    ("openllmetry", "chat"): {
        "instrumentation": "openllmetry",
        "api": "chat_completions",
        "server_address": "api.openai.com",
        "server_port": 443,
        "stream": False,
        "input_tokens": 2000,
        "output_tokens": 500,
        "cached_input_tokens": 1024,
        "reasoning_tokens": 0,
        "cost_usd": 0.0005232,
        "finish_reasons": ["stop"],
        "max_output_tokens": 50,
    },
    ("openllmetry", "chat_stream"): {"stream": True, "input_tokens": 12, "output_tokens": 3},
    ("openllmetry", "responses"): {
        "api": "responses",
        "response_id": "resp_abc123",
        "input_tokens": 1500,
        "output_tokens": 300,
        "cached_input_tokens": 1024,
        "reasoning_tokens": 128,
        "cost_usd": 0.0003282,  # (476*0.15 + 1024*0.075 + 300*0.6)/1e6
    },
    ("openllmetry", "embeddings"): {"operation": "embeddings", "api": "embeddings", "input_tokens": 8},
    ("openllmetry", "chat_error"): {"status": "error", "error_type": "RateLimitError", "http_status": 429},
    ("openllmetry-old", "chat"): {
        "instrumentation": "openllmetry",
        "provider": "openai",  # sent as "OpenAI" in gen_ai.system
        "input_tokens": 2000,  # gen_ai.usage.prompt_tokens
        "output_tokens": 500,  # gen_ai.usage.completion_tokens
        "cached_input_tokens": 1024,  # gen_ai.usage.cache_read_input_tokens
        "finish_reasons": ["stop"],  # gen_ai.completion.0.finish_reason
        "cost_usd": 0.0005232,
    },
    ("openllmetry-old", "embeddings"): {"operation": "embeddings", "api": "embeddings", "input_tokens": 8},
    ("openllmetry-old", "chat_stream"): {"stream": True, "input_tokens": None, "cost_usd": None},
    ("openllmetry-old", "chat_error"): {
        "status": "error",
        "http_status": 429,
        "error_code": "rate_limit_exceeded",  # from the SDK's error message
    },
    ("openinference", "chat"): {
        "instrumentation": "openinference",
        "api": "chat_completions",
        "request_model": "gpt-4o-mini",  # from llm.invocation_parameters
        "response_model": "gpt-4o-mini-2024-07-18",  # llm.model_name
        "input_tokens": 2000,
        "output_tokens": 500,
        "cached_input_tokens": 1024,
        "max_output_tokens": 50,
        "temperature": 0.2,
        "finish_reasons": ["stop"],
        "cost_usd": 0.0005232,
    },
    ("openinference", "chat_stream"): {"stream": True, "input_tokens": 12, "output_tokens": 3},
    ("openinference", "responses"): {"api": "responses", "reasoning_tokens": 128, "cost_usd": 0.0003282},
    ("openinference", "embeddings"): {
        "operation": "embeddings",
        "api": "embeddings",
        "request_model": "text-embedding-3-small",
        "input_tokens": 8,
    },
    ("openinference", "chat_error"): {"status": "error", "error_type": "RateLimitError", "http_status": 429},
}


@pytest.mark.parametrize(("peer", "case"), sorted(EXPECTED))
def test_peer_spans_land_in_the_same_columns(peer: str, case: str) -> None:
    (record,) = peer_records(peer)[case]
    table, row = span_to_row(record)
    assert table == "calls"
    expected = {**COMMON, "service_name": f"peer-{peer}", "deployment_environment": "test"} | EXPECTED[
        peer, case
    ]
    actual = {column: row[column] for column in expected}
    for column, value in expected.items():
        if isinstance(value, float):
            assert actual[column] == pytest.approx(value, rel=1e-12), column
        else:
            assert actual[column] == value, column
    assert (row["trace_id"], row["span_id"]) == (record.trace_id, record.span_id)
    assert row["duration_ms"] == (record.end_time_ns - record.start_time_ns) / 1e6


def test_every_peer_span_of_every_case_is_a_call() -> None:
    for peer in ("v2", "v2new", "openllmetry", "openllmetry-old", "openinference"):
        for case, records in peer_records(peer).items():
            for record in records:
                assert span_to_row(record)[0] == "calls", (peer, case)


def test_openinference_stream_ttft_comes_from_the_first_token_event() -> None:
    (record,) = peer_records("openinference")["chat_stream"]
    (event,) = [e for e in record.events if e.name == "First Token Stream Event"]
    _, row = span_to_row(record)
    assert row["ttft_ms"] == (event.time_ns - record.start_time_ns) / 1e6
    assert row["ttft_ms"] > 0


def test_openinference_metadata_user_and_session_become_tags() -> None:
    (record,) = peer_records("openinference")["chat"]
    attributes = {
        **record.attributes,
        "metadata": '{"feature": "search", "n": 3}',
        "user.id": "u1",
        "session.id": "s9",
    }
    _, row = span_to_row(callscope_record(attributes=attributes, scope_name=record.scope_name))
    assert row["tags"] == {"feature": "search", "n": "3", "user_id": "u1", "session_id": "s9"}
    assert "metadata" not in json.loads(row["attributes"])


def test_content_captured_by_a_peer_stays_in_attributes() -> None:
    (record,) = peer_records("openllmetry")["chat"]
    _, row = span_to_row(record)
    attributes = json.loads(row["attributes"])
    assert json.loads(attributes[A.INPUT_MESSAGES])[1]["parts"][0]["content"] == "Capital of France?"


def test_span_values_is_the_row_in_column_order() -> None:
    for record in (callscope_record(), server_record()):
        _, values = span_values(record)
        _, row = span_to_row(record)
        assert dict(zip(row, values, strict=True)).keys() == row.keys()
        assert [v for v in values if not isinstance(v, (list, tuple))] == [
            v for v in row.values() if not isinstance(v, (list, tuple))
        ]


def test_cost_matches_genai_prices_for_many_usages() -> None:
    from datetime import UTC, datetime

    from genai_prices import Usage, calc_price

    for model in ("gpt-4o-mini", "gpt-4o", "gpt-4.1-nano", "o3", "gpt-5-mini", "text-embedding-3-small"):
        for inputs, cached, outputs in ((1, 0, 0), (2000, 1024, 500), (123_457, 65_536, 9_999)):
            attributes = {
                A.OPERATION: "chat",
                A.PROVIDER: "openai",
                A.REQUEST_MODEL: model,
                A.INPUT_TOKENS: inputs,
                A.CACHED_INPUT_TOKENS: cached,
                A.OUTPUT_TOKENS: outputs,
            }
            _, row = span_to_row(callscope_record(attributes=attributes))
            expected = calc_price(
                Usage(input_tokens=inputs, cache_read_tokens=cached, output_tokens=outputs),
                model,
                provider_id="openai",
                genai_request_timestamp=datetime.fromtimestamp(NOON_NS / 1e9, tz=UTC),
            ).total_price
            assert row["cost_usd"] is not None
            assert math.isclose(row["cost_usd"], float(expected), rel_tol=1e-12)
