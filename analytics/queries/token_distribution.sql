-- Input and output token percentiles per call by dimension (quantile_cont, as for latency),
-- with the cached-input and reasoning shares.
-- @param by dimension = model: What to group by.
-- @param limit int = 50: At most this many rows.
WITH g AS (
    SELECT
        key,
        count(*) AS calls,
        quantile_cont(input_tokens, [0.5, 0.9, 0.99]) AS i,
        quantile_cont(output_tokens, [0.5, 0.9, 0.99]) AS o,
        max(input_tokens) AS max_input_tokens,
        max(output_tokens) AS max_output_tokens,
        avg(input_tokens) AS mean_input_tokens,
        avg(output_tokens) AS mean_output_tokens,
        sum(cached_input_tokens) / nullif(sum(input_tokens), 0) AS cached_share,
        sum(reasoning_tokens) / nullif(sum(output_tokens), 0) AS reasoning_share,
        count(*) FILTER (list_contains(finish_reasons, 'length')) AS truncated_calls
    FROM calls_by($by)
    GROUP BY key
)
SELECT
    key,
    calls,
    i[1] AS input_p50,
    i[2] AS input_p90,
    i[3] AS input_p99,
    max_input_tokens,
    mean_input_tokens,
    o[1] AS output_p50,
    o[2] AS output_p90,
    o[3] AS output_p99,
    max_output_tokens,
    mean_output_tokens,
    cached_share,
    reasoning_share,
    truncated_calls
FROM g
ORDER BY calls DESC, key NULLS LAST
LIMIT $limit
