-- Rule 7: calls that were retried, rate-limited (429) or timed out, per service and model.
-- (What "rate-limited" and "timed out" mean for a call is worked out once, in rule_calls.sql.)
SELECT d.service_name, d.model, d.tier, d.operation,
       g.* EXCLUDE (dim, troubled_lost_ms, troubled_ms, troubled_input, troubled_cached, troubled_output),
       CASE WHEN d.status = 'error' THEN g.calls ELSE 0 END AS failed,
       CASE WHEN d.status <> 'error' THEN g.troubled_lost_ms ELSE 0 END AS lost_in_retries_ms,
       CASE WHEN d.status = 'error' THEN g.troubled_ms ELSE 0 END AS lost_in_failures_ms,
       CASE WHEN d.status = 'error' THEN g.troubled_input END AS failed_input_tokens,
       CASE WHEN d.status = 'error' THEN g.troubled_cached END AS failed_cached_input_tokens,
       CASE WHEN d.status = 'error' THEN g.troubled_output END AS failed_output_tokens
FROM (
    SELECT dim,
           count(*) AS all_calls,
           count(*) FILTER (WHERE troubled) AS calls,
           count(*) FILTER (WHERE attempts > 1) AS retried,
           sum(attempts - 1) AS extra_attempts,
           count(*) FILTER (WHERE rate_limited) AS rate_limited,
           count(*) FILTER (WHERE timed_out) AS timed_out,
           count(*) FILTER (WHERE low_headroom) AS low_headroom,
           coalesce(sum(retry_lost_ms) FILTER (WHERE troubled), 0) AS troubled_lost_ms,
           coalesce(sum(duration_ms) FILTER (WHERE troubled), 0) AS troubled_ms,
           sum(input_tokens) FILTER (WHERE troubled) AS troubled_input,
           sum(cached_input_tokens) FILTER (WHERE troubled) AS troubled_cached,
           sum(output_tokens) FILTER (WHERE troubled) AS troubled_output,
           sum(cost_usd) FILTER (WHERE troubled) AS cost_usd,
           {examples} FILTER (WHERE troubled) AS examples
    FROM (SELECT *, (attempts > 1 OR rate_limited OR timed_out) AS troubled FROM {calls})
    GROUP BY dim
) AS g JOIN {dims} AS d USING (dim);

-- The retry storms: the most retried calls of a group in one storm window. A failed call names the
-- model asked for, a successful one the snapshot that answered: $models and $groups put each
-- model under the price book's name, so both count together.
SELECT service_name, group_name, max(n) AS storm
FROM (
    SELECT d.service_name, m.group_name, floor(epoch(calls.start_time) / $storm_s)::BIGINT AS bucket,
           count(*) AS n
    FROM {calls} AS calls JOIN {dims} AS d USING (dim)
    JOIN (SELECT unnest($models) AS model, unnest($groups) AS group_name) AS m
      ON d.model IS NOT DISTINCT FROM m.model
    WHERE calls.attempts > 1
    GROUP BY ALL
)
GROUP BY ALL
