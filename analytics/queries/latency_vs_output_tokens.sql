-- A deterministic sample of calls with their output tokens and latency (scatter plots: how much
-- of the latency is generation). The same calls come back for the same data and filters.
-- @param limit int = 2000: Sample size.
SELECT
    span_id,
    trace_id,
    model,
    stream,
    status,
    output_tokens,
    duration_ms,
    ttft_ms,
    server_processing_ms
FROM calls_by('none')
WHERE output_tokens IS NOT NULL AND duration_ms IS NOT NULL
ORDER BY hash(span_id), span_id
LIMIT $limit
