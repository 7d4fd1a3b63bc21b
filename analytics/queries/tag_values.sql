-- The values of one tag key, most used first (for filter widgets).
-- @param key str: The tag key.
-- @param limit int = 200: At most this many values.
SELECT
    tags[$key] AS value,
    count(*) AS calls,
    usd_sum(cost_usd) AS cost_usd
FROM calls
WHERE tags[$key] IS NOT NULL
GROUP BY ALL
ORDER BY calls DESC, value
LIMIT $limit
