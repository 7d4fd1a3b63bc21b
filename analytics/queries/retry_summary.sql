-- Retries by dimension: how often calls were retried, the attempts wasted, the time lost to
-- backoff and to failed attempts, and how many attempts were rate limited (429) or timed out.
-- @param by dimension = model: What to group by.
-- @param limit int = 50: At most this many rows.
SELECT
    key,
    count(*) AS calls,
    count(*) FILTER (attempts > 1) AS retried_calls,
    count(*) FILTER (attempts > 1) / count(*) AS retry_rate,
    coalesce(sum(attempts - 1) FILTER (attempts > 1), 0)::BIGINT AS extra_attempts,
    count(*) FILTER (attempts > 1 AND status = 'error') AS gave_up_calls,
    coalesce(sum(retry_wait_ms), 0) AS retry_wait_ms,
    coalesce(sum(list_sum(attempt_durations_ms) - attempt_durations_ms[-1]) FILTER (len(attempt_durations_ms) > 1), 0)
        AS failed_attempt_ms,
    quantile_cont(retry_wait_ms, 0.95) FILTER (attempts > 1) AS retry_wait_p95_ms,
    coalesce(sum(len(list_filter(attempt_statuses, lambda s: s = '429'))), 0)::BIGINT AS rate_limited_attempts,
    coalesce(sum(len(list_filter(attempt_statuses, lambda s: s = 'timeout'))), 0)::BIGINT AS timed_out_attempts
FROM calls_by($by)
GROUP BY key
ORDER BY retried_calls DESC, calls DESC, key NULLS LAST
LIMIT $limit
