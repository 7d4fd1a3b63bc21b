-- Spend, tokens and calls per time bucket and per value of a dimension (stacked-area charts).
-- @param bucket bucket = auto: Bucket width: second, minute, hour, day, week, month, or auto (from how long the calls span).
-- @param by dimension = model: What to split each bucket by.
SELECT
    date_trunc($bucket, start_time) AS bucket_start,
    key,
    count(*) AS calls,
    usd_sum(cost_usd) AS cost_usd,
    coalesce(sum(input_tokens), 0)::BIGINT AS input_tokens,
    coalesce(sum(output_tokens), 0)::BIGINT AS output_tokens,
    coalesce(sum(cached_input_tokens), 0)::BIGINT AS cached_input_tokens,
    count(*) FILTER (status = 'error') AS error_calls,
    count(*) FILTER (cost_usd IS NULL) AS unpriced_calls
FROM calls_by($by)
GROUP BY ALL
ORDER BY bucket_start, cost_usd DESC, key NULLS LAST
