"""Who answers a client's calls: provider name, server address and port, from its base URL.

``gen_ai.provider.name`` follows the GenAI conventions' values where the host is a
well-known one: ``api.openai.com`` is ``openai``, Azure OpenAI hosts (or an
``AzureOpenAI`` client) are ``azure.ai.openai``, and the OpenAI-compatible APIs of
Groq, DeepSeek, Mistral, xAI and Perplexity get their own values.

Any other host (a self-hosted vLLM, a proxy, the demo simulator) is reported as
``openai``: the conventions define that value for the OpenAI client instrumentation,
and the client does speak the OpenAI API. ``server.address`` always names the real
host, so such calls are never mistaken for calls to api.openai.com in the data.
Prices for those hosts are looked up in OpenAI's table by model name: a model with
an OpenAI name is priced at OpenAI's price, any other gets no cost.
"""

from __future__ import annotations

import contextlib
import weakref
from dataclasses import dataclass
from typing import Any

from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import GenAiProviderNameValues as _P

__all__ = ["Endpoint", "endpoint_of"]

OPENAI = _P.OPENAI.value
AZURE = _P.AZURE_AI_OPENAI.value

# host suffix -> (gen_ai.provider.name, genai-prices provider id)
_KNOWN_HOSTS: tuple[tuple[str, str, str], ...] = (
    ("api.openai.com", OPENAI, "openai"),
    (".openai.azure.com", AZURE, "azure"),
    (".cognitiveservices.azure.com", AZURE, "azure"),
    (".services.ai.azure.com", AZURE, "azure"),
    ("api.groq.com", _P.GROQ.value, "groq"),
    ("api.deepseek.com", _P.DEEPSEEK.value, "deepseek"),
    ("api.mistral.ai", _P.MISTRAL_AI.value, "mistral"),
    ("api.x.ai", _P.X_AI.value, "x-ai"),
    ("api.perplexity.ai", _P.PERPLEXITY.value, "perplexity"),
)


@dataclass(frozen=True, slots=True)
class Endpoint:
    provider: str  # gen_ai.provider.name
    price_provider: str  # genai-prices provider id
    address: str | None
    port: int | None
    url: object  # the base_url object this was computed from (identity-checked)


# id(client) -> (weak reference to the client, its endpoint); recomputed only when the
# client's base_url object changes. A plain dict (a WeakKeyDictionary lookup builds a
# weak reference each time); the reference check guards against a reused id.
_CACHE: dict[int, tuple[weakref.ref[Any], Endpoint]] = {}
_CACHE_LIMIT = 1024


def endpoint_of(client: Any) -> Endpoint:
    url = client.base_url
    cached = _CACHE.get(id(client))
    if cached is not None and cached[1].url is url and cached[0]() is client:
        return cached[1]
    endpoint = _compute(url, is_azure_client=_is_azure_client(client))
    with contextlib.suppress(TypeError):  # a client that cannot be weakly referenced: don't cache
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[id(client)] = (weakref.ref(client), endpoint)
    return endpoint


def _is_azure_client(client: Any) -> bool:
    try:
        from openai.lib.azure import BaseAzureClient
    except ImportError:  # pragma: no cover - every supported SDK has it
        return False
    return isinstance(client, BaseAzureClient)


def _compute(url: Any, *, is_azure_client: bool) -> Endpoint:
    host = (getattr(url, "host", None) or "").lower() or None
    port = getattr(url, "port", None)
    if port is None and host is not None:
        scheme = getattr(url, "scheme", "https")
        port = 443 if scheme == "https" else 80 if scheme == "http" else None
    provider, price_provider = OPENAI, "openai"
    if host is not None:
        for suffix, name, price_id in _KNOWN_HOSTS:
            if host == suffix.lstrip(".") or host.endswith(suffix):
                provider, price_provider = name, price_id
                break
    if is_azure_client:
        provider, price_provider = AZURE, "azure"
    return Endpoint(provider, price_provider, host, port, url)
