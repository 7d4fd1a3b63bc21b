"""The ``calls`` and ``spans`` tables: contract 2 of DESIGN.md, in one module.

Users write SQL against these column names, so they are public: adding a
column is fine, renaming or retyping one is a breaking change and bumps
:data:`SCHEMA_VERSION`. The column table in ``docs/schema.md`` is generated from
this module (``python -m callscope.collector.schema --markdown``) and a test
fails when the two drift.

Column types are declared as small kind strings so this module imports without
pyarrow; :func:`arrow_schema` builds the Arrow schema on demand.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    import pyarrow as pa

SCHEMA_VERSION: Final = 1

#: Parquet key-value metadata keys written into every file.
METADATA_SCHEMA_VERSION: Final = b"callscope.schema_version"
METADATA_TABLE: Final = b"callscope.table"

Kind = Literal[
    "string",
    "timestamp",
    "double",
    "int64",
    "int32",
    "bool",
    "list<string>",
    "list<double>",
    "map<string,string>",
    "json",
]

#: How each kind reads in DuckDB (for the docs and for empty views).
DUCKDB_TYPES: Final[dict[str, str]] = {
    "string": "VARCHAR",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "double": "DOUBLE",
    "int64": "BIGINT",
    "int32": "INTEGER",
    "bool": "BOOLEAN",
    "list<string>": "VARCHAR[]",
    "list<double>": "DOUBLE[]",
    "map<string,string>": "MAP(VARCHAR, VARCHAR)",
    "json": "JSON",
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    meaning: str


CALLS: Final[tuple[Column, ...]] = (
    Column("trace_id", "string", "Trace id (32 hex digits); joins with `spans` and other tracing tools."),
    Column("span_id", "string", "Span id of the call (16 hex digits)."),
    Column(
        "parent_span_id", "string", "Span id of the parent, e.g. the app's request handler; NULL for a root."
    ),
    Column("start_time", "timestamp", "When the call started (UTC)."),
    Column(
        "end_time", "timestamp", "When the call ended (UTC); for a stream, when it was exhausted or closed."
    ),
    Column(
        "duration_ms",
        "double",
        "Client-side wall time of the whole logical call, retries and backoff included.",
    ),
    Column("service_name", "string", "`service.name` of the OTel resource."),
    Column("service_version", "string", "`service.version` of the OTel resource."),
    Column("deployment_environment", "string", "`deployment.environment(.name)` of the OTel resource."),
    Column("provider", "string", "`openai`, `azure.ai.openai`, ... (`gen_ai.provider.name`)."),
    Column("server_address", "string", "API host, e.g. `api.openai.com`."),
    Column("server_port", "int32", "API port."),
    Column("operation", "string", "`chat`, `embeddings`, `text_completion`, ... (`gen_ai.operation.name`)."),
    Column("api", "string", "`chat_completions`, `responses` or `embeddings`."),
    Column("request_model", "string", "Model as asked for."),
    Column("response_model", "string", "Model as answered, e.g. `gpt-4o-mini-2024-07-18`."),
    Column("response_id", "string", "`chatcmpl-...` / `resp_...` id of the response."),
    Column("stream", "bool", "Whether the call was streamed."),
    Column("ttft_ms", "double", "Time to first chunk, for streams."),
    Column("time_per_chunk_ms", "double", "Mean time between chunks after the first, for streams."),
    Column("stream_chunks", "int64", "Chunks the caller received, for streams."),
    Column("input_tokens", "int64", "Input tokens as billed, cached ones included."),
    Column("output_tokens", "int64", "Output tokens as billed, reasoning ones included."),
    Column(
        "cached_input_tokens", "int64", "Input tokens read from the prompt cache (part of `input_tokens`)."
    ),
    Column(
        "cache_write_tokens",
        "int64",
        "Input tokens written to the prompt cache, where billed (part of `input_tokens`).",
    ),
    Column("reasoning_tokens", "int64", "Reasoning tokens (part of `output_tokens`)."),
    Column("usage_source", "string", "`api` (exact, from the response) or `estimated`; NULL when unknown."),
    Column(
        "cost_usd",
        "double",
        "Cost in USD (genai-prices at the call's time); NULL when the model's price is unknown.",
    ),
    Column("status", "string", "`ok`, `error`, or `incomplete` (stream abandoned or cut)."),
    Column("error_type", "string", "Exception class or `error.type`, e.g. `RateLimitError`."),
    Column("error_code", "string", "API error code, e.g. `rate_limit_exceeded`, `insufficient_quota`."),
    Column("http_status", "int32", "HTTP status of the final attempt."),
    Column("attempts", "int32", "HTTP attempts (1 = no retry)."),
    Column("retry_wait_ms", "double", "Total backoff waited between attempts."),
    Column(
        "attempt_statuses",
        "list<string>",
        "Each attempt's outcome: `200`, `429`, `timeout`, `connection_error`.",
    ),
    Column("attempt_durations_ms", "list<double>", "Each attempt's duration."),
    Column("server_processing_ms", "double", "`openai-processing-ms` of the final attempt (server time)."),
    Column("request_id", "string", "`x-request-id` of the final attempt."),
    Column("ratelimit_remaining_requests", "int64", "`x-ratelimit-remaining-requests` of the final attempt."),
    Column("ratelimit_remaining_tokens", "int64", "`x-ratelimit-remaining-tokens` of the final attempt."),
    Column("ratelimit_limit_requests", "int64", "`x-ratelimit-limit-requests` of the final attempt."),
    Column("ratelimit_limit_tokens", "int64", "`x-ratelimit-limit-tokens` of the final attempt."),
    Column(
        "max_output_tokens",
        "int64",
        "Requested output cap (`max_tokens`, `max_completion_tokens`, `max_output_tokens`).",
    ),
    Column("temperature", "double", "Requested temperature."),
    Column("choice_count", "int32", "Requested `n` (choices)."),
    Column("tool_count", "int32", "Tools offered to the model."),
    Column("response_format", "string", "Requested response format: `text`, `json_object`, `json_schema`."),
    Column("service_tier", "string", "Service tier as requested (`openai.request.service_tier`)."),
    Column("response_service_tier", "string", "Service tier as answered (`openai.response.service_tier`)."),
    Column("finish_reasons", "list<string>", "Finish reasons, e.g. `['stop']`, `['length']`."),
    Column("request_hash", "string", "Keyed hash of the whole request (duplicate detection)."),
    Column("prefix_hash", "string", "Keyed hash of the stable prefix: instructions and tool definitions."),
    Column("prefix_chars", "int64", "Characters in the stable prefix."),
    Column("input_chars", "int64", "Characters in the whole input."),
    Column("input_messages", "int32", "Messages (or input items) in the request."),
    Column("tags", "map<string,string>", "`callscope.tags(...)` and similar labels."),
    Column(
        "instrumentation",
        "string",
        "Who produced the span: `callscope`, `openai-v2`, `openllmetry`, `openinference`,"
        " else its instrumentation scope name.",
    ),
    Column("attributes", "json", "Every other span attribute."),
    Column("schema_version", "int32", "Version of this schema the row was written with."),
)

SPANS: Final[tuple[Column, ...]] = (
    Column("trace_id", "string", "Trace id (32 hex digits)."),
    Column("span_id", "string", "Span id (16 hex digits)."),
    Column("parent_span_id", "string", "Parent span id; NULL for a root."),
    Column("name", "string", "Span name, e.g. `GET /search`."),
    Column("kind", "string", "`server`, `client`, `internal`, `producer`, `consumer`."),
    Column("start_time", "timestamp", "Start (UTC)."),
    Column("end_time", "timestamp", "End (UTC)."),
    Column("duration_ms", "double", "Wall time."),
    Column("service_name", "string", "`service.name` of the OTel resource."),
    Column("service_version", "string", "`service.version` of the OTel resource."),
    Column("deployment_environment", "string", "`deployment.environment(.name)` of the OTel resource."),
    Column("status_code", "string", "`unset`, `ok` or `error`."),
    Column("status_message", "string", "Status description."),
    Column("http_route", "string", "`http.route`, for request handler spans."),
    Column("http_method", "string", "`http.request.method`."),
    Column("http_status", "int32", "`http.response.status_code`."),
    Column("attributes", "json", "Every span attribute."),
    Column("schema_version", "int32", "Version of this schema the row was written with."),
)

TABLES: Final[dict[str, tuple[Column, ...]]] = {"calls": CALLS, "spans": SPANS}

#: Hive partition column added to every table by the folder layout (``date=YYYY-MM-DD``).
PARTITION_COLUMN: Final = "date"


def column_names(table: str) -> list[str]:
    return [column.name for column in TABLES[table]]


def _arrow_type(kind: Kind) -> pa.DataType:
    import pyarrow as pa

    types: dict[str, pa.DataType] = {
        "string": pa.string(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "double": pa.float64(),
        "int64": pa.int64(),
        "int32": pa.int32(),
        "bool": pa.bool_(),
        "list<string>": pa.list_(pa.string()),
        "list<double>": pa.list_(pa.float64()),
        "map<string,string>": pa.map_(pa.string(), pa.string()),
        "json": pa.json_(pa.string()),
    }
    return types[kind]


def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema of ``table`` with the schema version in its metadata."""
    import pyarrow as pa

    fields = [pa.field(column.name, _arrow_type(column.kind)) for column in TABLES[table]]
    metadata = {METADATA_SCHEMA_VERSION: str(SCHEMA_VERSION).encode(), METADATA_TABLE: table.encode()}
    return pa.schema(fields, metadata=metadata)


