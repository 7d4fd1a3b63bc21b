-- What the same calls would cost on another model, at today's standard prices and with the same
-- token counts (a first estimate: another model may tokenize or answer at a different length).
-- @param target str: The model to price the calls on, e.g. gpt-4.1-mini.
-- @param by dimension = model: What to group by.
-- @param limit int = 50: At most this many rows.
-- @needs repricing
WITH c AS (
    SELECT
        c.key,
        c.priced_usd AS current_usd,
        token_cost(
            c.input_tokens, c.cached_input_tokens, c.cache_write_tokens, c.output_tokens,
            t.input_mtok, t.cached_input_mtok, t.cache_write_mtok, t.output_mtok
        ) AS target_usd
    FROM priced_calls($by, 'standard') AS c
    LEFT JOIN _model_prices AS t
        ON t.model = $target
        AND t.mode = 'standard'
        AND coalesce(c.input_tokens, 0) > t.above_input_tokens
        AND coalesce(c.input_tokens, 0) <= t.up_to_input_tokens
)
SELECT
    key,
    $target AS target_model,
    count(*) AS calls,
    usd_sum(CASE WHEN target_usd IS NOT NULL THEN current_usd END) AS current_cost_usd,
    usd_sum(CASE WHEN current_usd IS NOT NULL THEN target_usd END) AS target_cost_usd,
    usd_sum(current_usd - target_usd) AS saving_usd,
    count(*) FILTER (current_usd IS NULL OR target_usd IS NULL) AS unpriced_calls
FROM c
GROUP BY key
ORDER BY saving_usd DESC, calls DESC, key NULLS LAST
LIMIT $limit
