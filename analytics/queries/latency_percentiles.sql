-- Latency percentiles by dimension: the whole call as the app waited for it (retries and backoff
-- included), time to first chunk (streams), the server's processing time (`openai-processing-ms`)
-- and network + queueing (non-streamed calls that took one attempt: duration minus processing).
-- Percentiles are `quantile_cont`: linear interpolation between the two nearest ranks.
-- @param by dimension = model: What to group by.
-- @param limit int = 50: At most this many rows.
WITH g AS (
    SELECT
        key,
        count(*) AS calls,
        count(*) FILTER (stream) AS streamed_calls,
        avg(duration_ms) AS mean_ms,
        quantile_cont(duration_ms, [0.5, 0.95, 0.99]) AS d,
        quantile_cont(ttft_ms, [0.5, 0.95, 0.99]) AS t,
        quantile_cont(server_processing_ms, [0.5, 0.95, 0.99]) AS s,
        quantile_cont(network_ms, [0.5, 0.95, 0.99]) AS n
    FROM calls_by($by)
    GROUP BY key
)
SELECT
    key,
    calls,
    streamed_calls,
    d[1] AS p50_ms,
    d[2] AS p95_ms,
    d[3] AS p99_ms,
    mean_ms,
    t[1] AS ttft_p50_ms,
    t[2] AS ttft_p95_ms,
    t[3] AS ttft_p99_ms,
    s[1] AS server_p50_ms,
    s[2] AS server_p95_ms,
    s[3] AS server_p99_ms,
    n[1] AS network_p50_ms,
    n[2] AS network_p95_ms,
    n[3] AS network_p99_ms
FROM g
ORDER BY calls DESC, key NULLS LAST
LIMIT $limit
