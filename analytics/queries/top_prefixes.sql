-- The stable prompt prefixes (instructions + tool definitions, by keyed hash) that cost the most,
-- with how much of their input the prompt cache already served.
-- @param limit int = 20: At most this many prefixes.
SELECT
    prefix_hash,
    count(*) AS calls,
    usd_sum(cost_usd) AS cost_usd,
    avg(prefix_chars) AS mean_prefix_chars,
    sum(prefix_chars) / nullif(sum(input_chars), 0) AS prefix_share_of_input,
    coalesce(sum(input_tokens), 0)::BIGINT AS input_tokens,
    coalesce(sum(cached_input_tokens), 0)::BIGINT AS cached_input_tokens,
    sum(cached_input_tokens) / nullif(sum(input_tokens), 0) AS cached_share,
    list_sort(list(DISTINCT service_name)) AS services,
    list_sort(list(DISTINCT model)) AS models,
    min(trace_id) AS example_trace_id
FROM calls_by('none')
WHERE prefix_hash IS NOT NULL
GROUP BY prefix_hash
ORDER BY cost_usd DESC, calls DESC, prefix_hash
LIMIT $limit
