-- For calls that hit a 429 on any attempt: the headroom the API had reported on the latest earlier
-- call of the same model (ASOF join), summarized by dimension. Low headroom before a 429 means
-- the limit was visible coming; high headroom means bursts (or another client) exhausted it.
-- @param by dimension = model: What to group by.
-- @param limit int = 50: At most this many rows.
WITH limited AS (
    SELECT key, model, start_time
    FROM calls_by($by)
    WHERE http_status = 429 OR list_contains(attempt_statuses, '429')
),
reports AS (
    SELECT
        model,
        start_time,
        ratelimit_remaining_requests / nullif(ratelimit_limit_requests, 0) AS request_headroom,
        ratelimit_remaining_tokens / nullif(ratelimit_limit_tokens, 0) AS token_headroom
    FROM calls_by('none')
    WHERE ratelimit_remaining_requests IS NOT NULL OR ratelimit_remaining_tokens IS NOT NULL
),
joined AS (
    SELECT limited.key, reports.request_headroom, reports.token_headroom
    FROM limited
    ASOF LEFT JOIN reports
        ON limited.model IS NOT DISTINCT FROM reports.model AND limited.start_time > reports.start_time
)
SELECT
    key,
    count(*) AS rate_limited_calls,
    count(*) FILTER (request_headroom IS NOT NULL OR token_headroom IS NOT NULL) AS with_earlier_report,
    median(request_headroom) AS median_request_headroom_before,
    min(request_headroom) AS min_request_headroom_before,
    median(token_headroom) AS median_token_headroom_before,
    min(token_headroom) AS min_token_headroom_before
FROM joined
GROUP BY key
ORDER BY rate_limited_calls DESC, key NULLS LAST
LIMIT $limit
