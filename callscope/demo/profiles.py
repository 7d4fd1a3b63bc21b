"""How each simulated model behaves: speed, answer lengths, limits.

Times are in *simulated* milliseconds and rates in tokens per *simulated* second; the simulator's
``time_scale`` turns them into wall-clock time. Defaults are ballpark figures for the public API on a
normal day (gpt-4o streams 60-90 tokens/s, gpt-4o-mini faster, o-series models think before the first
visible token), not measurements of any account.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Literal

__all__ = ["DEFAULT_MODELS", "ModelProfile", "profile_table", "with_limits"]


@dataclass(frozen=True)
class ModelProfile:
    """One model's behaviour. ``name`` is what clients ask for; ``snapshot`` is what responses report."""

    name: str
    snapshot: str
    kind: Literal["chat", "embedding"] = "chat"
    #: Other names that select this profile (dated snapshots).
    aliases: tuple[str, ...] = ()

    # Timing. TTFT = ttft_ms + prefill of uncached input (+ reasoning), then tokens at tokens_per_second.
    ttft_ms: float = 300.0
    tokens_per_second: float = 75.0
    prefill_tokens_per_second: float = 20_000.0
    #: Cached input is prefilled this many times faster (part of why prompt caching cuts latency).
    cached_prefill_speedup: float = 8.0

    # Answer lengths when the request does not say (lognormal around the median, in tokens).
    output_tokens_median: int = 120
    output_tokens_sigma: float = 0.8
    #: o-series and gpt-5: hidden reasoning tokens before the answer (0 = not a reasoning model).
    reasoning_tokens_median: int = 0
    #: Chance that the model calls a tool when tools are offered with tool_choice="auto".
    tool_call_rate: float = 0.5

    # Limits the API enforces.
    context_window: int = 128_000
    max_output_tokens: int = 16_384
    #: Rate limits per simulated minute (a token bucket refilling continuously).
    requests_per_minute: int = 5_000
    tokens_per_minute: int = 2_000_000

    # Embeddings.
    embedding_dimensions: int = 0
    #: Whether the ``dimensions`` parameter is accepted (text-embedding-3-*, not ada-002).
    flexible_dimensions: bool = True

    @property
    def reasoning(self) -> bool:
        """A reasoning model: hidden reasoning tokens, ``max_completion_tokens`` instead of ``max_tokens``."""
        return self.reasoning_tokens_median > 0

    def names(self) -> tuple[str, ...]:
        return (self.name, self.snapshot, *self.aliases)


_CHAT = [
    ModelProfile("gpt-4o", "gpt-4o-2024-08-06", aliases=("gpt-4o-2024-11-20", "chatgpt-4o-latest"),
                 ttft_ms=380, tokens_per_second=75, requests_per_minute=5_000, tokens_per_minute=800_000),
    ModelProfile("gpt-4o-mini", "gpt-4o-mini-2024-07-18", ttft_ms=260, tokens_per_second=115,
                 prefill_tokens_per_second=40_000, tokens_per_minute=4_000_000),
    ModelProfile("gpt-4.1", "gpt-4.1-2025-04-14", ttft_ms=400, tokens_per_second=80,
                 context_window=1_047_576, max_output_tokens=32_768, tokens_per_minute=800_000),
    ModelProfile("gpt-4.1-mini", "gpt-4.1-mini-2025-04-14", ttft_ms=280, tokens_per_second=120,
                 prefill_tokens_per_second=40_000, context_window=1_047_576, max_output_tokens=32_768,
                 tokens_per_minute=4_000_000),
    ModelProfile("gpt-4.1-nano", "gpt-4.1-nano-2025-04-14", ttft_ms=200, tokens_per_second=180,
                 prefill_tokens_per_second=60_000, context_window=1_047_576, max_output_tokens=32_768,
                 tokens_per_minute=4_000_000),
    ModelProfile("o3", "o3-2025-04-16", ttft_ms=450, tokens_per_second=90, reasoning_tokens_median=700,
                 context_window=200_000, max_output_tokens=100_000, tokens_per_minute=800_000),
    ModelProfile("o4-mini", "o4-mini-2025-04-16", ttft_ms=350, tokens_per_second=140,
                 reasoning_tokens_median=450, context_window=200_000, max_output_tokens=100_000,
                 tokens_per_minute=4_000_000),
    ModelProfile("gpt-5", "gpt-5-2025-08-07", ttft_ms=500, tokens_per_second=70, reasoning_tokens_median=800,
                 context_window=400_000, max_output_tokens=128_000, tokens_per_minute=800_000),
    ModelProfile("gpt-5-mini", "gpt-5-mini-2025-08-07", ttft_ms=350, tokens_per_second=110,
                 reasoning_tokens_median=400, context_window=400_000, max_output_tokens=128_000,
                 tokens_per_minute=4_000_000),
]  # fmt: skip

_EMBEDDINGS = [
    ModelProfile("text-embedding-3-small", "text-embedding-3-small", kind="embedding", ttft_ms=40,
                 prefill_tokens_per_second=400_000, context_window=8_191, max_output_tokens=0,
                 embedding_dimensions=1_536, requests_per_minute=5_000, tokens_per_minute=5_000_000),
    ModelProfile("text-embedding-3-large", "text-embedding-3-large", kind="embedding", ttft_ms=60,
                 prefill_tokens_per_second=250_000, context_window=8_191, max_output_tokens=0,
                 embedding_dimensions=3_072, requests_per_minute=5_000, tokens_per_minute=5_000_000),
    ModelProfile("text-embedding-ada-002", "text-embedding-ada-002", kind="embedding", ttft_ms=50,
                 prefill_tokens_per_second=300_000, context_window=8_191, max_output_tokens=0,
                 embedding_dimensions=1_536, flexible_dimensions=False, requests_per_minute=5_000,
                 tokens_per_minute=5_000_000),
]  # fmt: skip


def profile_table(profiles: Iterable[ModelProfile]) -> dict[str, ModelProfile]:
    """Index profiles by every name they answer to."""
    table: dict[str, ModelProfile] = {}
    for profile in profiles:
        for name in profile.names():
            table[name] = profile
    return table


#: The models the simulator knows, by ``name``. Override or extend through ``SimulatorConfig.models``.
DEFAULT_MODELS: Mapping[str, ModelProfile] = MappingProxyType({p.name: p for p in (*_CHAT, *_EMBEDDINGS)})


def with_limits(profile: ModelProfile, *, rpm: int | None = None, tpm: int | None = None) -> ModelProfile:
    """A copy of ``profile`` with other rate limits (a convenience for planting 429s)."""
    return replace(
        profile,
        requests_per_minute=profile.requests_per_minute if rpm is None else rpm,
        tokens_per_minute=profile.tokens_per_minute if tpm is None else tpm,
    )
