-- Rule 3: bursts of non-streamed calls with one prefix that no user request was waiting on.
WITH prompts AS (
    SELECT dim, service_name, prefix_hash
    FROM {dims}
    WHERE status = 'ok' AND prefix_hash IS NOT NULL AND operation IN ('chat', 'text_completion')
), c AS (
    SELECT prompts.service_name, prompts.prefix_hash, calls.dim, calls.span_key, calls.start_time,
           calls.input_tokens, calls.cached_input_tokens, calls.output_tokens, calls.cost_usd,
           floor(epoch(calls.start_time) / $burst_s)::BIGINT AS bucket
    FROM {calls} AS calls JOIN prompts USING (dim) LEFT JOIN {handlers} AS handlers USING (trace_key)
    WHERE calls.stream = false AND calls.input_tokens <= $max_input
      AND (handlers.trace_key IS NULL OR calls.offline_tag)
), bursts AS (
    SELECT service_name, prefix_hash, bucket FROM c GROUP BY ALL HAVING count(*) >= $min_calls
)
SELECT d.service_name, d.prefix_hash, d.model, d.tier, d.operation, g.* EXCLUDE (dim)
FROM (
    SELECT c.dim, count(*) AS calls, list(DISTINCT c.bucket) AS buckets,
           sum(c.input_tokens) AS input_tokens, sum(c.cached_input_tokens) AS cached_input_tokens,
           sum(c.output_tokens) AS output_tokens, sum(c.cost_usd) AS cost_usd,
           {examples} AS examples
    FROM c JOIN bursts AS b
      ON c.service_name IS NOT DISTINCT FROM b.service_name AND c.prefix_hash = b.prefix_hash
     AND c.bucket = b.bucket
    GROUP BY c.dim
) AS g JOIN {dims} AS d USING (dim)
