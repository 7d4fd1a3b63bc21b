WITH c AS (
    SELECT service_name, operation, {model} AS model, {tier} AS tier, trace_id, span_id, start_time, tags,
           output_tokens, duration_ms, cost_usd, coalesce(list_contains(finish_reasons, 'length'), false) AS cut
    FROM calls
    WHERE status = 'ok' AND max_output_tokens IS NULL AND output_tokens IS NOT NULL
      AND coalesce(reasoning_tokens, 0) = 0 AND operation IS DISTINCT FROM 'embeddings'
), caps AS (
    SELECT service_name, model, quantile_disc(output_tokens, $quantile) AS cap, count(*) AS uncapped_calls
    FROM c GROUP BY ALL HAVING count(*) >= $min_calls
)
SELECT c.service_name, c.model, c.tier, caps.cap, caps.uncapped_calls, min(c.operation) AS operation,
       count(*) FILTER (WHERE c.output_tokens > caps.cap) AS calls_above_cap,
       count(*) FILTER (WHERE c.output_tokens > $tail_factor * caps.cap) AS tail_calls,
       count(*) FILTER (WHERE c.cut) AS truncated_calls,
       coalesce(sum(c.output_tokens - caps.cap) FILTER (WHERE c.output_tokens > caps.cap), 0) AS excess_tokens,
       coalesce(sum(c.duration_ms * (c.output_tokens - caps.cap) / c.output_tokens)
                FILTER (WHERE c.output_tokens > caps.cap), 0) AS excess_ms,
       max(c.output_tokens) AS max_output_tokens,
       sum(c.cost_usd) FILTER (WHERE c.output_tokens > caps.cap) AS cost_usd,
       {examples} FILTER (WHERE c.output_tokens > caps.cap) AS examples
FROM c JOIN caps ON c.service_name IS NOT DISTINCT FROM caps.service_name AND c.model = caps.model
GROUP BY ALL
