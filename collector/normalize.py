"""``span_to_row``: one finished span -> one row of the ``calls`` or ``spans`` table.

A small pipeline of plain functions in the style of structlog processors. Each
step reads the span and fills the columns it knows; attributes no step used end
up in the ``attributes`` JSON column, so nothing a span carried is lost.

Spans from other instrumentations land in the same columns: OTel's openai-v2
(old ``gen_ai.system`` and new ``gen_ai.provider.name`` conventions),
OpenLLMetry and OpenInference. Their names are in :mod:`.peers`; callscope's own
come from :mod:`callscope.instrumentation.attributes`.

Speed matters here (the in-process exporter converts tens of thousands of spans
a second), so internally a row is a list in column order: the preferred
attribute of every column is fetched in one C-level ``map(attributes.get, ...)``
and only the attributes left over (tags, older spellings, unknown names) are
looked at one by one in Python. :func:`span_values` is that internal form, used
by the writer, which leaves the scalar type check to Arrow;
:func:`span_to_row` is the public, fully typed ``dict`` form.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from callscope.collector import coerce, peers
from callscope.collector.cost import cost_usd
from callscope.collector.records import SpanRecord
from callscope.collector.schema import SCHEMA_VERSION, TABLES, column_names
from callscope.instrumentation import attributes as A

Row = dict[str, Any]

CALLS: Final = "calls"
SPANS: Final = "spans"
CALL_COLUMNS: Final = tuple(column_names(CALLS))
SPAN_COLUMNS: Final = tuple(column_names(SPANS))

INSTRUMENTATION_CALLSCOPE: Final = "callscope"
INSTRUMENTATION_OPENAI_V2: Final = "openai-v2"
INSTRUMENTATION_OTEL_GENAI: Final = "opentelemetry-genai"
INSTRUMENTATION_OPENLLMETRY: Final = "openllmetry"
INSTRUMENTATION_OPENINFERENCE: Final = "openinference"

#: GenAI operations that are not a model call (agents, tools): their spans go to ``spans``.
NON_CALL_OPERATIONS: Final = frozenset(
    {"execute_tool", "invoke_agent", "create_agent", "invoke_workflow", "retrieval", "plan"}
)

# --- the attribute -> column table ------------------------------------------------------------
# Each column lists its source attributes best first; a later source only fills a column that
# no better one did. Callscope's own names come first, then the older conventions and peers.
CALL_SOURCES: Final[dict[str, tuple[str, ...]]] = {
    "provider": (A.PROVIDER, A.LEGACY_SYSTEM, peers.OPENINFERENCE_PROVIDER, peers.OPENINFERENCE_SYSTEM),
    "server_address": (A.SERVER_ADDRESS,),
    "server_port": (A.SERVER_PORT,),
    "operation": (A.OPERATION, peers.OPENLLMETRY_REQUEST_TYPE),
    "api": (A.API_TYPE,),
    "request_model": (A.REQUEST_MODEL,),
    "response_model": (
        A.RESPONSE_MODEL,
        peers.OPENINFERENCE_MODEL_NAME,
        peers.OPENINFERENCE_EMBEDDING_MODEL_NAME,
    ),
    "response_id": (A.RESPONSE_ID,),
    "stream": (A.STREAM, peers.OPENLLMETRY_IS_STREAMING, peers.OPENLLMETRY_IS_STREAMING_OLD),
    "ttft_ms": (A.TIME_TO_FIRST_CHUNK,),  # seconds in the span: always converted (slow path)
    "time_per_chunk_ms": (A.TIME_PER_CHUNK_MS,),
    "stream_chunks": (A.STREAM_CHUNKS,),
    "input_tokens": (A.INPUT_TOKENS, A.LEGACY_PROMPT_TOKENS, peers.OPENINFERENCE_PROMPT_TOKENS),
    "output_tokens": (A.OUTPUT_TOKENS, A.LEGACY_COMPLETION_TOKENS, peers.OPENINFERENCE_COMPLETION_TOKENS),
    "cached_input_tokens": (
        A.CACHED_INPUT_TOKENS,
        peers.OPENLLMETRY_CACHE_READ_TOKENS_OLD,
        peers.OPENINFERENCE_CACHE_READ_TOKENS,
    ),
    "cache_write_tokens": (
        A.CACHE_WRITE_INPUT_TOKENS,
        peers.CACHE_WRITE_INPUT_TOKENS_DEV,
        peers.OPENLLMETRY_CACHE_CREATION_TOKENS_OLD,
        peers.OPENINFERENCE_CACHE_WRITE_TOKENS,
    ),
    "reasoning_tokens": (
        A.REASONING_TOKENS,
        peers.OPENLLMETRY_REASONING_TOKENS,
        peers.OPENINFERENCE_REASONING_TOKENS,
    ),
    "usage_source": (A.USAGE_SOURCE,),
    "cost_usd": (A.COST_USD, peers.OPENLIT_COST, peers.OPENINFERENCE_COST_TOTAL),
    "status": (A.STATUS,),
    "error_type": (A.ERROR_TYPE,),
    "error_code": (A.ERROR_CODE,),
    "http_status": (A.HTTP_STATUS, peers.OLD_HTTP_STATUS_CODE),
    "attempts": (A.ATTEMPTS,),
    "retry_wait_ms": (A.RETRY_WAIT_MS,),
    "attempt_statuses": (A.ATTEMPT_STATUSES,),
    "attempt_durations_ms": (A.ATTEMPT_DURATIONS_MS,),
    "server_processing_ms": (A.SERVER_PROCESSING_MS,),
    "request_id": (A.REQUEST_ID,),
    "ratelimit_remaining_requests": (A.RATELIMIT_REMAINING_REQUESTS,),
    "ratelimit_remaining_tokens": (A.RATELIMIT_REMAINING_TOKENS,),
    "ratelimit_limit_requests": (A.RATELIMIT_LIMIT_REQUESTS,),
    "ratelimit_limit_tokens": (A.RATELIMIT_LIMIT_TOKENS,),
    "max_output_tokens": (A.REQUEST_MAX_TOKENS,),
    "temperature": (A.REQUEST_TEMPERATURE,),
    "choice_count": (A.REQUEST_CHOICE_COUNT,),
    "tool_count": (A.REQUEST_TOOL_COUNT,),
    "response_format": (A.REQUEST_RESPONSE_FORMAT, A.LEGACY_RESPONSE_FORMAT),
    "service_tier": (A.REQUEST_SERVICE_TIER, A.LEGACY_REQUEST_SERVICE_TIER),
    "response_service_tier": (A.RESPONSE_SERVICE_TIER, A.LEGACY_RESPONSE_SERVICE_TIER),
    "finish_reasons": (A.FINISH_REASONS, peers.OPENINFERENCE_FINISH_REASON),
    "request_hash": (A.REQUEST_HASH,),
    "prefix_hash": (A.PREFIX_HASH,),
    "prefix_chars": (A.REQUEST_PREFIX_CHARS,),
    "input_chars": (A.REQUEST_INPUT_CHARS,),
    "input_messages": (A.REQUEST_MESSAGE_COUNT,),
}

_COLUMN: Final = {name: index for index, name in enumerate(CALL_COLUMNS)}
_KINDS: Final = coerce.COLUMN_TYPES[CALLS]
#: map(attrs.get) needs a key for columns without a fast source; not a str, so no attribute has it
#: (an attribute named "" must not land in those columns).
_NO_SUCH_ATTRIBUTE: Final[Any] = object()

#: Scalar columns whose preferred attribute is fetched in one map(); list columns are not, since
#: Arrow would split a plain string into characters instead of rejecting it.
_FAST_NAMES: Final = tuple(
    CALL_SOURCES[name][0]
    if name in CALL_SOURCES and _KINDS[index][1] in (str, int, float, bool) and name != "ttft_ms"
    else _NO_SUCH_ATTRIBUTE
    for index, name in enumerate(CALL_COLUMNS)
)
_FAST_SET: Final = frozenset(_FAST_NAMES) - {_NO_SUCH_ATTRIBUTE}


def _slow_converter(column: str) -> coerce.Converter:
    if column == "ttft_ms":
        return coerce.seconds_to_ms
    kind = TABLES[CALLS][_COLUMN[column]].kind
    return coerce.KEEP_SEQUENCE.get(kind, _KINDS[_COLUMN[column]][0])


#: Every other source: name -> (column index, rank: lower is better, converter).
_SLOW_SOURCES: Final[dict[str, tuple[int, int, coerce.Converter]]] = {
    source: (_COLUMN[column], rank, _slow_converter(column))
    for column, sources in CALL_SOURCES.items()
    for rank, source in enumerate(sources)
    if source not in _FAST_SET
}
#: Column of each fast name.
_FAST_COLUMN: Final = {name: index for index, name in enumerate(_FAST_NAMES) if name in _FAST_SET}
#: Attribute prefixes that make a tag; the rest of the name is the tag key.
_TAG_PREFIXES: Final = (A.TAG_PREFIX, peers.OPENLLMETRY_ASSOCIATION_PREFIX)

# Column indexes the steps use.
TRACE_ID, SPAN_ID, PARENT_SPAN_ID = _COLUMN["trace_id"], _COLUMN["span_id"], _COLUMN["parent_span_id"]
START_TIME, END_TIME, DURATION_MS = _COLUMN["start_time"], _COLUMN["end_time"], _COLUMN["duration_ms"]
SERVICE_NAME, SERVICE_VERSION = _COLUMN["service_name"], _COLUMN["service_version"]
DEPLOYMENT_ENVIRONMENT = _COLUMN["deployment_environment"]
PROVIDER, SERVER_ADDRESS, SERVER_PORT = _COLUMN["provider"], _COLUMN["server_address"], _COLUMN["server_port"]
OPERATION, API = _COLUMN["operation"], _COLUMN["api"]
REQUEST_MODEL, RESPONSE_MODEL = _COLUMN["request_model"], _COLUMN["response_model"]
STREAM, TTFT_MS = _COLUMN["stream"], _COLUMN["ttft_ms"]
INPUT_TOKENS, OUTPUT_TOKENS = _COLUMN["input_tokens"], _COLUMN["output_tokens"]
CACHED_INPUT_TOKENS, CACHE_WRITE_TOKENS = _COLUMN["cached_input_tokens"], _COLUMN["cache_write_tokens"]
USAGE_SOURCE, COST_USD, STATUS = _COLUMN["usage_source"], _COLUMN["cost_usd"], _COLUMN["status"]
ERROR_TYPE, ERROR_CODE, HTTP_STATUS = _COLUMN["error_type"], _COLUMN["error_code"], _COLUMN["http_status"]
MAX_OUTPUT_TOKENS, TEMPERATURE = _COLUMN["max_output_tokens"], _COLUMN["temperature"]
CHOICE_COUNT, TOOL_COUNT = _COLUMN["choice_count"], _COLUMN["tool_count"]
RESPONSE_FORMAT, SERVICE_TIER = _COLUMN["response_format"], _COLUMN["service_tier"]
RESPONSE_SERVICE_TIER, FINISH_REASONS = _COLUMN["response_service_tier"], _COLUMN["finish_reasons"]
TAGS, INSTRUMENTATION = _COLUMN["tags"], _COLUMN["instrumentation"]
ATTRIBUTES, SCHEMA_VERSION_COLUMN = _COLUMN["attributes"], _COLUMN["schema_version"]


@dataclass(slots=True)
class Conversion:
    """What a step works on: the span, its row (a list in column order), and the untaken attributes.

    ``left`` holds every attribute the column table did not take; later steps
    take from it, and what remains becomes the ``attributes`` JSON. The record
    itself is never modified.
    """

    record: SpanRecord
    row: list[Any]
    left: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


Step = Callable[[Conversion], None]


# --- steps ------------------------------------------------------------------------------------


def take_call_attributes(c: Conversion) -> None:
    """Typed columns from the attributes: one C-level fetch, then the leftovers by a cached plan."""
    c.row = fill_call_attributes(c.record.attributes, c.left, c.tags)


def fill_call_attributes(
    attributes: Mapping[str, Any], left: dict[str, Any], tags: dict[str, str]
) -> list[Any]:
    """A ``calls`` row with the columns the attributes give; what no column takes goes to ``left``
    (later the ``attributes`` JSON) or, for tag names, to ``tags``."""
    row = list(map(attributes.get, _FAST_NAMES))
    plan = attribute_plan(tuple(attributes))
    if not plan:
        return row  # every attribute had its column: nothing left over
    ranks: dict[int, int] | None = None  # column -> rank of the source that filled it, when contested
    for name, action, info in plan:
        value = attributes[name]
        if action is _LEFT:
            left[name] = value
        elif action is _TAG:
            tags[info] = value if isinstance(value, str) else json.dumps(value)
        else:
            column, rank, convert = info
            if action is _CONTESTED:
                if ranks is None:
                    ranks = {}
                if row[column] is not None and ranks.get(column, 0) <= rank:
                    continue  # a better source already filled it; the weaker spelling is dropped
            converted = convert(value)
            if converted is None:
                left[name] = value  # keep a value of the wrong shape visible in `attributes`
                continue
            row[column] = converted
            if ranks is not None:
                ranks[column] = rank
    return row


# What take_call_attributes does with an attribute the fast map did not fetch.
_LEFT: Final = "left"  # to the `attributes` JSON
_TAG: Final = "tag"  # to the tags map, under the name without its prefix
_SOURCE: Final = "source"  # to its column, the only source of that column the span has
_CONTESTED: Final = "contested"  # to its column unless a better source of it filled it
PlanStep = tuple[str, str, Any]
#: Plans by attribute names in span order. Spans of one instrumentation share a few shapes, so
#: the set difference, the sort and the name lookups run once per shape, not once per span.
_plans: dict[tuple[str, ...], tuple[PlanStep, ...]] = {}
_MAX_PLANS: Final = 1024


def attribute_plan(names: tuple[str, ...]) -> tuple[PlanStep, ...]:
    """The steps for the attributes of a span with these names that the fast map did not take."""
    plan = _plans.get(names)
    if plan is None:
        plan = _make_plan(names)
        if len(_plans) >= _MAX_PLANS:
            _plans.clear()  # many shapes (e.g. indexed peer attributes): start over, stay bounded
        _plans[names] = plan
    return plan


def _make_plan(names: tuple[str, ...]) -> tuple[PlanStep, ...]:
    present = set(names)
    sources_per_column: dict[int, int] = {}
    for name in present:
        column = _FAST_COLUMN.get(name)
        if column is None and name in _SLOW_SOURCES:
            column = _SLOW_SOURCES[name][0]
        if column is not None:
            sources_per_column[column] = sources_per_column.get(column, 0) + 1
    plan: list[PlanStep] = []
    for name in sorted(present - _FAST_SET):  # sorted: the same row in every process
        source = _SLOW_SOURCES.get(name)
        if source is not None:
            contested = sources_per_column[source[0]] > 1
            plan.append((name, _CONTESTED if contested else _SOURCE, source))
            continue
        tag = _tag_key(name)
        plan.append((name, _LEFT, None) if tag is None else (name, _TAG, tag))
    return tuple(plan)


def _tag_key(name: str) -> str | None:
    for prefix in _TAG_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return None


def take_call_identity(c: Conversion) -> None:
    """Ids, times and the service of the resource."""
    _fill_identity(c.row, c.record, START_TIME)


def _fill_identity(row: list[Any], record: SpanRecord, start_index: int) -> None:
    # Both tables start with trace_id, span_id, parent_span_id and, from start_index on, start_time,
    # end_time, duration_ms, service_name, service_version, deployment_environment.
    row[0] = record.trace_id
    row[1] = record.span_id
    row[2] = record.parent_span_id or None
    start, end = record.start_time_ns, record.end_time_ns
    row[start_index] = start // 1000
    row[start_index + 1] = end // 1000
    row[start_index + 2] = (end - start) / 1e6
    row[start_index + 3 : start_index + 6] = service_of(record.resource)


def service_of(resource: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    """Service name, version and deployment environment of a resource (spans of one resource share it)."""
    return (
        resource.get(peers.SERVICE_NAME),
        resource.get(peers.SERVICE_VERSION),
        resource.get(peers.DEPLOYMENT_ENVIRONMENT_NAME) or resource.get(peers.DEPLOYMENT_ENVIRONMENT),
    )


def name_instrumentation(c: Conversion) -> None:
    """Who produced the span: ``callscope``, ``openai-v2``, ``openllmetry``, ``openinference``, ..."""
    c.row[INSTRUMENTATION] = instrumentation_of(c.record)


def instrumentation_of(record: SpanRecord) -> str | None:
    """The ``instrumentation`` column for ``record``: a short name, or the scope name if unknown."""
    scope = record.scope_name or ""
    attributes = record.attributes
    if scope.startswith(INSTRUMENTATION_CALLSCOPE):
        return INSTRUMENTATION_CALLSCOPE
    if scope.startswith(peers.OPENINFERENCE_SCOPE_PREFIX) or peers.OPENINFERENCE_SPAN_KIND in attributes:
        return INSTRUMENTATION_OPENINFERENCE
    if (
        scope.startswith(peers.OPENLLMETRY_SCOPE_PREFIX)
        or peers.OPENLLMETRY_REQUEST_TYPE in attributes
        or peers.OPENLLMETRY_IS_STREAMING in attributes
    ):
        return INSTRUMENTATION_OPENLLMETRY
    if scope == peers.OPENAI_V2_SCOPE:
        return INSTRUMENTATION_OPENAI_V2
    if scope.startswith(peers.OTEL_GENAI_UTIL_SCOPE_PREFIX):
        provider = attributes.get(A.PROVIDER) or attributes.get(A.LEGACY_SYSTEM)
        openai = isinstance(provider, str) and provider in _OPENAI_PROVIDERS
        return INSTRUMENTATION_OPENAI_V2 if openai else INSTRUMENTATION_OTEL_GENAI
    return scope or None


_OPENAI_PROVIDERS: Final = frozenset({"openai", "azure.ai.openai"})


def from_peers(c: Conversion) -> None:
    """What only one peer's spans need (nothing for callscope's own)."""
    for step in _PEER_STEPS.get(c.row[INSTRUMENTATION], ()):
        step(c)


def from_openinference(c: Conversion) -> None:
    """Request parameters from ``llm.invocation_parameters``, tags from ``metadata``, TTFT from events."""
    row, left = c.row, c.left
    kind = left.pop(peers.OPENINFERENCE_SPAN_KIND, None)
    if row[OPERATION] is None:
        row[OPERATION] = "embeddings" if kind == "EMBEDDING" else "chat"
    if row[OPERATION] == "chat" and c.record.name == "Completion":
        row[OPERATION] = "text_completion"
    if row[API] is None:
        row[API] = peers.OPENINFERENCE_SPAN_NAME_API.get(c.record.name)
    for key in (
        peers.OPENINFERENCE_INVOCATION_PARAMETERS,
        peers.OPENINFERENCE_EMBEDDING_INVOCATION_PARAMETERS,
    ):
        params = _json_object(left.get(key))
        if params is not None:
            del left[key]
            _fill_from_request(row, params)
    metadata = _json_object(left.get(peers.OPENINFERENCE_METADATA))
    if metadata is not None:
        del left[peers.OPENINFERENCE_METADATA]
        for key, value in metadata.items():
            c.tags[str(key)] = value if isinstance(value, str) else json.dumps(value)
    for name, tag in (
        (peers.OPENINFERENCE_USER_ID, "user_id"),
        (peers.OPENINFERENCE_SESSION_ID, "session_id"),
    ):
        if name in left:
            c.tags[tag] = str(left.pop(name))
    if row[TTFT_MS] is None:
        for event in c.record.events:
            if event.name == peers.OPENINFERENCE_FIRST_TOKEN_EVENT:
                row[TTFT_MS] = (event.time_ns - c.record.start_time_ns) / 1e6
                break


def _json_object(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


#: Request parameter (OpenAI API body) -> column, for peers that record the request as JSON.
_REQUEST_PARAMETERS: Final[tuple[tuple[str, int], ...]] = (
    ("model", REQUEST_MODEL),
    ("temperature", TEMPERATURE),
    ("max_tokens", MAX_OUTPUT_TOKENS),
    ("max_completion_tokens", MAX_OUTPUT_TOKENS),
    ("max_output_tokens", MAX_OUTPUT_TOKENS),
    ("n", CHOICE_COUNT),
    ("stream", STREAM),
    ("service_tier", SERVICE_TIER),
)


def _fill_from_request(row: list[Any], params: Mapping[str, Any]) -> None:
    for key, column in _REQUEST_PARAMETERS:
        if row[column] is None and params.get(key) is not None:
            row[column] = _KINDS[column][0](params[key])
    if row[TOOL_COUNT] is None and isinstance(params.get("tools"), list):
        row[TOOL_COUNT] = len(params["tools"])
    response_format = params.get("response_format")
    if row[RESPONSE_FORMAT] is None and isinstance(response_format, dict):
        row[RESPONSE_FORMAT] = coerce.to_str(response_format.get("type"))


def from_openllmetry(c: Conversion) -> None:
    """The API host from ``gen_ai.openai.api_base``; finish reasons from indexed completions."""
    row, left = c.row, c.left
    api_base = left.get(peers.OPENLLMETRY_API_BASE)
    if row[SERVER_ADDRESS] is None and isinstance(api_base, str):
        row[SERVER_ADDRESS], port = _host_and_port(api_base)
        if row[SERVER_PORT] is None:
            row[SERVER_PORT] = port
    if row[API] is None:
        row[API] = _OPENLLMETRY_SPAN_NAME_API.get(c.record.name)
    if row[FINISH_REASONS] is None:
        reasons = [
            str(value)
            for name, value in left.items()
            if name.startswith(peers.OPENLLMETRY_COMPLETION_PREFIX)
            and name.endswith(peers.OPENLLMETRY_FINISH_REASON_SUFFIX)
        ]
        row[FINISH_REASONS] = reasons or None


_PEER_STEPS: Final[dict[str | None, tuple[Callable[[Conversion], None], ...]]] = {
    INSTRUMENTATION_OPENINFERENCE: (from_openinference,),
    INSTRUMENTATION_OPENLLMETRY: (from_openllmetry,),
}

_OPENLLMETRY_SPAN_NAME_API: Final = {
    "openai.chat": "chat_completions",
    "openai.response": "responses",
    "openai.embeddings": "embeddings",
    "openai.completion": "completions",
}

_URL: Final = re.compile(
    r"^(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<host>\[[^\]]+\]|[^/:?#]+)(?::(?P<port>\d+))?", re.I
)


def _host_and_port(url: str) -> tuple[str | None, int | None]:
    match = _URL.match(url)
    if match is None:
        return None, None
    port = match["port"]
    if port is not None:
        return match["host"], int(port)
    return match["host"], {"https": 443, "http": 80}.get(match["scheme"].lower())


def from_events(c: Conversion) -> None:
    """``error_type`` from the last ``exception`` event when the span has no ``error.type``."""
    if c.row[ERROR_TYPE] is not None or not c.record.events:
        return
    for event in reversed(c.record.events):
        if event.name == peers.EXCEPTION_EVENT:
            exception_type = event.attributes.get(peers.EXCEPTION_TYPE)
            if isinstance(exception_type, str):
                c.row[ERROR_TYPE] = exception_type.rsplit(".", 1)[-1]  # "openai.RateLimitError"
            return


#: Spellings of provider names -> ``gen_ai.provider.name`` values.
_PROVIDER_ALIASES: Final = {"azure": "azure.ai.openai", "az.ai.openai": "azure.ai.openai", "xai": "x_ai"}
#: Older operation names (OpenLLMetry's ``llm.request.type``) -> ``gen_ai.operation.name`` values.
_OPERATION_ALIASES: Final = {"embedding": "embeddings", "completion": "text_completion"}
_OPERATION_API: Final = {"embeddings": "embeddings", "text_completion": "completions"}


def normalize_names(c: Conversion) -> None:
    """Provider and operation spellings, and the ``api`` when the span does not say it."""
    row = c.row
    provider = row[PROVIDER]
    if row[INSTRUMENTATION] == INSTRUMENTATION_CALLSCOPE and row[API] is not None:
        return  # callscope emits the canonical spellings
    if provider is not None:
        provider = coerce.to_str(provider)
        if provider is not None:
            provider = provider.lower()
            provider = _PROVIDER_ALIASES.get(provider, provider)
        row[PROVIDER] = provider
    operation = row[OPERATION]
    if operation is not None:
        operation = coerce.to_str(operation)
        if operation is not None:
            operation = operation.lower()
            operation = _OPERATION_ALIASES.get(operation, operation)
        row[OPERATION] = operation
    if row[API] is None:
        api = _OPERATION_API.get(operation or "")
        if api is None and operation == "chat" and provider in _OPENAI_PROVIDERS:
            api = "chat_completions"  # peers without openai.api.type instrument chat.completions only
        row[API] = api


_ERROR_CODE_IN_MESSAGE: Final = re.compile(r"Error code: (\d{3})\b")
_API_ERROR_CODE: Final = re.compile(r"""['"]code['"]:\s*['"]([A-Za-z0-9_.-]+)['"]""")


def derive_status(c: Conversion) -> None:
    """``status`` (``ok`` / ``error`` / ``incomplete``), and the HTTP status and API error code of
    failed peer calls from the openai SDK's error message (``Error code: 429 - {...}``)."""
    row, record = c.row, c.record
    if row[STATUS] is None:
        failed = record.status_code == "error" or row[ERROR_TYPE] is not None
        row[STATUS] = "error" if failed else "ok"
    message = record.status_message
    if row[STATUS] == "error" and message:
        if row[HTTP_STATUS] is None:
            match = _ERROR_CODE_IN_MESSAGE.search(message)
            if match is not None:
                row[HTTP_STATUS] = int(match[1])
        if row[ERROR_CODE] is None:
            match = _API_ERROR_CODE.search(message)
            if match is not None:
                row[ERROR_CODE] = match[1]


def default_flags(c: Conversion) -> None:
    """Facts implied by absence: callscope marks streams only when streaming; usage came from the API."""
    row = c.row
    callscope = row[INSTRUMENTATION] == INSTRUMENTATION_CALLSCOPE
    if row[STREAM] is None and callscope:
        row[STREAM] = False
    if (
        row[USAGE_SOURCE] is None
        and not callscope
        and (row[INPUT_TOKENS] is not None or row[OUTPUT_TOKENS] is not None)
    ):
        row[USAGE_SOURCE] = "api"  # peers only ever report the usage the API returned


def add_cost(c: Conversion) -> None:
    """``cost_usd`` from genai-prices when the span did not carry one; NULL for an unknown model."""
    row = c.row
    if row[COST_USD] is not None or (row[INPUT_TOKENS] is None and row[OUTPUT_TOKENS] is None):
        return
    tier = row[RESPONSE_SERVICE_TIER] or row[SERVICE_TIER]
    model = row[RESPONSE_MODEL] or row[REQUEST_MODEL]
    row[COST_USD] = cost_usd(
        provider=row[PROVIDER],
        model=coerce.to_str(model) if model is not None else None,
        start_us=row[START_TIME],
        input_tokens=coerce.to_int(row[INPUT_TOKENS]) if row[INPUT_TOKENS] is not None else None,
        output_tokens=coerce.to_int(row[OUTPUT_TOKENS]) if row[OUTPUT_TOKENS] is not None else None,
        cached_input_tokens=coerce.to_int(row[CACHED_INPUT_TOKENS]) if row[CACHED_INPUT_TOKENS] else None,
        cache_write_tokens=coerce.to_int(row[CACHE_WRITE_TOKENS]) if row[CACHE_WRITE_TOKENS] else None,
        service_tier=coerce.to_str(tier) if tier is not None else None,
    )


def encode_extras(c: Conversion) -> None:
    """Tags as a map, the untaken attributes as JSON, and the schema version."""
    row = c.row
    row[TAGS] = c.tags or None
    row[ATTRIBUTES] = encode_json(c.left) if c.left else None
    row[SCHEMA_VERSION_COLUMN] = SCHEMA_VERSION


def take_span_fields(c: Conversion) -> None:
    """Identity, name, kind, status and HTTP server facts of a non-GenAI span; all attributes as JSON."""
    record = c.record
    attributes = record.attributes
    row: list[Any] = [None] * len(SPAN_COLUMNS)
    c.row = row
    _fill_identity(row, record, _SPAN_START_TIME)
    row[_SPAN_NAME] = record.name
    row[_SPAN_KIND] = record.kind
    row[_SPAN_STATUS_CODE] = record.status_code
    row[_SPAN_STATUS_MESSAGE] = record.status_message or None
    row[_SPAN_HTTP_ROUTE] = attributes.get(peers.HTTP_ROUTE)
    row[_SPAN_HTTP_METHOD] = attributes.get(peers.HTTP_REQUEST_METHOD) or attributes.get(
        peers.OLD_HTTP_METHOD
    )
    row[_SPAN_HTTP_STATUS] = attributes.get(peers.HTTP_RESPONSE_STATUS_CODE) or attributes.get(
        peers.OLD_HTTP_STATUS_CODE
    )
    row[_SPAN_ATTRIBUTES] = encode_json(attributes) if attributes else None
    row[_SPAN_SCHEMA_VERSION] = SCHEMA_VERSION


_SPAN_INDEX: Final = {name: index for index, name in enumerate(SPAN_COLUMNS)}
_SPAN_START_TIME, _SPAN_NAME, _SPAN_KIND = _SPAN_INDEX["start_time"], _SPAN_INDEX["name"], _SPAN_INDEX["kind"]
_SPAN_STATUS_CODE, _SPAN_STATUS_MESSAGE = _SPAN_INDEX["status_code"], _SPAN_INDEX["status_message"]
_SPAN_HTTP_ROUTE, _SPAN_HTTP_METHOD = _SPAN_INDEX["http_route"], _SPAN_INDEX["http_method"]
_SPAN_HTTP_STATUS, _SPAN_ATTRIBUTES = _SPAN_INDEX["http_status"], _SPAN_INDEX["attributes"]
_SPAN_SCHEMA_VERSION = _SPAN_INDEX["schema_version"]

_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=str)
# JSONEncoder.encode builds its C encoder on every call, which costs more than encoding a small
# dict; build it once (markers=None: attribute values cannot be circular).
_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
_c_encoder: Callable[[Any, int], Any] | None = (
    _make_encoder(None, str, json.encoder.encode_basestring, None, ":", ",", False, False, False)
    if _make_encoder is not None
    else None
)


