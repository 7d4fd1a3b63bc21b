-- Where the time goes, on average per call, by dimension: server processing, network + queueing
-- (measured on non-streamed calls that took one attempt), waiting between retries, and the rest
-- (failed attempts, streaming the answer, client overhead).
-- @param by dimension = model: What to group by.
-- @param limit int = 50: At most this many rows.
SELECT
    key,
    count(*) AS calls,
    avg(duration_ms) AS mean_ms,
    avg(coalesce(server_processing_ms, 0)) AS mean_server_ms,
    avg(coalesce(network_ms, 0)) AS mean_network_ms,
    avg(coalesce(retry_wait_ms, 0)) AS mean_retry_wait_ms,
    greatest(
        avg(duration_ms) - avg(coalesce(server_processing_ms, 0)) - avg(coalesce(network_ms, 0))
            - avg(coalesce(retry_wait_ms, 0)),
        0
    ) AS mean_other_ms
FROM calls_by($by)
GROUP BY key
ORDER BY calls DESC, key NULLS LAST
LIMIT $limit
