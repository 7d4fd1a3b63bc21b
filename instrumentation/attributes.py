"""Every span attribute name callscope emits, in one place (contract 1 of DESIGN.md).

Standard names come from ``opentelemetry-semantic-conventions`` (GenAI v1.41
names, which that package exposes); when the conventions rename something
(``cache_creation`` -> ``cache_write``, say) it is a one-line change here.
callscope's own facts live under ``callscope.*``. Nothing else in the project
spells an attribute name as a string literal: the collector's ``span_to_row``
reads these same constants.
"""

from __future__ import annotations

from typing import Final

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as _gen_ai
from opentelemetry.semconv._incubating.attributes import openai_attributes as _openai
from opentelemetry.semconv.attributes import error_attributes as _error
from opentelemetry.semconv.attributes import http_attributes as _http
from opentelemetry.semconv.attributes import server_attributes as _server

# --- OpenTelemetry GenAI semantic conventions -------------------------------------------
OPERATION: Final = _gen_ai.GEN_AI_OPERATION_NAME  # "chat", "embeddings", ...
PROVIDER: Final = _gen_ai.GEN_AI_PROVIDER_NAME  # "openai", "azure.ai.openai", ...
REQUEST_MODEL: Final = _gen_ai.GEN_AI_REQUEST_MODEL
RESPONSE_MODEL: Final = _gen_ai.GEN_AI_RESPONSE_MODEL
RESPONSE_ID: Final = _gen_ai.GEN_AI_RESPONSE_ID
FINISH_REASONS: Final = _gen_ai.GEN_AI_RESPONSE_FINISH_REASONS  # string[]
INPUT_TOKENS: Final = _gen_ai.GEN_AI_USAGE_INPUT_TOKENS  # includes cached
OUTPUT_TOKENS: Final = _gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS  # includes reasoning
CACHED_INPUT_TOKENS: Final = _gen_ai.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS
CACHE_WRITE_INPUT_TOKENS: Final = _gen_ai.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS
REASONING_TOKENS: Final = _gen_ai.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS
STREAM: Final = _gen_ai.GEN_AI_REQUEST_STREAM  # bool, set only when streaming
TIME_TO_FIRST_CHUNK: Final = _gen_ai.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK  # seconds
REQUEST_MAX_TOKENS: Final = _gen_ai.GEN_AI_REQUEST_MAX_TOKENS
REQUEST_TEMPERATURE: Final = _gen_ai.GEN_AI_REQUEST_TEMPERATURE
REQUEST_TOP_P: Final = _gen_ai.GEN_AI_REQUEST_TOP_P
REQUEST_CHOICE_COUNT: Final = _gen_ai.GEN_AI_REQUEST_CHOICE_COUNT  # n, only when != 1
REQUEST_SEED: Final = _gen_ai.GEN_AI_REQUEST_SEED
REQUEST_STOP_SEQUENCES: Final = _gen_ai.GEN_AI_REQUEST_STOP_SEQUENCES
REQUEST_FREQUENCY_PENALTY: Final = _gen_ai.GEN_AI_REQUEST_FREQUENCY_PENALTY
REQUEST_PRESENCE_PENALTY: Final = _gen_ai.GEN_AI_REQUEST_PRESENCE_PENALTY
REQUEST_ENCODING_FORMATS: Final = _gen_ai.GEN_AI_REQUEST_ENCODING_FORMATS
EMBEDDINGS_DIMENSION_COUNT: Final = _gen_ai.GEN_AI_EMBEDDINGS_DIMENSION_COUNT
OUTPUT_TYPE: Final = _gen_ai.GEN_AI_OUTPUT_TYPE  # "text", "json", ...
CONVERSATION_ID: Final = _gen_ai.GEN_AI_CONVERSATION_ID
INPUT_MESSAGES: Final = _gen_ai.GEN_AI_INPUT_MESSAGES  # opt-in content only
OUTPUT_MESSAGES: Final = _gen_ai.GEN_AI_OUTPUT_MESSAGES  # opt-in content only
SYSTEM_INSTRUCTIONS: Final = _gen_ai.GEN_AI_SYSTEM_INSTRUCTIONS  # opt-in content only
TOOL_DEFINITIONS: Final = _gen_ai.GEN_AI_TOOL_DEFINITIONS  # opt-in content only
API_TYPE: Final = _openai.OPENAI_API_TYPE  # "chat_completions" | "responses"
REQUEST_SERVICE_TIER: Final = _openai.OPENAI_REQUEST_SERVICE_TIER
RESPONSE_SERVICE_TIER: Final = _openai.OPENAI_RESPONSE_SERVICE_TIER
SYSTEM_FINGERPRINT: Final = _openai.OPENAI_RESPONSE_SYSTEM_FINGERPRINT
SERVER_ADDRESS: Final = _server.SERVER_ADDRESS
SERVER_PORT: Final = _server.SERVER_PORT
ERROR_TYPE: Final = _error.ERROR_TYPE  # exception class name, e.g. "RateLimitError"
HTTP_STATUS: Final = _http.HTTP_RESPONSE_STATUS_CODE  # of the final attempt