def markdown() -> str:
    """``docs/schema.md``: how the files are laid out, then the column table of each table."""
    lines = [
        "# The call log schema",
        "",
        "<!-- Generated by `python -m callscope.collector.schema --markdown` (`make docs`);",
        "     do not edit by hand: a test fails when this file and collector/schema.py drift apart. -->",
        "",
        f"Schema version {SCHEMA_VERSION}. Files live under",
        f"`<data>/<table>/{PARTITION_COLUMN}=YYYY-MM-DD/*.parquet` (the day the span started, UTC);",
        f"the `{PARTITION_COLUMN}` column comes from that folder name. Any Parquet reader works,",
        "e.g. DuckDB:",
        "",
        "```sql",
        "SELECT request_model, count(*) AS calls, sum(cost_usd) AS usd",
        "FROM read_parquet('callscope-data/calls/**/*.parquet',",
        "                  hive_partitioning = true, union_by_name = true)",
        "GROUP BY ALL ORDER BY usd DESC;",
        "```",
        "",
        "`calls` has one row per model call (GenAI span), whichever instrumentation produced it;",
        "`spans` has the other spans of the same traces (e.g. the request handler that made the call),",
        "joined on `trace_id` and `calls.parent_span_id = spans.span_id`.",
    ]
    for table in TABLES:
        lines += ["", *table_markdown(table).splitlines()]
    return "\n".join(lines) + "\n"


def table_markdown(table: str) -> str:
    """The column table of one table, in Markdown."""
    lines = [f"## `{table}`", "", "| column | type | meaning |", "|---|---|---|"]
    lines += [f"| `{c.name}` | {DUCKDB_TYPES[c.kind]} | {c.meaning} |" for c in TABLES[table]]
    return "\n".join(lines) + "\n"


def table_text(table: str) -> str:
    """The columns of one table as aligned plain text (``callscope schema --format text``)."""
    columns = TABLES[table]
    name_width = max(len(c.name) for c in columns)
    type_width = max(len(DUCKDB_TYPES[c.kind]) for c in columns)
    lines = [f"{table} (schema version {SCHEMA_VERSION})"]
    lines += [f"  {c.name:<{name_width}}  {DUCKDB_TYPES[c.kind]:<{type_width}}  {c.meaning}" for c in columns]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["--markdown"]:
        sys.stdout.write(markdown())
    else:
        sys.exit("usage: python -m callscope.collector.schema --markdown")
