-- The most expensive traces (one user request or job, all its calls), with the request handler
-- that made them when its span is in the `spans` table.
-- @param limit int = 20: At most this many traces.
WITH top AS (
    -- Cheap aggregates first over every trace; the details only for the winners.
    SELECT trace_id, usd_sum(cost_usd) AS cost_usd, count(*) AS calls
    FROM calls
    WHERE trace_id IS NOT NULL
    GROUP BY trace_id
    ORDER BY cost_usd DESC, calls DESC, trace_id
    LIMIT $limit
),
t AS (
    SELECT
        trace_id,
        count(*) AS calls,
        usd_sum(cost_usd) AS cost_usd,
        coalesce(sum(input_tokens), 0)::BIGINT AS input_tokens,
        coalesce(sum(output_tokens), 0)::BIGINT AS output_tokens,
        count(*) FILTER (status = 'error') AS error_calls,
        min(start_time) AS first_start,
        max(end_time) AS last_end,
        list_sort(list(DISTINCT service_name)) AS services,
        list_sort(list(DISTINCT model)) AS models
    FROM calls_by('none')
    WHERE trace_id IN (SELECT trace_id FROM top)
    GROUP BY trace_id
),
roots AS (
    SELECT trace_id, arg_min(name, start_time) AS root_name, arg_min(http_route, start_time) AS root_route
    FROM spans
    WHERE parent_span_id IS NULL AND trace_id IN (SELECT trace_id FROM top)
    GROUP BY trace_id
)
SELECT
    t.trace_id,
    t.calls,
    t.cost_usd,
    t.input_tokens,
    t.output_tokens,
    t.error_calls,
    t.first_start,
    (epoch_us(t.last_end) - epoch_us(t.first_start)) / 1000.0 AS elapsed_ms,
    t.services,
    t.models,
    roots.root_name,
    roots.root_route
FROM t
LEFT JOIN roots USING (trace_id)
ORDER BY t.cost_usd DESC, t.calls DESC, t.trace_id
