-- For each model name in the calls: the price book entry it resolves to (a dated snapshot maps to
-- its model) and today's standard prices in USD per 1M tokens; NULL prices when unknown.
-- @needs repricing
WITH seen AS (
    SELECT coalesce(response_model, request_model) AS model_name, count(*) AS calls
    FROM calls
    WHERE coalesce(response_model, request_model) IS NOT NULL
    GROUP BY ALL
)
SELECT
    seen.model_name,
    seen.calls,
    p.price_model,
    p.source AS price_source,
    p.input_mtok,
    p.cached_input_mtok,
    p.output_mtok,
    p.above_input_tokens
FROM seen
LEFT JOIN _model_prices AS p ON p.model = seen.model_name AND p.mode = 'standard'
ORDER BY seen.calls DESC, seen.model_name, p.above_input_tokens
