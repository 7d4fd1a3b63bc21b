-- Every HTTP attempt by its outcome (200, 429, 500, timeout, connection_error, ...), including
-- the attempts the SDK retried before a call succeeded, which the final status hides.
WITH a AS (
    SELECT unnest(attempt_statuses) AS attempt_status, unnest(attempt_durations_ms) AS attempt_ms, span_id
    FROM calls
)
SELECT
    attempt_status,
    count(*) AS attempts,
    count(DISTINCT span_id) AS calls,
    count(*) / sum(count(*)) OVER () AS share_of_attempts,
    coalesce(sum(attempt_ms), 0) AS time_spent_ms
FROM a
WHERE attempt_status IS NOT NULL
GROUP BY attempt_status
ORDER BY attempts DESC, attempt_status
