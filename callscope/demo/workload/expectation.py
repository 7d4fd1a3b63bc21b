"""What a suggestion rule should report about the demo app: :class:`Expectation`, and where each pattern
is planted (:data:`PLANTED`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["BOUNDARY_S", "DESCRIPTIONS", "EXTRAPOLATION", "PLANTED", "TIMING_TOLERANCE", "Expectation"]

#: Where each rule's pattern is planted: rule id -> the part of the app that shows it.
PLANTED: Final[dict[str, str]] = {
    "cache-repeated-requests": "nightly-digest",
    "prompt-caching": "order-agent",
    "batch-api": "nightly-digest",
    "cap-output": "blog-writer",
    "right-size-model": "ticket-triage",
    "stream-interactive": "weekly-report",
    "retry-pressure": "catalog-retag",
    "trim-prompts": "support-chat",
    "batch-embeddings": "kb-indexer",
}
#: Relative tolerance on time savings (see the module docstring).
TIMING_TOLERANCE: Final = 0.15
#: A call starting this close (seconds) to a clock-aligned window boundary may land on either side.
BOUNDARY_S: Final = 0.01
#: Savings are extrapolated from the observed period (under a day for the demo) as if it were a day.
EXTRAPOLATION: Final = 30.0


@dataclass(frozen=True)
class Expectation:
    """What one rule should report about one part of the app (savings in the observed window)."""

    rule: str
    feature: str
    #: ``evidence.calls`` of the finding.
    calls: int
    saving_usd: float
    saving_ms: float
    #: Relative tolerance on ``saving_ms`` (0: no timing involved).
    ms_tolerance: float = 0.0
    #: Calls close enough to a window boundary to be counted on either side.
    ambiguous_calls: int = 0
    #: Entries of ``evidence.details`` that must match exactly.
    details: Mapping[str, Any] = field(default_factory=dict)
    #: How the pattern was planted, for people.
    description: str = ""

    @property
    def saving_usd_30d(self) -> float:
        return self.saving_usd * EXTRAPOLATION

    @property
    def saving_ms_30d(self) -> float:
        return self.saving_ms * EXTRAPOLATION


#: How each pattern is planted, in words.
DESCRIPTIONS: Final = {
    "cache-repeated-requests": "the nightly digest summarises some reopened tickets twice, verbatim",
    "prompt-caching": "the order agent's tool schemas change key order on every request",
    "batch-api": "the nightly digest sends many small non-streamed calls nobody waits for",
    "cap-output": "the blog writer sets no max_tokens; a few posts ramble on to the model's limit",
    "right-size-model": "ticket triage asks gpt-4o for a one-word category",
    "stream-interactive": "weekly reports are generated without streaming while a user waits",
    "retry-pressure": "the catalogue re-tag job bursts past a low requests-per-minute limit",
    "trim-prompts": "the support chat's ~2,000-token system prompt dominates its input",
    "batch-embeddings": "the indexer embeds one help-centre article per request",
}
