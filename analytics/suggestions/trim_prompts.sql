WITH c AS (
    SELECT service_name, operation, prefix_hash, {model} AS model, {tier} AS tier, trace_id, span_id,
           start_time, tags, input_tokens, cached_input_tokens, cost_usd,
           least(prefix_chars / $chars_per_token, input_tokens) AS prefix_tokens
    FROM calls
    WHERE status = 'ok' AND prefix_hash IS NOT NULL AND prefix_chars IS NOT NULL AND input_tokens > 0
      AND operation IS DISTINCT FROM 'embeddings'
)
SELECT service_name, prefix_hash, model, tier, min(operation) AS operation, count(*) AS calls,
       sum(prefix_tokens) AS prefix_tokens, sum(input_tokens) AS input_tokens,
       sum(least(coalesce(cached_input_tokens, 0), prefix_tokens)) AS cached_prefix_tokens,
       sum(cost_usd) AS cost_usd, {examples} AS examples
FROM c
GROUP BY ALL
