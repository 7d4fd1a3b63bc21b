-- The calls the explorer lists, one row each (the `calls` query's columns), optionally only some:
-- given span ids (a suggestion's sample calls), one trace, one request hash (identical requests)
-- or one prompt-prefix hash; `*` means any. `matching_calls` counts every match, for paging.
-- @param span_ids str = *: Comma-separated span ids, or * for any.
-- @param trace_id str = *: A trace id, or * for any.
-- @param request_hash str = *: A request hash, or * for any.
-- @param prefix_hash str = *: A prompt-prefix hash, or * for any.
-- @param order choice(newest|oldest|cost|duration|tokens) = newest: Sort order.
-- @param limit int = 50: Rows per page.
-- @param offset int = 0: Rows to skip (page * limit).
WITH selected AS (
    SELECT *
    FROM calls_by('none')
    WHERE ($span_ids = '*' OR list_contains(string_split($span_ids, ','), span_id))
        AND ($trace_id = '*' OR trace_id = $trace_id)
        AND ($request_hash = '*' OR request_hash = $request_hash)
        AND ($prefix_hash = '*' OR prefix_hash = $prefix_hash)
)
SELECT
    start_time,
    span_id,
    trace_id,
    service_name,
    operation,
    model,
    status,
    error_type,
    http_status,
    duration_ms,
    ttft_ms,
    input_tokens,
    output_tokens,
    cached_input_tokens,
    cost_usd,
    attempts,
    retry_wait_ms,
    stream,
    finish_reasons,
    tags,
    (SELECT count(*) FROM selected) AS matching_calls
FROM selected
ORDER BY
    CASE WHEN $order = 'cost' THEN cost_usd END DESC NULLS LAST,
    CASE WHEN $order = 'duration' THEN duration_ms END DESC NULLS LAST,
    CASE WHEN $order = 'tokens' THEN coalesce(input_tokens, 0) + coalesce(output_tokens, 0) END DESC NULLS LAST,
    CASE WHEN $order = 'oldest' THEN start_time END ASC,
    start_time DESC,
    span_id
LIMIT $limit
OFFSET $offset
