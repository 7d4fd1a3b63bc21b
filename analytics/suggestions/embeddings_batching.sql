WITH c AS (
    SELECT service_name, operation, {model} AS model, trace_id, span_id, start_time, tags, duration_ms, cost_usd,
           floor(epoch(start_time) / $burst_s) AS bucket
    FROM calls
    WHERE operation = 'embeddings' AND status = 'ok' AND input_messages = 1 AND duration_ms IS NOT NULL
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
