-- Rule 6: long non-streamed chat calls made while a user request was open (or tagged interactive).
WITH ttft AS (
    SELECT d.model, median(calls.ttft_ms) AS ttft_ms, count(*) AS samples
    FROM {calls} AS calls JOIN {dims} AS d USING (dim)
    WHERE calls.stream AND calls.ttft_ms IS NOT NULL AND d.status = 'ok'
    GROUP BY ALL
), c AS (
    SELECT calls.dim, handlers.route, calls.span_key, calls.start_time, calls.duration_ms, calls.cost_usd,
           CASE WHEN ttft.samples >= $min_samples THEN ttft.ttft_ms ELSE $default_ttft END AS ttft_estimate_ms
    FROM {calls} AS calls JOIN {dims} AS d USING (dim)
    LEFT JOIN {handlers} AS handlers USING (trace_key)
    LEFT JOIN ttft ON d.model = ttft.model
    WHERE d.status = 'ok' AND d.operation IN ('chat', 'text_completion')
      AND calls.stream = false AND calls.duration_ms >= $min_duration AND calls.output_tokens >= $min_output
      AND (handlers.trace_key IS NOT NULL OR calls.interactive_tag)
)
SELECT d.service_name, d.operation, d.model, d.tier, g.* EXCLUDE (dim)
FROM (
    SELECT dim, route, count(*) AS calls, sum(duration_ms) AS duration_ms,
           sum(greatest(duration_ms - ttft_estimate_ms, 0)) AS saving_ms,
           min(ttft_estimate_ms) AS ttft_estimate_ms,
           sum(cost_usd) AS cost_usd,
           {examples} AS examples
    FROM c
    GROUP BY dim, route
) AS g JOIN {dims} AS d USING (dim)
