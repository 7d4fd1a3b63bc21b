-- Errors per time bucket split by a dimension (error_type or http_status, typically), with the
-- bucket's total calls and error rate.
-- @param bucket bucket = auto: Bucket width: second, minute, hour, day, week, month, or auto.
-- @param by dimension = error_type: What to split the errors by.
WITH b AS (
    SELECT date_trunc($bucket, start_time) AS bucket_start, key, status = 'error' AS failed
    FROM calls_by($by)
),
totals AS (
    SELECT bucket_start, count(*) AS bucket_calls FROM b GROUP BY bucket_start
)
SELECT
    e.bucket_start,
    e.key,
    e.error_calls,
    totals.bucket_calls,
    e.error_calls / totals.bucket_calls AS error_rate
FROM (
    SELECT bucket_start, key, count(*) AS error_calls FROM b WHERE failed GROUP BY ALL
) AS e
JOIN totals USING (bucket_start)
ORDER BY e.bucket_start, e.error_calls DESC, e.key NULLS LAST
