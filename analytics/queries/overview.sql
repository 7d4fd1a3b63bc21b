-- The headline figures of the window: calls, errors, retries, tokens, cost and latency
-- percentiles, with the same figures for the previous window of equal length (prev_* columns).
-- @compare previous
WITH t AS (
    SELECT
        count(*) AS calls,
        count(*) FILTER (status = 'error') AS error_calls,
        count(*) FILTER (status = 'incomplete') AS incomplete_calls,
        count(*) FILTER (attempts > 1) AS retried_calls,
        count(*) FILTER (http_status = 429 OR list_contains(attempt_statuses, '429')) AS rate_limited_calls,
        count(*) FILTER (stream) AS streamed_calls,
        coalesce(sum(attempts), 0)::BIGINT AS attempts,
        coalesce(sum(retry_wait_ms), 0) AS retry_wait_ms,
        coalesce(sum(input_tokens), 0)::BIGINT AS input_tokens,
        coalesce(sum(output_tokens), 0)::BIGINT AS output_tokens,
        coalesce(sum(cached_input_tokens), 0)::BIGINT AS cached_input_tokens,
        coalesce(sum(reasoning_tokens), 0)::BIGINT AS reasoning_tokens,
        usd_sum(cost_usd) AS cost_usd,
        count(*) FILTER (cost_usd IS NULL) AS unpriced_calls,
        quantile_cont(duration_ms, [0.5, 0.95, 0.99]) AS duration_q,
        avg(duration_ms) AS mean_ms,
        quantile_cont(ttft_ms, [0.5, 0.95, 0.99]) AS ttft_q,
        min(start_time) AS first_call,
        max(start_time) AS last_call
    FROM calls
)
SELECT
    calls,
    error_calls,
    error_calls / nullif(calls, 0) AS error_rate,
    incomplete_calls,
    retried_calls,
    retried_calls / nullif(calls, 0) AS retry_rate,
    rate_limited_calls,
    streamed_calls,
    attempts,
    retry_wait_ms,
    input_tokens,
    output_tokens,
    cached_input_tokens,
    reasoning_tokens,
    cost_usd,
    cost_usd / nullif(calls - unpriced_calls, 0) AS mean_cost_usd,
    unpriced_calls,
    duration_q[1] AS p50_ms,
    duration_q[2] AS p95_ms,
    duration_q[3] AS p99_ms,
    mean_ms,
    ttft_q[1] AS ttft_p50_ms,
    ttft_q[2] AS ttft_p95_ms,
    ttft_q[3] AS ttft_p99_ms,
    first_call,
    last_call
FROM t
