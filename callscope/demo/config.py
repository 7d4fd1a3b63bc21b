"""The simulator's settings.

Every duration here is *simulated*: the server multiplies it by ``time_scale`` before sleeping, so
``time_scale=0.05`` runs twenty times faster than the API while keeping every ratio (TTFT against generation,
network against processing, rate-limit windows against request spacing). What the server *reports*
(``openai-processing-ms``, ``x-ratelimit-reset-*``, ``retry-after``) is wall-clock time, consistent with what
the client measures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from callscope.demo.errors import SimulatorConfigError
from callscope.demo.profiles import DEFAULT_MODELS, ModelProfile, with_limits

__all__ = ["FAULT_HEADER", "OUTPUT_TOKENS_HEADER", "FaultRates", "SimulatorConfig"]

#: Request header forcing a fault on one call: ``500``, ``503``, ``429``, ``slow``, ``cut_stream`` or
#: ``disconnect``, optionally ``;attempts=N`` to hit only the first N attempts (counted by the SDK's
#: ``x-stainless-retry-count``), so the SDK's retry then succeeds. This is how a workload plants a known
#: pattern.
FAULT_HEADER = "x-simulator-fault"
#: Request header fixing how many tokens the simulated model wants to answer with (before any cap).
OUTPUT_TOKENS_HEADER = "x-simulator-output-tokens"


@dataclass(frozen=True)
class FaultRates:
    """Chance (0 to 1) that a request meets each fault, decided by the seeded per-request RNG.

    The rates add up to at most 1: one draw picks at most one fault per attempt.
    """

    #: 500 ``server_error``.
    server_error: float = 0.0
    #: 503 "engine overloaded".
    overloaded: float = 0.0
    #: Stall ``slow_seconds`` before answering (trips a client timeout shorter than that).
    slow: float = 0.0
    #: Streams only: close the connection part-way through, before ``[DONE]`` / ``response.completed``.
    cut_stream: float = 0.0
    #: Close the connection without answering (the SDK retries it as a connection error).
    disconnect: float = 0.0
    #: How long a slow answer stalls, in simulated seconds.
    slow_seconds: float = 60.0

    def __post_init__(self) -> None:
        rates = (self.server_error, self.overloaded, self.slow, self.cut_stream, self.disconnect)
        if any(not 0.0 <= rate <= 1.0 for rate in rates) or sum(rates) > 1.0 + 1e-9:
            raise SimulatorConfigError(f"fault rates must be in [0, 1] and add up to at most 1: {self}")
        if self.slow_seconds < 0:
            raise SimulatorConfigError("slow_seconds must not be negative")


@dataclass(frozen=True)
class SimulatorConfig:
    """Everything the simulator can be told. The defaults behave like a healthy API."""

    host: str = "127.0.0.1"
    #: 0 picks a free port.
    port: int = 0
    #: Same inputs and seed give the same texts, ids, token counts and fault decisions.
    seed: int = 0
    #: Wall-clock seconds per simulated second (0.05 = 20x faster than the API).
    time_scale: float = 1.0
    #: Known models by name (dated snapshots are found through each profile's names).
    models: Mapping[str, ModelProfile] = field(default_factory=lambda: dict(DEFAULT_MODELS))
    #: Round trip between client and API in simulated ms: seen by the client, not in openai-processing-ms.
    network_ms: float = 40.0
    #: Mean server-side queueing in simulated ms (exponentially distributed), part of openai-processing-ms.
    queue_ms: float = 25.0
    #: Spread of TTFT and generation speed between requests (sigma of a lognormal factor).
    jitter: float = 0.15
    #: Fault rates for every model...
    faults: FaultRates = field(default_factory=FaultRates)
    #: ...unless a model has its own here.
    model_faults: Mapping[str, FaultRates] = field(default_factory=dict)
    #: Send ``retry-after-ms`` with injected 500/503s (simulated seconds, scaled like every duration) so the
    #: SDK's retry waits shrink with ``time_scale``. None sends none, as the API does: the SDK then backs off
    #: 0.5 s, 1 s, 2 s... of wall-clock time.
    server_error_retry_after_s: float | None = None
    #: Enforce each profile's requests/tokens per minute (429 ``rate_limit_exceeded`` when dry).
    rate_limits: bool = True
    #: Total tokens the account may use; past it every request gets 429 ``insufficient_quota``.
    quota_tokens: int | None = None
    #: How long (simulated seconds) an unused cached prefix survives.
    prompt_cache_ttl_s: float = 300.0
    #: Accepted API keys; None accepts any ``Authorization: Bearer`` key (a missing one is still a 401).
    api_keys: frozenset[str] | None = None
    organization: str = "user-callscope-demo"
    #: How many recent requests ``Simulator.requests()`` keeps.
    request_log_size: int = 100_000
    #: Count with the real o200k_base vocabulary when bpe-openai is installed (else the approximation).
    exact_tokens: bool = True

    def __post_init__(self) -> None:
        if not (self.time_scale > 0 and math.isfinite(self.time_scale)):
            raise SimulatorConfigError(f"time_scale must be a finite number > 0, not {self.time_scale}")
        if not 0 <= self.port <= 65535:
            raise SimulatorConfigError(f"port must be between 0 and 65535, not {self.port}")
        if min(self.network_ms, self.queue_ms, self.jitter, self.prompt_cache_ttl_s) < 0:
            raise SimulatorConfigError("network_ms, queue_ms, jitter and prompt_cache_ttl_s must be >= 0")
        unknown = set(self.model_faults) - set(self.models)
        if unknown:
            raise SimulatorConfigError(f"model_faults names unknown models: {', '.join(sorted(unknown))}")
        if self.server_error_retry_after_s is not None and self.server_error_retry_after_s < 0:
            raise SimulatorConfigError("server_error_retry_after_s must be >= 0")
        if self.quota_tokens is not None and self.quota_tokens < 0:
            raise SimulatorConfigError("quota_tokens must be >= 0")

    def faults_for(self, model: str) -> FaultRates:
        """The fault rates that apply to ``model`` (a profile name)."""
        return self.model_faults.get(model, self.faults)

    def with_rate_limit(
        self, model: str, *, rpm: int | None = None, tpm: int | None = None
    ) -> SimulatorConfig:
        """A copy where ``model`` allows ``rpm`` requests and ``tpm`` tokens per simulated minute."""
        if model not in self.models:
            raise SimulatorConfigError(f"unknown model {model!r}")
        models = dict(self.models)
        models[model] = with_limits(models[model], rpm=rpm, tpm=tpm)
        return replace(self, models=models)
