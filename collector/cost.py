"""Cost of a call from its token counts, for spans that arrive without one (peers, old versions).

The pricing itself is the instrumentation's :class:`PriceBook` (genai-prices
with a per model/provider/tier/day cache and exact linear arithmetic), so a
call costs the same whether the instrumentation or the collector priced it.
This module only maps the span's provider name to a genai-prices provider id.
Unknown models give ``None``: no cost, never 0.
"""

from __future__ import annotations

from typing import Final

from callscope.instrumentation.pricing import PriceBook

#: ``gen_ai.provider.name`` values -> genai-prices provider ids.
PROVIDER_IDS: Final[dict[str, str]] = {
    "openai": "openai",
    "azure.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "anthropic": "anthropic",
    "aws.bedrock": "aws",
    "gcp.gemini": "google",
    "gcp.vertex_ai": "google",
    "gcp.gen_ai": "google",
    "cohere": "cohere",
    "deepseek": "deepseek",
    "groq": "groq",
    "mistral_ai": "mistral",
    "perplexity": "perplexity",
    "x_ai": "x-ai",
    "moonshot_ai": "moonshotai",
}

_book = PriceBook()


def cost_usd(
    *,
    provider: str | None,
    model: str | None,
    start_us: int,
    input_tokens: int | None,
    output_tokens: int | None,
    cached_input_tokens: int | None = None,
    cache_write_tokens: int | None = None,
    service_tier: str | None = None,
) -> float | None:
    """USD cost of one call, or ``None`` when the model, its provider or its usage is unknown.

    Token counts follow the OTel conventions (and genai-prices): cached and
    cache-write tokens are part of ``input_tokens``.
    """
    if not model or (input_tokens is None and output_tokens is None):
        return None
    provider_id = PROVIDER_IDS.get(provider or "openai")
    if provider_id is None:
        return None
    inputs, cached, written = input_tokens or 0, cached_input_tokens or 0, cache_write_tokens or 0
    if cached + written > inputs:
        return None  # inconsistent counts (genai-prices refuses them)
    try:
        cost = _book.cost(
            model,
            provider_id,
            service_tier=service_tier,
            when_ns=start_us * 1000,
            input_tokens=inputs,
            cached_tokens=cached,
            cache_write_tokens=written,
            output_tokens=output_tokens or 0,
        )
    except (LookupError, ValueError):
        return None
    return None if cost is None else cost.total
