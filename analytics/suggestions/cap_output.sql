-- Rule 4: uncapped calls whose output has a long tail above the cap their own p90 suggests.
WITH c AS (
    SELECT d.service_name, d.model, calls.dim, calls.span_key, calls.start_time, calls.output_tokens,
           calls.duration_ms, calls.cost_usd, calls.cut
    FROM {calls} AS calls JOIN {dims} AS d USING (dim)
    WHERE d.status = 'ok' AND d.operation IS DISTINCT FROM 'embeddings'
      AND calls.uncapped AND calls.output_tokens IS NOT NULL AND coalesce(calls.reasoning_tokens, 0) = 0
), caps AS (
    SELECT service_name, model, quantile_disc(output_tokens, $quantile) AS cap, count(*) AS uncapped_calls
    FROM c GROUP BY ALL HAVING count(*) >= $min_calls
)
SELECT d.service_name, d.model, d.tier, d.operation, g.* EXCLUDE (dim)
FROM (
    SELECT c.dim, caps.cap, caps.uncapped_calls,
           count(*) FILTER (WHERE c.output_tokens > caps.cap) AS calls_above_cap,
           count(*) FILTER (WHERE c.output_tokens > $tail_factor * caps.cap) AS tail_calls,
           count(*) FILTER (WHERE c.cut) AS truncated_calls,
           coalesce(sum(c.output_tokens - caps.cap) FILTER (WHERE c.output_tokens > caps.cap), 0)
               AS excess_tokens,
           coalesce(sum(c.duration_ms * (c.output_tokens - caps.cap) / c.output_tokens)
                    FILTER (WHERE c.output_tokens > caps.cap), 0) AS excess_ms,
           max(c.output_tokens) AS max_output_tokens,
           sum(c.cost_usd) FILTER (WHERE c.output_tokens > caps.cap) AS cost_usd,
           {examples} FILTER (WHERE c.output_tokens > caps.cap) AS examples
    FROM c JOIN caps ON c.service_name IS NOT DISTINCT FROM caps.service_name AND c.model = caps.model
    GROUP BY c.dim, caps.cap, caps.uncapped_calls
) AS g JOIN {dims} AS d USING (dim)
