-- Rule 7: calls that were retried, rate-limited (429) or timed out, per service and model.
-- The list and text tests only run on calls that were retried or failed (a 429 or a timeout that
-- was not retried ended the call in an error), which keeps the scan of every call cheap.
WITH c AS (
    SELECT service_name, operation, {model} AS model, {tier} AS tier, span_id, start_time,
           status, duration_ms, cost_usd, input_tokens, cached_input_tokens, output_tokens,
           coalesce(attempts, 1) AS attempts, coalesce(retry_wait_ms, 0) AS retry_wait_ms,
           (coalesce(attempts, 1) > 1 OR status = 'error') AS suspect,
           ratelimit_remaining_requests < $low * ratelimit_limit_requests
               OR ratelimit_remaining_tokens < $low * ratelimit_limit_tokens AS low_headroom,
           attempt_statuses, attempt_durations_ms, http_status, error_code, error_type
    FROM calls
), t AS (
    SELECT *,
           CASE WHEN suspect THEN coalesce(
               list_sum(attempt_durations_ms[1:len(attempt_durations_ms) - 1]), 0) ELSE 0 END
               AS failed_attempts_ms,
           CASE WHEN suspect THEN coalesce(http_status = 429 OR error_code = 'rate_limit_exceeded'
               OR list_contains(attempt_statuses, '429'), false) ELSE false END AS rate_limited,
           CASE WHEN suspect THEN coalesce(error_type ILIKE '%timeout%'
               OR list_contains(attempt_statuses, 'timeout'), false) ELSE false END AS timed_out
    FROM c
), u AS (
    SELECT *, (attempts > 1 OR rate_limited OR timed_out) AS troubled FROM t
)
SELECT service_name, model, tier, min(operation) AS operation,
       count(*) AS all_calls,
       count(*) FILTER (WHERE troubled) AS calls,
       count(*) FILTER (WHERE attempts > 1) AS retried,
       coalesce(sum(attempts - 1), 0) AS extra_attempts,
       count(*) FILTER (WHERE rate_limited) AS rate_limited,
       count(*) FILTER (WHERE timed_out) AS timed_out,
       count(*) FILTER (WHERE low_headroom) AS low_headroom,
       count(*) FILTER (WHERE troubled AND status = 'error') AS failed,
       coalesce(sum(retry_wait_ms + failed_attempts_ms) FILTER (WHERE troubled AND status <> 'error'), 0)
           AS lost_in_retries_ms,
       coalesce(sum(duration_ms) FILTER (WHERE troubled AND status = 'error'), 0) AS lost_in_failures_ms,
       sum(input_tokens) FILTER (WHERE troubled AND status = 'error') AS failed_input_tokens,
       sum(cached_input_tokens) FILTER (WHERE troubled AND status = 'error') AS failed_cached_input_tokens,
       sum(output_tokens) FILTER (WHERE troubled AND status = 'error') AS failed_output_tokens,
       sum(cost_usd) FILTER (WHERE troubled) AS cost_usd,
       list(floor(epoch(start_time) / $storm_s)::BIGINT) FILTER (WHERE attempts > 1) AS retry_buckets,
       {examples} FILTER (WHERE troubled) AS examples
FROM u
GROUP BY ALL
