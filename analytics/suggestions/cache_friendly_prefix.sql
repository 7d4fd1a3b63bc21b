-- Rule 2: calls sharing a long prefix (model + instructions + tools) that the prompt cache did not serve.
-- Time is cut into windows of cache_window_minutes: in each window the first call with a prefix
-- warms the cache and the others could have read it. Two aggregations, no sort.
WITH prompts AS (
    SELECT dim, hash(service_name, prefix_hash, model, tier) AS k
    FROM {dims}
    WHERE prefix_hash IS NOT NULL AND status = 'ok' AND operation IS DISTINCT FROM 'embeddings'
), sized AS (
    SELECT *, floor(prefix_tokens / $step) * $step AS cacheable
    FROM (
        SELECT prompts.k, c.dim, c.span_key, c.start_time, c.cost_usd, c.cached_input_tokens,
               floor(epoch(c.start_time) / $window_s)::BIGINT AS bucket,
               least(c.prefix_chars / $chars_per_token, c.input_tokens) AS prefix_tokens
        FROM {calls} AS c JOIN prompts USING (dim)
        WHERE c.prefix_chars IS NOT NULL AND c.input_tokens IS NOT NULL AND c.cached_input_tokens IS NOT NULL
          AND c.prefix_chars >= $min_tokens * $chars_per_token AND c.input_tokens >= $min_tokens
    )
), windows AS (
    SELECT k, bucket, count(*) AS n,
           sum(cacheable) AS cacheable, sum(cached_input_tokens) AS cached, sum(prefix_tokens) AS prefix_tokens,
           sum(greatest(cacheable - cached_input_tokens, 0)) AS missed, sum(cost_usd) AS cost_usd,
           arg_min({{'cacheable': cacheable, 'cached': cached_input_tokens, 'prefix_tokens': prefix_tokens,
                    'missed': greatest(cacheable - cached_input_tokens, 0), 'cost_usd': cost_usd}},
                   start_time) AS first
    FROM sized
    GROUP BY k, bucket
    HAVING count(*) > 1
), per_key AS (
    SELECT k, sum(n - 1) AS calls,
           sum(cacheable - first.cacheable) AS cacheable_tokens, sum(cached - first.cached) AS cached_tokens,
           sum(missed - first.missed) AS missed_tokens, sum(prefix_tokens - first.prefix_tokens) AS prefix_tokens,
           sum(coalesce(cost_usd, 0) - coalesce(first.cost_usd, 0)) AS cost_usd
    FROM windows
    GROUP BY k
), named AS (
    SELECT k, {examples} AS examples, list(DISTINCT dim) AS dims
    FROM sized WHERE k IN (SELECT k FROM per_key) GROUP BY k
), names AS (
    SELECT k, any_value(examples) AS examples, any_value(d.service_name) AS service_name,
           any_value(d.prefix_hash) AS prefix_hash, any_value(d.model) AS model, any_value(d.tier) AS tier,
           min(d.operation) AS operation
    FROM (SELECT k, examples, unnest(dims) AS dim FROM named) JOIN {dims} AS d USING (dim)
    GROUP BY k
)
SELECT names.* EXCLUDE (k), per_key.* EXCLUDE (k)
FROM per_key JOIN names USING (k)