def encode_json(values: Mapping[str, Any]) -> str:
    """Compact JSON; non-finite floats (which JSON cannot hold) become ``null``."""
    try:
        if _c_encoder is not None:
            return "".join(_c_encoder(values, 0))
        return _encoder.encode(values)
    except ValueError:
        return _encoder.encode({key: _finite(value) for key, value in values.items()})


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


#: The default pipelines, in order. Each step may rely on the ones before it.
CALL_STEPS: Final[tuple[Step, ...]] = (
    take_call_attributes,
    take_call_identity,
    name_instrumentation,
    from_peers,
    from_events,
    normalize_names,
    derive_status,
    default_flags,
    add_cost,
    encode_extras,
)
SPAN_STEPS: Final[tuple[Step, ...]] = (take_span_fields,)


def is_call(attributes: Mapping[str, Any]) -> bool:
    """Whether a span is a model call (a ``calls`` row) rather than any other span."""
    operation = attributes.get(A.OPERATION)
    if operation is not None:
        return not (isinstance(operation, str) and operation in NON_CALL_OPERATIONS)
    kind = attributes.get(peers.OPENINFERENCE_SPAN_KIND)
    if kind is not None:
        return isinstance(kind, str) and kind in peers.OPENINFERENCE_LLM_KINDS
    return (
        peers.OPENLLMETRY_REQUEST_TYPE in attributes
        or A.REQUEST_MODEL in attributes
        or A.LEGACY_SYSTEM in attributes
        or A.PROVIDER in attributes
    )


def span_values(record: SpanRecord) -> tuple[str, list[Any]]:
    """The table and the row as a list in column order (the writer's fast form).

    Scalar values are as the span had them when well-formed; a wrong-typed one is
    converted when Arrow rejects its column (see :mod:`.coerce`).
    """
    if is_call(record.attributes):
        table, steps = CALLS, CALL_STEPS
    else:
        table, steps = SPANS, SPAN_STEPS
    conversion = Conversion(record, [])
    for step in steps:
        step(conversion)
    return table, conversion.row


def span_to_row(record: SpanRecord) -> tuple[str, Row]:
    """The table (``"calls"`` or ``"spans"``) and the row for one finished span.

    Pure: the same record always gives the same row, and the record is not
    modified. Every column of the table is present in the row, converted to its
    column's type (``None`` when unknown). Timestamps are integer microseconds
    since the Unix epoch (UTC), ``tags`` a ``dict`` or ``None``, ``attributes`` a
    JSON string or ``None``.
    """
    table, values = span_values(record)
    coerce.coerce_values(table, values)
    return table, dict(zip(CALL_COLUMNS if table == CALLS else SPAN_COLUMNS, values, strict=True))
