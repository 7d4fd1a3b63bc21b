-- How many calls are in scope and when the first and last started.
SELECT count(*) AS calls, min(start_time) AS first_call, max(start_time) AS last_call FROM calls
