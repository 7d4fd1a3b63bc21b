-- Rule 1: calls that repeat an identical successful request of the same service soon after it.
-- Only requests seen more than once reach the (sorting) window function.
WITH repeated AS (
    SELECT hash(service_name, request_hash) AS k
    FROM calls
    WHERE request_hash IS NOT NULL AND status = 'ok'
    GROUP BY ALL
    HAVING count(*) > 1
), ok AS (
    SELECT service_name, operation, {model} AS model, {tier} AS tier, request_hash, span_id, start_time,
           input_tokens, cached_input_tokens, output_tokens, duration_ms, cost_usd, temperature,
           epoch(start_time) - lag(epoch(start_time)) OVER (
               PARTITION BY service_name, request_hash ORDER BY start_time, span_id) AS gap_s
    FROM calls
    WHERE request_hash IS NOT NULL AND status = 'ok'
      AND hash(service_name, request_hash) IN (SELECT k FROM repeated)
)
SELECT service_name, model, tier,
       count(*) AS repeats,
       count(DISTINCT request_hash) AS distinct_requests,
       mode(request_hash) AS top_request_hash,
       count(*) FILTER (WHERE temperature > 0) AS sampled_repeats,
       min(operation) AS operation,
       sum(input_tokens) AS input_tokens, sum(cached_input_tokens) AS cached_input_tokens,
       sum(output_tokens) AS output_tokens, sum(duration_ms) AS duration_ms, sum(cost_usd) AS cost_usd,
       {examples} AS examples
FROM ok
WHERE gap_s <= $window_s
GROUP BY ALL
