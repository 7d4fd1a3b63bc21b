-- Rule 6: long non-streamed chat calls made while a user request was open (or tagged interactive).
WITH ttft AS (
    SELECT {model} AS model, median(ttft_ms) AS ttft_ms, count(*) AS samples
    FROM calls WHERE stream AND ttft_ms IS NOT NULL AND status = 'ok'
    GROUP BY ALL
), c AS (
    SELECT service_name, operation, {model} AS model, handled.route, span_id, start_time, duration_ms,
           cost_usd
    FROM calls LEFT JOIN {handled} AS handled USING (span_id)
    WHERE {where} AND (handled.span_id IS NOT NULL OR {interactive})
)
SELECT service_name, route, c.model, min(operation) AS operation, count(*) AS calls,
       sum(duration_ms) AS duration_ms,
       sum(greatest(duration_ms - CASE WHEN ttft.samples >= $min_samples THEN ttft.ttft_ms
                                       ELSE $default_ttft END, 0)) AS saving_ms,
       min(CASE WHEN ttft.samples >= $min_samples THEN ttft.ttft_ms ELSE $default_ttft END)
           AS ttft_estimate_ms,
       sum(cost_usd) AS cost_usd,
       {examples} AS examples
FROM c LEFT JOIN ttft ON c.model = ttft.model
GROUP BY ALL
