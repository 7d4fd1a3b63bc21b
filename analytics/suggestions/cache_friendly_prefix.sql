-- Rule 2: calls sharing a long prefix (model + instructions + tools) that the prompt cache did not serve.
-- Time is cut into windows of cache_window_minutes: in each window the first call with a prefix
-- warms the cache and the others could have read it. Two aggregations, no sort.
WITH c AS (
    SELECT service_name, operation, {model} AS model, {tier} AS tier, prefix_hash, span_id, start_time,
           cost_usd, cached_input_tokens,
           hash(service_name, prefix_hash, {model}, {tier}) AS k,
           floor(epoch(start_time) / $window_s)::BIGINT AS bucket,
           least(prefix_chars / $chars_per_token, input_tokens) AS prefix_tokens
    FROM calls
    WHERE prefix_hash IS NOT NULL AND prefix_chars IS NOT NULL AND input_tokens IS NOT NULL
      AND cached_input_tokens IS NOT NULL AND status = 'ok' AND operation IS DISTINCT FROM 'embeddings'
      AND prefix_chars >= $min_tokens * $chars_per_token AND input_tokens >= $min_tokens
), sized AS (
    SELECT *, floor(prefix_tokens / $step) * $step AS cacheable FROM c
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
), names AS (
    SELECT k, any_value(service_name) AS service_name, any_value(prefix_hash) AS prefix_hash,
           any_value(model) AS model, any_value(tier) AS tier, min(operation) AS operation,
           {examples} AS examples
    FROM sized
    WHERE k IN (SELECT k FROM per_key)
    GROUP BY k
)
SELECT names.*, per_key.calls, per_key.cacheable_tokens, per_key.cached_tokens, per_key.missed_tokens,
       per_key.prefix_tokens, per_key.cost_usd
FROM per_key JOIN names USING (k)
