-- Spend, tokens and calls grouped by one dimension (model, service, operation, a tag key, ...),
-- most expensive first. A NULL key gathers the calls without a value (e.g. without that tag).
-- @param by dimension = model: What to group by.
-- @param limit int = 50: At most this many rows.
WITH g AS (
    SELECT
        key,
        count(*) AS calls,
        usd_sum(cost_usd) AS cost_usd,
        coalesce(sum(input_tokens), 0)::BIGINT AS input_tokens,
        coalesce(sum(output_tokens), 0)::BIGINT AS output_tokens,
        coalesce(sum(cached_input_tokens), 0)::BIGINT AS cached_input_tokens,
        count(*) FILTER (status = 'error') AS error_calls,
        count(*) FILTER (cost_usd IS NULL) AS unpriced_calls
    FROM calls_by($by)
    GROUP BY key
)
SELECT
    key,
    calls,
    cost_usd,
    cost_usd / nullif(sum(cost_usd) OVER (), 0) AS cost_share,
    cost_usd / nullif(calls - unpriced_calls, 0) AS mean_cost_usd,
    input_tokens,
    output_tokens,
    cached_input_tokens,
    error_calls,
    error_calls / calls AS error_rate,
    unpriced_calls
FROM g
ORDER BY cost_usd DESC, calls DESC, key NULLS LAST
LIMIT $limit
