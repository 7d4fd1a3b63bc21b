-- Spend as recorded (each call priced at its own time) next to the same calls re-priced with
-- today's price book (genai-prices plus your overrides), on the service tier each call ran on.
-- @param by dimension = model: What to group by.
-- @param limit int = 50: At most this many rows.
-- @needs repricing
SELECT
    key,
    count(*) AS calls,
    usd_sum(cost_usd) AS recorded_cost_usd,
    usd_sum(priced_usd) AS repriced_cost_usd,
    usd_sum(CASE WHEN cost_usd IS NOT NULL THEN priced_usd END)
        - usd_sum(CASE WHEN priced_usd IS NOT NULL THEN cost_usd END) AS change_usd,
    count(*) FILTER (cost_usd IS NULL) AS unpriced_recorded_calls,
    count(*) FILTER (priced_usd IS NULL) AS unpriced_calls,
    list_sort(list(DISTINCT price_model) FILTER (price_model IS NOT NULL)) AS price_models,
    list_sort(list(DISTINCT price_source) FILTER (price_source IS NOT NULL)) AS price_sources
FROM priced_calls($by, 'as_called')
GROUP BY key
ORDER BY repriced_cost_usd DESC, calls DESC, key NULLS LAST
LIMIT $limit
