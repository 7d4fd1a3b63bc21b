-- Every tag key in use, with how many calls carry it, its distinct values and their spend.
SELECT
    entry.key AS key,
    count(*) AS calls,
    count(DISTINCT entry.value) AS distinct_values,
    usd_sum(cost_usd) AS cost_usd
FROM (SELECT unnest(map_entries(tags)) AS entry, cost_usd FROM calls)
GROUP BY entry.key
ORDER BY calls DESC, key
