-- Rule 5: classification-like calls (short input, very short answer, no tools) per prompt and model.
SELECT d.service_name, d.prefix_hash, d.model, d.tier, d.operation, g.* EXCLUDE (dim)
FROM (
    SELECT dim, count(*) AS all_calls, count(*) FILTER (WHERE small) AS calls,
           sum(input_tokens) FILTER (WHERE small) AS input_tokens,
           sum(cached_input_tokens) FILTER (WHERE small) AS cached_input_tokens,
           sum(output_tokens) FILTER (WHERE small) AS output_tokens,
           sum(cost_usd) FILTER (WHERE small) AS cost_usd,
           {examples} FILTER (WHERE small) AS examples
    FROM (
        SELECT *, (input_tokens <= $max_input AND output_tokens - coalesce(reasoning_tokens, 0) <= $max_output
                   AND no_tools) AS small
        FROM {calls}
        WHERE input_tokens IS NOT NULL AND output_tokens IS NOT NULL
          AND dim IN (SELECT dim FROM {dims} WHERE status = 'ok' AND operation IN ('chat', 'text_completion'))
    )
    GROUP BY dim
) AS g JOIN {dims} AS d USING (dim)
