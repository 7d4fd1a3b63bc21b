-- The values the dashboard's filter widgets offer: services, models (asked for, else answered) and
-- tags as `key=value`, each with its number of calls, most used first. Run it unfiltered to list
-- the whole dataset's values.
-- @param limit int = 200: At most this many values per field (per tag key for tags).
WITH v AS (
    -- Each part reads `calls` itself (no shared CTE): a shared one would be materialized, tags and all.
    SELECT 'service' AS field, NULL::VARCHAR AS tag_key, service_name AS value, count(*) AS calls
    FROM calls
    WHERE service_name IS NOT NULL
    GROUP BY ALL
    UNION ALL
    SELECT 'model', NULL, coalesce(request_model, response_model), count(*)
    FROM calls
    WHERE coalesce(request_model, response_model) IS NOT NULL
    GROUP BY ALL
    UNION ALL
    SELECT 'tag', entry.key, entry.key || '=' || entry.value, count(*)
    FROM (SELECT unnest(map_entries(tags)) AS entry FROM calls)
    WHERE entry.value IS NOT NULL
    GROUP BY ALL
)
SELECT field, tag_key, value, calls
FROM v
QUALIFY row_number() OVER (PARTITION BY field, tag_key ORDER BY calls DESC, value) <= $limit
ORDER BY field, tag_key NULLS FIRST, calls DESC, value
