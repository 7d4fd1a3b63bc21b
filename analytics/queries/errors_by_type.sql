-- Failed calls by exception type, API error code and final HTTP status, most frequent first,
-- with their share of all calls in scope and an example trace to look at.
-- @param limit int = 50: At most this many rows.
WITH total AS (SELECT count(*) AS calls FROM calls)
SELECT
    error_type,
    error_code,
    http_status,
    count(*) AS calls,
    count(*) / any_value(total.calls) AS share_of_calls,
    count(*) FILTER (attempts > 1) AS retried_calls,
    coalesce(sum(duration_ms), 0) AS time_spent_ms,
    min(start_time) AS first_seen,
    max(start_time) AS last_seen,
    list_sort(list(DISTINCT model)) AS models,
    min(trace_id) AS example_trace_id
FROM calls_by('none'), total
WHERE status = 'error'
GROUP BY error_type, error_code, http_status
ORDER BY calls DESC, error_type NULLS LAST, error_code NULLS LAST, http_status NULLS LAST
LIMIT $limit
