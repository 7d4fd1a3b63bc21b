-- Latency percentiles per time bucket (and per value of a dimension; `none` for one line).
-- @param bucket bucket = auto: Bucket width: second, minute, hour, day, week, month, or auto.
-- @param by dimension = none: What to split each bucket by.
WITH g AS (
    SELECT
        date_trunc($bucket, start_time) AS bucket_start,
        key,
        count(*) AS calls,
        quantile_cont(duration_ms, [0.5, 0.95, 0.99]) AS d,
        quantile_cont(ttft_ms, [0.5, 0.95]) AS t,
        quantile_cont(server_processing_ms, [0.5, 0.95]) AS s
    FROM calls_by($by)
    GROUP BY ALL
)
SELECT
    bucket_start,
    key,
    calls,
    d[1] AS p50_ms,
    d[2] AS p95_ms,
    d[3] AS p99_ms,
    t[1] AS ttft_p50_ms,
    t[2] AS ttft_p95_ms,
    s[1] AS server_p50_ms,
    s[2] AS server_p95_ms
FROM g
ORDER BY bucket_start, key NULLS LAST
