-- Spend by model, by service and by operation in one pass (GROUPING SETS): the report's cost
-- tables. `dimension` says which grouping a row belongs to; rows are most expensive first.
WITH g AS (
    SELECT
        CASE
            WHEN GROUPING(model) = 0 THEN 'model'
            WHEN GROUPING(service_name) = 0 THEN 'service'
            ELSE 'operation'
        END AS dimension,
        CASE
            WHEN GROUPING(model) = 0 THEN model
            WHEN GROUPING(service_name) = 0 THEN service_name
            ELSE operation
        END AS key,
        count(*) AS calls,
        usd_sum(cost_usd) AS cost_usd,
        coalesce(sum(input_tokens), 0)::BIGINT AS input_tokens,
        coalesce(sum(output_tokens), 0)::BIGINT AS output_tokens,
        coalesce(sum(cached_input_tokens), 0)::BIGINT AS cached_input_tokens,
        count(*) FILTER (status = 'error') AS error_calls,
        count(*) FILTER (cost_usd IS NULL) AS unpriced_calls
    FROM calls_by('none')
    GROUP BY GROUPING SETS ((model), (service_name), (operation))
)
SELECT
    dimension,
    key,
    calls,
    cost_usd,
    cost_usd / nullif(sum(cost_usd) OVER (PARTITION BY dimension), 0) AS cost_share,
    cost_usd / nullif(calls - unpriced_calls, 0) AS mean_cost_usd,
    input_tokens,
    output_tokens,
    cached_input_tokens,
    error_calls,
    error_calls / calls AS error_rate,
    unpriced_calls
FROM g
ORDER BY dimension, cost_usd DESC, calls DESC, key NULLS LAST
