-- How many HTTP attempts calls needed (1 = no retry), with the final outcome and backoff waited.
SELECT
    coalesce(attempts, 1) AS attempts,
    count(*) AS calls,
    count(*) / sum(count(*)) OVER () AS share_of_calls,
    count(*) FILTER (status = 'ok') AS ok_calls,
    count(*) FILTER (status = 'error') AS error_calls,
    coalesce(sum(retry_wait_ms), 0) AS retry_wait_ms
FROM calls
GROUP BY ALL
ORDER BY attempts
