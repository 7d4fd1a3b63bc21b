-- Rule 1: calls that repeat an identical successful request of the same service soon after it.
-- Only requests seen more than once reach the (sorting) window function.
WITH repeated AS (
    SELECT request_key FROM {calls} WHERE request_key IS NOT NULL GROUP BY ALL HAVING count(*) > 1
), gaps AS (
    SELECT dim, request_key, span_key, start_time, input_tokens, cached_input_tokens, output_tokens,
           duration_ms, cost_usd, sampled,
           epoch(start_time) - lag(epoch(start_time)) OVER (
               PARTITION BY request_key ORDER BY start_time, span_key) AS gap_s
    FROM {calls}
    WHERE request_key IN (SELECT request_key FROM repeated)
), repeats AS MATERIALIZED (
    SELECT * FROM gaps WHERE gap_s <= $window_s
), top AS (
    -- The most repeated request of each group, named by its first repeat (of tied requests, the
    -- one repeated first: the same call on every run).
    SELECT dim, count(*) AS distinct_requests, max(n) AS top_repeats,
           arg_min(first_repeat, {{'n': -n, 'first': first_repeat}}) AS top_call
    FROM (SELECT dim, request_key, count(*) AS n,
                 min({{'start_time': start_time, 'span_key': span_key}}) AS first_repeat
          FROM repeats GROUP BY ALL)
    GROUP BY dim
), totals AS (
    SELECT dim,
           count(*) AS repeats,
           count(*) FILTER (WHERE sampled) AS sampled_repeats,
           sum(input_tokens) AS input_tokens, sum(cached_input_tokens) AS cached_input_tokens,
           sum(output_tokens) AS output_tokens, sum(duration_ms) AS duration_ms, sum(cost_usd) AS cost_usd,
           {examples} AS examples
    FROM repeats
    GROUP BY dim
)
SELECT d.service_name, d.operation, d.model, d.tier, totals.* EXCLUDE (dim), top.* EXCLUDE (dim)
FROM totals JOIN top USING (dim) JOIN {dims} AS d USING (dim)
