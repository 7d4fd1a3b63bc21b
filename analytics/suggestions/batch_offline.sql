-- Rule 3: bursts of non-streamed calls with one prefix that no user request was waiting on.
WITH c AS (
    SELECT service_name, operation, {model} AS model, {tier} AS tier, prefix_hash, span_id, start_time,
           input_tokens, cached_input_tokens, output_tokens, cost_usd,
           floor(epoch(start_time) / $burst_s)::BIGINT AS bucket
    FROM calls LEFT JOIN {handled} AS handled USING (span_id)
    WHERE {where} AND (handled.span_id IS NULL OR {offline})
), bursts AS (
    SELECT service_name, prefix_hash, bucket FROM c GROUP BY ALL HAVING count(*) >= $min_calls
)
SELECT c.service_name, c.prefix_hash, c.model, c.tier,
       count(*) AS calls, list(DISTINCT c.bucket) AS buckets, min(c.operation) AS operation,
       sum(c.input_tokens) AS input_tokens, sum(c.cached_input_tokens) AS cached_input_tokens,
       sum(c.output_tokens) AS output_tokens, sum(c.cost_usd) AS cost_usd,
       {examples} AS examples
FROM c JOIN bursts AS b
  ON c.service_name IS NOT DISTINCT FROM b.service_name AND c.prefix_hash = b.prefix_hash
 AND c.bucket = b.bucket
GROUP BY ALL
