-- Rule 8: how much of each prompt's input is its fixed prefix (instructions and tools).
SELECT d.service_name, d.prefix_hash, d.model, d.tier, d.operation, g.* EXCLUDE (dim)
FROM (
    SELECT dim, count(*) AS calls,
           sum(prefix_tokens) AS prefix_tokens, sum(input_tokens) AS input_tokens,
           sum(least(coalesce(cached_input_tokens, 0), prefix_tokens)) AS cached_prefix_tokens,
           sum(cost_usd) AS cost_usd, {examples} AS examples
    FROM (
        SELECT *, least(prefix_chars / $chars_per_token, input_tokens) AS prefix_tokens
        FROM {calls}
        WHERE prefix_chars IS NOT NULL AND input_tokens > 0
          AND dim IN (SELECT dim FROM {dims} WHERE status = 'ok' AND prefix_hash IS NOT NULL
                                                   AND operation IS DISTINCT FROM 'embeddings')
    )
    GROUP BY dim
) AS g JOIN {dims} AS d USING (dim)
