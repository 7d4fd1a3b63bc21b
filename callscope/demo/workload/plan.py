"""How many calls each part of the demo app makes, and the simulator settings the workload relies on.

The sizes follow ``--calls``, with floors that keep every planted pattern above the threshold of the rule
that should find it (``docs/suggestions.md``), with a margin for a clock-aligned window that happens to
split a burst in two. Two sizes depend on the time scale, because two rules judge wall-clock time: weekly
reports are made long enough to take about 3.5 s (the "stream interactive calls" rule looks at calls over
2 s), and the indexer embeds enough articles for the round trips it could save to pass the rule's
one-minute-per-30-days bar.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any, Final

from callscope.demo.config import SimulatorConfig
from callscope.demo.errors import DemoError
from callscope.demo.profiles import DEFAULT_MODELS, ModelProfile

__all__ = ["DEFAULT_CALLS", "DEFAULT_TIME_SCALE", "MIN_CALLS", "MODELS", "Plan", "simulator_config"]

DEFAULT_CALLS: Final = 600
#: Five times faster than the API: the demo's slowest calls (4,096-token answers) take about 7 s.
DEFAULT_TIME_SCALE: Final = 0.2
MIN_CALLS: Final = 200
MIN_TIME_SCALE: Final = 0.02

#: The model each part of the app uses.
MODELS: Final = {
    "support-chat": "gpt-4o-mini",
    "weekly-report": "gpt-4o-mini",
    "nightly-digest": "gpt-4o-mini",
    "ticket-triage": "gpt-4o",
    "order-agent": "gpt-4.1-mini",
    "blog-writer": "gpt-3.5-turbo",
    "catalog-retag": "gpt-4.1-nano",
    "kb-indexer": "text-embedding-3-small",
}

#: The blog writer is a legacy service still on gpt-3.5-turbo, whose answers stop at 4,096 tokens.
GPT_35_TURBO: Final = ModelProfile(
    "gpt-3.5-turbo",
    "gpt-3.5-turbo-0125",
    ttft_ms=250,
    tokens_per_second=120,
    context_window=16_385,
    max_output_tokens=4_096,
    requests_per_minute=10_000,
    tokens_per_minute=2_000_000,
)

#: Wall-clock seconds a weekly report should take (the rule's bar is 2 s).
REPORT_TARGET_S: Final = 3.5
#: Time saved by batching the indexer's embeddings that the plan aims for (the rule's bar is 2 s).
INDEX_TARGET_MS: Final = 4_000.0
#: An embedding call's simulated time (network, queueing, model, in ms) and the client's own overhead.
_EMBED_SIMULATED_MS: Final = 105.0
_EMBED_CLIENT_MS: Final = 5.0


@dataclass(frozen=True)
class Plan:
    """Calls per part of the app. ``total`` is what the progress bar counts to."""

    seed: int
    time_scale: float
    chats: int
    reports: int
    report_tokens: int
    tickets: int
    agent_calls: int
    digests: int
    #: Of the digests, how many repeat an earlier one verbatim.
    digest_repeats: int
    posts: int
    #: Of the posts, how many ramble on until the model's 4,096-token limit.
    rambling_posts: int
    retags: int
    #: Requests per (simulated) minute the simulator allows on the re-tag job's model.
    retag_rpm: int
    articles: int

    @classmethod
    def for_size(
        cls, calls: int = DEFAULT_CALLS, *, seed: int = 0, time_scale: float = DEFAULT_TIME_SCALE
    ) -> Plan:
        if calls < MIN_CALLS:
            raise DemoError(f"--calls must be at least {MIN_CALLS}: fewer would not show every pattern")
        if not MIN_TIME_SCALE <= time_scale <= 1.0:
            raise DemoError(f"--time-scale must be between {MIN_TIME_SCALE} and 1 (1 = the API's own speed)")
        digests = max(38, round(0.17 * calls))
        posts = max(24, round(0.05 * calls))
        retags = max(30, round(0.12 * calls))
        speed = DEFAULT_MODELS[MODELS["weekly-report"]].tokens_per_second
        per_embedding_ms = _EMBED_SIMULATED_MS * time_scale + _EMBED_CLIENT_MS
        return cls(
            seed=seed,
            time_scale=time_scale,
            chats=max(60, round(0.25 * calls)),
            reports=max(6, round(0.015 * calls)),
            report_tokens=min(15_000, round(REPORT_TARGET_S / time_scale * speed)),
            tickets=max(16, round(0.12 * calls)),
            agent_calls=max(14, round(0.08 * calls)),
            digests=digests,
            # Enough repeats for their cost alone to pass the rule's bar, with a margin.
            digest_repeats=max(18, round(0.2 * digests)),
            posts=posts,
            # Fewer than 10 %: the suggested cap (the p90) must fall below the rambling posts.
            rambling_posts=max(2, math.floor(0.08 * posts)),
            retags=retags,
            retag_rpm=math.ceil(retags / 2),
            articles=max(40, round(0.195 * calls), math.ceil(INDEX_TARGET_MS / per_embedding_ms)),
        )

    def calls_by_feature(self) -> dict[str, int]:
        """Logical API calls each part of the app makes (retries inside the SDK not counted)."""
        return {
            "support-chat": self.chats,
            "ticket-triage": self.tickets,
            "order-agent": self.agent_calls,
            "weekly-report": self.reports,
            "nightly-digest": self.digests,
            "blog-writer": self.posts,
            "catalog-retag": self.retags,
            "kb-indexer": self.articles,
        }

    @property
    def total(self) -> int:
        return sum(self.calls_by_feature().values())

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "total": self.total}


def simulator_config(plan: Plan, *, port: int = 0) -> SimulatorConfig:
    """The simulator as the workload needs it: the plan's seed and speed, gpt-3.5-turbo known, and a low
    requests-per-minute limit on the re-tag job's model (and on no other), so that its burst meets 429s."""
    models = {**DEFAULT_MODELS, GPT_35_TURBO.name: GPT_35_TURBO}
    config = SimulatorConfig(port=port, seed=plan.seed, time_scale=plan.time_scale, models=models)
    config = config.with_rate_limit(MODELS["catalog-retag"], rpm=plan.retag_rpm)
    # No injected faults and no other limits: only the planted 429s may show up as trouble.
    return replace(config, request_log_size=max(config.request_log_size, 4 * plan.total))
