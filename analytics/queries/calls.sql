-- The calls themselves, one row each, for a paginated table: newest first, or most expensive,
-- slowest or largest first. Use call_detail for every column of one call.
-- @param order choice(newest|oldest|cost|duration|tokens) = newest: Sort order.
-- @param limit int = 50: Rows per page.
-- @param offset int = 0: Rows to skip (page * limit).
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
    stream,
    finish_reasons,
    tags
FROM calls_by('none')
ORDER BY
    CASE WHEN $order = 'cost' THEN cost_usd END DESC NULLS LAST,
    CASE WHEN $order = 'duration' THEN duration_ms END DESC NULLS LAST,
    CASE WHEN $order = 'tokens' THEN coalesce(input_tokens, 0) + coalesce(output_tokens, 0) END DESC NULLS LAST,
    CASE WHEN $order = 'oldest' THEN start_time END ASC,
    start_time DESC,
    span_id
LIMIT $limit
OFFSET $offset
