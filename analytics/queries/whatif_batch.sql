-- What the same calls would cost on the Batch API (results within 24 hours) at today's prices.
-- Streamed calls are counted apart: someone was waiting for them, so they are rarely batchable.
-- @param by dimension = service: What to group by.
-- @param limit int = 50: At most this many rows.
-- @needs repricing
WITH c AS (
    SELECT
        c.key,
        coalesce(c.stream, false) AS streamed,
        c.priced_usd AS standard_usd,
        token_cost(
            c.input_tokens, c.cached_input_tokens, c.cache_write_tokens, c.output_tokens,
            b.input_mtok, b.cached_input_mtok, b.cache_write_mtok, b.output_mtok
        ) AS batch_usd
    FROM priced_calls($by, 'standard') AS c
    LEFT JOIN _model_prices AS b
        ON b.model = coalesce(c.response_model, c.request_model)
        AND b.mode = 'batch'
        AND coalesce(c.input_tokens, 0) > b.above_input_tokens
        AND coalesce(c.input_tokens, 0) <= b.up_to_input_tokens
)
SELECT
    key,
    count(*) AS calls,
    count(*) FILTER (streamed) AS streamed_calls,
    usd_sum(CASE WHEN batch_usd IS NOT NULL THEN standard_usd END) AS standard_cost_usd,
    usd_sum(CASE WHEN standard_usd IS NOT NULL THEN batch_usd END) AS batch_cost_usd,
    usd_sum(standard_usd - batch_usd) AS saving_usd,
    usd_sum(CASE WHEN NOT streamed THEN standard_usd - batch_usd END) AS non_streamed_saving_usd,
    count(*) FILTER (standard_usd IS NULL OR batch_usd IS NULL) AS unpriced_calls
FROM c
GROUP BY key
ORDER BY saving_usd DESC, calls DESC, key NULLS LAST
LIMIT $limit