# Older and peer spellings that the collector also understands (never emitted).
LEGACY_SYSTEM: Final = _gen_ai.GEN_AI_SYSTEM
LEGACY_PROMPT_TOKENS: Final = _gen_ai.GEN_AI_USAGE_PROMPT_TOKENS
LEGACY_COMPLETION_TOKENS: Final = _gen_ai.GEN_AI_USAGE_COMPLETION_TOKENS
LEGACY_REQUEST_SERVICE_TIER: Final = _gen_ai.GEN_AI_OPENAI_REQUEST_SERVICE_TIER
LEGACY_RESPONSE_SERVICE_TIER: Final = _gen_ai.GEN_AI_OPENAI_RESPONSE_SERVICE_TIER
LEGACY_RESPONSE_FORMAT: Final = _gen_ai.GEN_AI_OPENAI_REQUEST_RESPONSE_FORMAT

# --- callscope's own ----------------------------------------------------------------------
_NS = "callscope."

STATUS: Final = _NS + "status"  # "ok" | "error" | "incomplete"
STREAM_END: Final = _NS + "stream.end"  # "exhausted" | "closed" | "abandoned" | "error"
STREAM_CHUNKS: Final = _NS + "stream.chunks"  # chunks the caller received
TIME_PER_CHUNK_MS: Final = _NS + "stream.time_per_chunk_ms"  # mean gap after the first
USAGE_SOURCE: Final = _NS + "usage.source"  # "api" | "estimated"
USAGE_INJECTED: Final = _NS + "stream.usage_injected"  # bool: callscope asked for usage, hid the chunk
STREAM_RESUMED: Final = _NS + "stream.resumed"  # bool: a Responses stream resumed via retrieve

COST_USD: Final = _NS + "cost.usd"  # absent (not 0) when the model's price is unknown
COST_INPUT_USD: Final = _NS + "cost.input_usd"
COST_OUTPUT_USD: Final = _NS + "cost.output_usd"
PRICE_MODEL: Final = _NS + "cost.price_model"  # genai-prices model id used
PRICE_PROVIDER: Final = _NS + "cost.price_provider"  # genai-prices provider id used

ERROR_CODE: Final = _NS + "error.code"  # API error code, e.g. "rate_limit_exceeded"
ERROR_MESSAGE: Final = _NS + "error.message"  # API error message (no content)

# Per HTTP attempt, seen below the SDK's retry loop. Arrays are in attempt order.
ATTEMPTS: Final = _NS + "http.attempts"  # 1 = no retry
ATTEMPT_STATUSES: Final = _NS + "http.attempt_statuses"  # "200", "429", "timeout", "connection_error"
ATTEMPT_DURATIONS_MS: Final = _NS + "http.attempt_durations_ms"  # double[]
RETRY_WAIT_MS: Final = _NS + "http.retry_wait_ms"  # total backoff slept between attempts
RETRY_AFTER_MS: Final = _NS + "http.retry_after_ms"  # double[], server-asked waits (0 if none)

# From response headers of the final attempt.
REQUEST_ID: Final = _NS + "openai.request_id"  # x-request-id
SERVER_PROCESSING_MS: Final = _NS + "openai.processing_ms"  # openai-processing-ms
RATELIMIT_LIMIT_REQUESTS: Final = _NS + "ratelimit.limit_requests"
RATELIMIT_LIMIT_TOKENS: Final = _NS + "ratelimit.limit_tokens"
RATELIMIT_REMAINING_REQUESTS: Final = _NS + "ratelimit.remaining_requests"
RATELIMIT_REMAINING_TOKENS: Final = _NS + "ratelimit.remaining_tokens"
RATELIMIT_RESET_REQUESTS_MS: Final = _NS + "ratelimit.reset_requests_ms"
RATELIMIT_RESET_TOKENS_MS: Final = _NS + "ratelimit.reset_tokens_ms"

# Request shape, without content.
REQUEST_TOOL_COUNT: Final = _NS + "request.tool_count"
REQUEST_RESPONSE_FORMAT: Final = _NS + "request.response_format"  # "text", "json_object", "json_schema"
REQUEST_REASONING_EFFORT: Final = _NS + "request.reasoning_effort"  # "minimal", "low", "medium", "high"
REQUEST_MESSAGE_COUNT: Final = _NS + "request.message_count"
REQUEST_INPUT_CHARS: Final = _NS + "request.input_chars"
REQUEST_PREFIX_CHARS: Final = _NS + "request.prefix_chars"
REQUEST_HASH: Final = _NS + "request.hash"  # keyed hash of the whole request
PREFIX_HASH: Final = _NS + "request.prefix_hash"  # keyed hash of instructions + tools

# Tags from ``callscope.tags(feature="x")`` become ``callscope.tag.feature = "x"``.
TAG_PREFIX: Final = _NS + "tag."
