-- The most expensive (service, operation, model) combinations: where the money goes.
-- @param limit int = 10: At most this many rows.
WITH g AS (
    SELECT
        service_name,
        operation,
        model,
        count(*) AS calls,
        usd_sum(cost_usd) AS cost_usd,
        coalesce(sum(input_tokens), 0)::BIGINT AS input_tokens,
        coalesce(sum(output_tokens), 0)::BIGINT AS output_tokens,
        count(*) FILTER (cost_usd IS NULL) AS unpriced_calls
    FROM calls_by('none')
    GROUP BY ALL
)
SELECT
    service_name,
    operation,
    model,
    calls,
    cost_usd,
    cost_usd / nullif(sum(cost_usd) OVER (), 0) AS cost_share,
    cost_usd / nullif(calls - unpriced_calls, 0) AS mean_cost_usd,
    input_tokens,
    output_tokens,
    unpriced_calls
FROM g
ORDER BY cost_usd DESC, calls DESC, service_name NULLS LAST, operation NULLS LAST, model NULLS LAST
LIMIT $limit
