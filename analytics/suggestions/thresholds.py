"""Every tunable of the suggestion rules, with its default and the reason for it.

The defaults are chosen so that a few hundred calls (the demo's size) already show a
planted pattern, while ordinary variation does not: each rule needs a minimum number of
calls showing the pattern, and a finding is only reported when its saving, extrapolated
to 30 days, reaches ``min_saving_usd_30d`` (or ``min_saving_ms_30d`` for rules that save
time but not money). ``docs/suggestions.md`` explains each one.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_SMALLER_MODELS", "Thresholds"]

#: Large model -> its smaller sibling, for "right-size the model" (canonical genai-prices ids).
DEFAULT_SMALLER_MODELS: tuple[tuple[str, str], ...] = (
    ("gpt-4o", "gpt-4o-mini"),
    ("gpt-4o-2024-05-13", "gpt-4o-mini"),
    ("chatgpt-4o-latest", "gpt-4o-mini"),
    ("gpt-4-turbo", "gpt-4o-mini"),
    ("gpt-4", "gpt-4o-mini"),
    ("gpt-4.1", "gpt-4.1-mini"),
    ("o1", "o3-mini"),
    ("o3", "o4-mini"),
    ("gpt-5", "gpt-5-mini"),
    ("gpt-5.1", "gpt-5-mini"),
    ("gpt-5.4", "gpt-5.4-mini"),
)


@dataclass(frozen=True)
class Thresholds:
    """Tunables of the rules. All token counts are per call unless they say otherwise."""

    # --- reporting (all rules) ---
    #: A finding must save at least this many USD per 30 days ...
    min_saving_usd_30d: float = 0.05
    #: ... or this much latency per 30 days, summed over the calls (1 minute).
    min_saving_ms_30d: float = 60_000.0
    #: A window shorter than this counts as this long when extrapolating to 30 days, so a
    #: ten-minute sample is not multiplied by 4,320 (conservative: it is taken as a day's traffic).
    min_extrapolation_days: float = 1.0
    #: At most this many findings per rule (the largest savings), so one rule cannot flood the report.
    max_findings_per_rule: int = 5
    #: Example calls (trace and span ids) named in each finding.
    example_count: int = 5

    # --- 1. cache repeated requests ---
    #: A call repeats an identical earlier one (same ``request_hash`` and service) at most this long before.
    repeat_window_hours: float = 24.0
    #: Repeats needed before the rule speaks.
    repeat_min_calls: int = 3

    # --- 2. make prompts cache-friendly ---
    #: OpenAI caches prompts from 1,024 tokens, in steps of 128 tokens.
    cache_min_prefix_tokens: int = 1024
    cache_increment_tokens: int = 128
    #: Characters per token used to estimate prefix tokens from ``prefix_chars`` (English text ≈ 4).
    chars_per_token: float = 4.0
    #: A call could have hit the cache when the same prefix (same model) was sent earlier in the
    #: same window of this length: in-memory prompt caches are kept for 5–10 minutes of inactivity.
    cache_window_minutes: float = 5.0
    #: Calls sharing the prefix that could have hit, before the rule speaks.
    cache_min_calls: int = 5
    #: "Few cached tokens": cached tokens below this share of what could have been cached.
    cache_max_hit_ratio: float = 0.5

    # --- 3. batch non-interactive traffic ---
    #: Calls of one service with one prefix within the same window of this length form a burst ...
    batch_burst_minutes: float = 10.0
    #: ... when there are at least this many of them.
    batch_min_burst_calls: int = 10
    #: "Small" calls: at most this many input tokens.
    batch_max_input_tokens: int = 32_000
    #: Tag keys that mark a call as background work with no user waiting (``tags(job="digest")``).
    offline_tags: tuple[str, ...] = ("batch", "nightly", "offline", "background", "cron", "job", "etl")

    # --- 4. cap output length ---
    #: The cap suggested is this quantile of the output tokens of uncapped calls.
    output_cap_quantile: float = 0.9
    #: Uncapped calls of one service and model needed to judge their output lengths.
    output_min_calls: int = 20
    #: A "long tail": at least ``output_tail_min_calls`` calls above ``output_tail_factor`` × the cap ...
    output_tail_factor: float = 2.0
    output_tail_min_calls: int = 2
    #: ... or at least this many calls cut by the model's own limit (``finish_reasons`` = length, no cap set).
    output_truncated_min_calls: int = 2

    # --- 5. right-size the model ---
    #: Classification-like calls: short inputs ...
    rightsize_max_input_tokens: int = 2_000
    #: ... and very short visible outputs (reasoning tokens excluded), with no tools offered.
    rightsize_max_output_tokens: int = 16
    #: Such calls needed for one prompt (prefix) ...
    rightsize_min_calls: int = 10
    #: ... and the share of that prompt's calls they make up.
    rightsize_min_share: float = 0.8
    #: Large model -> smaller sibling.
    smaller_models: tuple[tuple[str, str], ...] = DEFAULT_SMALLER_MODELS

    # --- 6. stream interactive calls ---
    #: Non-streaming calls from request handlers that took at least this long ...
    stream_min_duration_ms: float = 2_000.0
    #: ... and produced at least this many output tokens (short answers gain nothing from streaming).
    stream_min_output_tokens: int = 50
    stream_min_calls: int = 5
    #: Time to first token: the median of the same model's streamed calls when there are this many ...
    stream_min_ttft_samples: int = 5
    #: ... else this estimate.
    stream_default_ttft_ms: float = 1_000.0
    #: Tag keys that mark a call as made while a user waits (``tags(user=...)``).
    interactive_tags: tuple[str, ...] = ("interactive", "user", "user_id", "session", "session_id")

    # --- 7. back off and spread load ---
    #: Calls with retries, 429s or timeouts needed for one service and model ...
    retry_min_calls: int = 3
    #: ... and their share of its calls (a transient error now and then is normal).
    retry_min_share: float = 0.05
    #: Rate-limit headroom below this share of the limit counts as "low" (reported as detail).
    ratelimit_low_headroom: float = 0.1
    #: Retried calls are counted per window of this length to find storms (reported as detail).
    retry_storm_seconds: float = 60.0

    # --- 8. trim prompts ---
    #: The shared prefix (instructions + tools) is this share of the input tokens or more ...
    trim_min_prefix_share: float = 0.5
    #: ... and at least this many tokens long ...
    trim_min_prefix_tokens: int = 500
    #: ... over at least this many calls.
    trim_min_calls: int = 10
    #: Share of the prefix assumed removable by editing it (conservative; prompts often shrink more).
    trim_assumed_reduction: float = 0.25

    # --- 10. batch embeddings ---
    #: Single-input embedding calls of one service and model within a window of this length ...
    embed_burst_seconds: float = 60.0
    #: ... at least this many of them ...
    embed_min_burst_calls: int = 10
    #: ... could be sent as requests of this many inputs.
    embed_batch_size: int = 100
