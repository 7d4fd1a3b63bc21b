-- The calls as the suggestion rules read them: built once (three statements), then every rule
-- aggregates these narrow in-memory tables instead of decoding the Parquet columns again.
--
-- {dims}: each combination of the grouping columns seen, once, keyed by `dim` (their hash).
-- Strings repeat on millions of calls; a call stores only its `dim`. Grouping by the hash alone
-- is cheaper than a DISTINCT over the six strings.
CREATE OR REPLACE TEMP TABLE {dims} AS
SELECT
    {dim} AS dim, any_value(service_name) AS service_name, any_value(operation) AS operation,
    any_value(status) AS status, any_value({model}) AS model, any_value({tier}) AS tier,
    any_value(prefix_hash) AS prefix_hash
FROM calls
GROUP BY dim;

-- {calls}: one row per call. Besides the numbers the rules add up:
--   span_key       hash(span_id): which calls to name as examples (looked up again at the end)
--   request_key    hash(service_name, request_hash) of successful calls: repeated requests
--   sampled, uncapped, no_tools, single_input, cut: temperature > 0, no max output tokens, no
--                  tools offered, one embedding input, an answer cut by the length limit
--   attempts, retry_lost_ms, rate_limited, timed_out, low_headroom: the retry story; the lists
--                  are only opened for calls that were retried or failed
--   trace_key, offline_tag, interactive_tag: for successful non-streamed chat calls, whether
--                  somebody waited (joined with {handlers} below) or a tag says so
CREATE OR REPLACE TEMP TABLE {calls} AS
SELECT
    {dim} AS dim,
    start_time,
    hash(span_id) AS span_key,
    stream,
    input_tokens,
    cached_input_tokens,
    output_tokens,
    reasoning_tokens,
    duration_ms,
    cost_usd,
    ttft_ms,
    prefix_chars,
    CASE WHEN status = 'ok' AND request_hash IS NOT NULL THEN hash(service_name, request_hash) END
        AS request_key,
    temperature > 0 AS sampled,
    max_output_tokens IS NULL AS uncapped,
    coalesce(tool_count, 0) = 0 AS no_tools,
    input_messages = 1 AS single_input,
    coalesce(list_contains(finish_reasons, 'length'), false) AS cut,
    coalesce(attempts, 1) AS attempts,
    CASE WHEN coalesce(attempts, 1) > 1 OR status = 'error' THEN coalesce(retry_wait_ms, 0)
        + coalesce(list_sum(attempt_durations_ms[1:len(attempt_durations_ms) - 1]), 0) ELSE 0 END
        AS retry_lost_ms,
    CASE WHEN coalesce(attempts, 1) > 1 OR status = 'error' THEN coalesce(http_status = 429
        OR error_code = 'rate_limit_exceeded' OR list_contains(attempt_statuses, '429'), false)
        ELSE false END AS rate_limited,
    CASE WHEN coalesce(attempts, 1) > 1 OR status = 'error' THEN coalesce(error_type ILIKE '%timeout%'
        OR list_contains(attempt_statuses, 'timeout'), false) ELSE false END AS timed_out,
    coalesce(ratelimit_remaining_requests < $low_headroom * ratelimit_limit_requests
        OR ratelimit_remaining_tokens < $low_headroom * ratelimit_limit_tokens, false) AS low_headroom,
    CASE WHEN {waited_on} THEN hash(trace_id) END AS trace_key,
    CASE WHEN {waited_on} THEN {offline} END AS offline_tag,
    CASE WHEN {waited_on} THEN {interactive} END AS interactive_tag
FROM calls;

-- {handlers}: the traces of those calls that have a request-handler (server) span, with its route.
-- A semi-join: the server spans are filtered by the calls' trace keys, then grouped.
CREATE OR REPLACE TEMP TABLE {handlers} AS
SELECT hash(trace_id) AS trace_key, min(coalesce(http_route, name)) AS route
FROM spans
WHERE kind = 'server' AND trace_id IS NOT NULL
  AND hash(trace_id) IN (SELECT trace_key FROM {calls} WHERE trace_key IS NOT NULL)
GROUP BY ALL;
