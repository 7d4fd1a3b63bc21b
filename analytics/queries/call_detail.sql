-- Every column of one call (by span id), with the span that made it (e.g. the request handler)
-- when that span is in the `spans` table. See call_attempts for its HTTP attempts.
-- @param span_id str: The call's span id (16 hex digits).
SELECT
    c.* EXCLUDE (key),
    parent.name AS parent_name,
    parent.http_route AS parent_route,
    parent.service_name AS parent_service
FROM calls_by('none') AS c
LEFT JOIN spans AS parent ON parent.trace_id = c.trace_id AND parent.span_id = c.parent_span_id
WHERE c.span_id = $span_id
ORDER BY c.start_time
