-- Rule 10: single-input embedding calls of one service and model in bursts.
WITH c AS (
    SELECT d.service_name, d.model, calls.span_key, calls.start_time, calls.duration_ms, calls.cost_usd,
           floor(epoch(calls.start_time) / $burst_s) AS bucket
    FROM {calls} AS calls JOIN {dims} AS d USING (dim)
    WHERE d.operation = 'embeddings' AND d.status = 'ok' AND calls.single_input AND calls.duration_ms IS NOT NULL
), bursts AS (
    SELECT service_name, model, bucket, count(*) AS n,
           sum(duration_ms) AS duration_ms, max(duration_ms) AS slowest_ms,
           sum(cost_usd) AS cost_usd, {examples} AS examples
    FROM c GROUP BY ALL HAVING count(*) >= $min_calls
)
SELECT service_name, model, 'embeddings' AS operation, count(*) AS bursts, sum(n) AS calls,
       sum(duration_ms) AS duration_ms,
       sum(greatest(duration_ms - ceil(n / $batch_size) * slowest_ms, 0)) AS saving_ms,
       sum(ceil(n / $batch_size)) AS batched_requests,
       sum(cost_usd) AS cost_usd, flatten(list(examples)) AS examples
FROM bursts
GROUP BY ALL
