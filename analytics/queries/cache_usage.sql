-- Prompt-cache use by dimension: input tokens read from the cache versus billed in full, and how
-- many calls were long enough to be cached (OpenAI caches prompts of 1024 tokens or more).
-- @param by dimension = model: What to group by.
-- @param limit int = 50: At most this many rows.
SELECT
    key,
    count(*) AS calls,
    coalesce(sum(input_tokens), 0)::BIGINT AS input_tokens,
    coalesce(sum(cached_input_tokens), 0)::BIGINT AS cached_input_tokens,
    (coalesce(sum(input_tokens), 0) - coalesce(sum(cached_input_tokens), 0))::BIGINT AS uncached_input_tokens,
    sum(cached_input_tokens) / nullif(sum(input_tokens), 0) AS cached_share,
    count(*) FILTER (input_tokens >= 1024) AS cacheable_calls,
    count(*) FILTER (cached_input_tokens > 0) AS cache_hit_calls,
    usd_sum(cost_usd) AS cost_usd
FROM calls_by($by)
GROUP BY key
ORDER BY input_tokens DESC, key NULLS LAST
LIMIT $limit
