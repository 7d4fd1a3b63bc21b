-- The HTTP attempts of one call (by span id): each attempt's outcome and duration, in order.
-- @param span_id str: The call's span id (16 hex digits).
SELECT
    unnest(range(1, greatest(len(attempt_statuses), len(attempt_durations_ms)) + 1)) AS attempt,
    unnest(attempt_statuses) AS status,
    unnest(attempt_durations_ms) AS duration_ms
FROM calls
WHERE span_id = $span_id
ORDER BY attempt
