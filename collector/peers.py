"""Attribute names of other instrumentations that ``span_to_row`` understands.

callscope never emits these (its own names are in
:mod:`callscope.instrumentation.attributes`); they are how OTel's
``opentelemetry-instrumentation-openai-v2`` (old conventions), OpenLLMetry
(``opentelemetry-instrumentation-openai`` by Traceloop) and OpenInference spell
the same facts. Each was seen in spans the real packages exported (see
``tests/collector/fixtures/peer-*.json``), not guessed. Keeping them here
means the mapping in :mod:`callscope.collector.normalize` spells no literal.
"""

from __future__ import annotations

from typing import Final

from opentelemetry.semconv._incubating.attributes import deployment_attributes as _deployment
from opentelemetry.semconv._incubating.attributes import http_attributes as _old_http
from opentelemetry.semconv.attributes import exception_attributes as _exception
from opentelemetry.semconv.attributes import http_attributes as _http
from opentelemetry.semconv.attributes import service_attributes as _service

# --- resource and generic OTel names --------------------------------------------------
SERVICE_NAME: Final = _service.SERVICE_NAME
SERVICE_VERSION: Final = _service.SERVICE_VERSION
DEPLOYMENT_ENVIRONMENT_NAME: Final = _deployment.DEPLOYMENT_ENVIRONMENT_NAME
DEPLOYMENT_ENVIRONMENT: Final = _deployment.DEPLOYMENT_ENVIRONMENT  # before semconv 1.27
HTTP_ROUTE: Final = _http.HTTP_ROUTE
HTTP_REQUEST_METHOD: Final = _http.HTTP_REQUEST_METHOD
HTTP_RESPONSE_STATUS_CODE: Final = _http.HTTP_RESPONSE_STATUS_CODE
OLD_HTTP_METHOD: Final = _old_http.HTTP_METHOD
OLD_HTTP_STATUS_CODE: Final = _old_http.HTTP_STATUS_CODE
EXCEPTION_EVENT: Final = "exception"  # the span event name of Span.record_exception
EXCEPTION_TYPE: Final = _exception.EXCEPTION_TYPE
EXCEPTION_MESSAGE: Final = _exception.EXCEPTION_MESSAGE

# --- GenAI spellings newer than the installed semconv package ----------------------------
CACHE_WRITE_INPUT_TOKENS_DEV: Final = "gen_ai.usage.cache_write.input_tokens"  # genai-dev rename
OPENLIT_COST: Final = "gen_ai.usage.cost"  # OpenLIT's cost attribute (USD)

# --- OpenLLMetry (Traceloop) -----------------------------------------------------------
OPENLLMETRY_REQUEST_TYPE: Final = "llm.request.type"  # "chat", "completion", "embedding"
OPENLLMETRY_IS_STREAMING_OLD: Final = "llm.is_streaming"
OPENLLMETRY_IS_STREAMING: Final = "gen_ai.is_streaming"
OPENLLMETRY_API_BASE: Final = "gen_ai.openai.api_base"  # "https://api.openai.com/v1/"
OPENLLMETRY_CACHE_READ_TOKENS_OLD: Final = "gen_ai.usage.cache_read_input_tokens"
OPENLLMETRY_CACHE_CREATION_TOKENS_OLD: Final = "gen_ai.usage.cache_creation_input_tokens"
OPENLLMETRY_REASONING_TOKENS: Final = "gen_ai.usage.reasoning_tokens"
OPENLLMETRY_TOTAL_TOKENS_OLD: Final = "llm.usage.total_tokens"
OPENLLMETRY_TOTAL_TOKENS: Final = "gen_ai.usage.total_tokens"
OPENLLMETRY_SYSTEM_FINGERPRINT_OLD: Final = "gen_ai.openai.system_fingerprint"
OPENLLMETRY_COMPLETION_PREFIX: Final = "gen_ai.completion."  # gen_ai.completion.<i>.finish_reason
OPENLLMETRY_FINISH_REASON_SUFFIX: Final = ".finish_reason"
OPENLLMETRY_ASSOCIATION_PREFIX: Final = "traceloop.association.properties."  # -> tags
OPENLLMETRY_SCOPE_PREFIX: Final = "opentelemetry.instrumentation.openai.v"  # ".v0", ".v1"

# --- OpenInference (Arize) -------------------------------------------------------------
OPENINFERENCE_SPAN_KIND: Final = "openinference.span.kind"  # "LLM", "EMBEDDING", "CHAIN", ...
OPENINFERENCE_LLM_KINDS: Final = frozenset({"LLM", "EMBEDDING"})
OPENINFERENCE_MODEL_NAME: Final = "llm.model_name"  # the model as answered
OPENINFERENCE_EMBEDDING_MODEL_NAME: Final = "embedding.model_name"
OPENINFERENCE_PROVIDER: Final = "llm.provider"
OPENINFERENCE_SYSTEM: Final = "llm.system"
OPENINFERENCE_PROMPT_TOKENS: Final = "llm.token_count.prompt"
OPENINFERENCE_COMPLETION_TOKENS: Final = "llm.token_count.completion"
OPENINFERENCE_TOTAL_TOKENS: Final = "llm.token_count.total"
OPENINFERENCE_CACHE_READ_TOKENS: Final = "llm.token_count.prompt_details.cache_read"
OPENINFERENCE_CACHE_WRITE_TOKENS: Final = "llm.token_count.prompt_details.cache_write"
OPENINFERENCE_REASONING_TOKENS: Final = "llm.token_count.completion_details.reasoning"
OPENINFERENCE_FINISH_REASON: Final = "llm.finish_reason"
OPENINFERENCE_INVOCATION_PARAMETERS: Final = "llm.invocation_parameters"  # JSON of request params
OPENINFERENCE_EMBEDDING_INVOCATION_PARAMETERS: Final = "embedding.invocation_parameters"
OPENINFERENCE_COST_TOTAL: Final = "llm.cost.total"
OPENINFERENCE_METADATA: Final = "metadata"  # JSON object -> tags
OPENINFERENCE_USER_ID: Final = "user.id"
OPENINFERENCE_SESSION_ID: Final = "session.id"
OPENINFERENCE_FIRST_TOKEN_EVENT: Final = "First Token Stream Event"
#: OpenInference span names of the OpenAI instrumentation -> ``api`` column.
OPENINFERENCE_SPAN_NAME_API: Final = {
    "ChatCompletion": "chat_completions",
    "Response": "responses",
    "CreateEmbeddings": "embeddings",
    "Completion": "completions",
}
OPENINFERENCE_SCOPE_PREFIX: Final = "openinference."

# --- OTel contrib ------------------------------------------------------------------------
OPENAI_V2_SCOPE: Final = "opentelemetry.instrumentation.openai_v2"
OTEL_GENAI_UTIL_SCOPE_PREFIX: Final = "opentelemetry.util.genai"
