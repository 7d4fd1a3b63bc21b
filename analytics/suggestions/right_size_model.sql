WITH c AS (
    SELECT service_name, operation, prefix_hash, {model} AS model, {tier} AS tier, trace_id, span_id,
           start_time, tags, input_tokens, cached_input_tokens, output_tokens, cost_usd,
           (input_tokens <= $max_input
            AND output_tokens - coalesce(reasoning_tokens, 0) <= $max_output
            AND coalesce(tool_count, 0) = 0) AS small
    FROM calls
    WHERE status = 'ok' AND operation IN ('chat', 'text_completion')
      AND input_tokens IS NOT NULL AND output_tokens IS NOT NULL
)
SELECT service_name, prefix_hash, model, tier, min(operation) AS operation,
       count(*) AS all_calls, count(*) FILTER (WHERE small) AS calls,
       sum(input_tokens) FILTER (WHERE small) AS input_tokens,
       sum(cached_input_tokens) FILTER (WHERE small) AS cached_input_tokens,
       sum(output_tokens) FILTER (WHERE small) AS output_tokens,
       sum(cost_usd) FILTER (WHERE small) AS cost_usd,
       {examples} FILTER (WHERE small) AS examples
FROM c
GROUP BY ALL
