-- Rate-limit headroom per time bucket and dimension: the lowest remaining requests and tokens the
-- API reported (x-ratelimit-remaining-*), as counts and as a share of the limit, and the calls
-- that hit a 429 on any attempt. Headroom near 0 before 429s means the app should pace itself.
-- @param bucket bucket = auto: Bucket width: second, minute, hour, day, week, month, or auto.
-- @param by dimension = model: What to split each bucket by.
SELECT
    date_trunc($bucket, start_time) AS bucket_start,
    key,
    count(*) AS calls,
    min(ratelimit_remaining_requests) AS min_remaining_requests,
    min(ratelimit_remaining_tokens) AS min_remaining_tokens,
    min(ratelimit_remaining_requests / nullif(ratelimit_limit_requests, 0)) AS min_request_headroom,
    min(ratelimit_remaining_tokens / nullif(ratelimit_limit_tokens, 0)) AS min_token_headroom,
    count(*) FILTER (http_status = 429 OR list_contains(attempt_statuses, '429')) AS rate_limited_calls
FROM calls_by($by)
GROUP BY ALL
ORDER BY bucket_start, key NULLS LAST
