-- Macros created once per connection. Named queries use them, and so can user SQL.

-- usd_sum(x): the exact sum of dollar amounts, 0 when there are none. Adding them as DECIMAL (to
-- a millionth of a millionth of a dollar) makes totals exact and the same from run to run,
-- whatever order DuckDB's threads add them in. An impossible amount (a million dollars or more
-- for one call) counts as unknown rather than failing the query.
CREATE OR REPLACE MACRO usd_sum(x) AS coalesce(sum(TRY_CAST(x AS DECIMAL(18, 12))), 0)::DOUBLE;

-- calls_by(dimension): the (scoped) `calls` with three derived columns:
--   model       the model asked for, else the one that answered;
--   key         the value of `dimension`: model, service, operation, api, environment, provider,
--               status, response_model, server, error_type, error_code, http_status, stream,
--               none (always NULL), or tag:<key> (the value of that tag);
--   network_ms  for a non-streamed call that needed one HTTP attempt, its duration minus the
--               server's `openai-processing-ms`: the time spent on the network and in OpenAI's
--               queue. (Retried calls are left out rather than read from the per-attempt list:
--               decoding that list column costs more than the rest of a latency query.)
-- A named query binds `dimension` as a parameter; DuckDB folds the CASE at planning time, so only
-- the chosen column is read from the files.
CREATE OR REPLACE MACRO calls_by(dimension) AS TABLE
SELECT
    *,
    coalesce(request_model, response_model) AS model,
    CASE
        WHEN dimension = 'model' THEN coalesce(request_model, response_model)
        WHEN dimension = 'service' THEN service_name
        WHEN dimension = 'operation' THEN operation
        WHEN dimension = 'api' THEN api
        WHEN dimension = 'environment' THEN deployment_environment
        WHEN dimension = 'provider' THEN provider
        WHEN dimension = 'status' THEN status
        WHEN dimension = 'response_model' THEN response_model
        WHEN dimension = 'server' THEN server_address
        WHEN dimension = 'error_type' THEN error_type
        WHEN dimension = 'error_code' THEN error_code
        WHEN dimension = 'http_status' THEN CAST(http_status AS VARCHAR)
        WHEN dimension = 'stream' THEN CASE WHEN stream THEN 'streamed' ELSE 'not streamed' END
        WHEN starts_with(dimension, 'tag:') THEN tags[substr(dimension, 5)]
    END AS key,
    CASE
        WHEN NOT coalesce(stream, false) AND coalesce(attempts, 1) = 1 AND server_processing_ms IS NOT NULL
        THEN greatest(duration_ms - server_processing_ms, 0)
    END AS network_ms
FROM calls;

-- The cached tokens billed (never more than the input) and the cache-write tokens (never more than
-- the uncached rest), as the API bills them.
CREATE OR REPLACE MACRO billed_cached(input, cached) AS
    least(greatest(coalesce(cached, 0), 0), coalesce(input, 0));
CREATE OR REPLACE MACRO billed_written(input, cached, written) AS
    least(greatest(coalesce(written, 0), 0), coalesce(input, 0) - billed_cached(input, cached));

-- token_cost(...): USD of one call at the given rates (USD per 1M tokens). `input` includes the
-- cached and cache-write tokens; cached tokens without a cached rate, and written tokens without a
-- write rate, cost the input rate; NULL when a needed rate is unknown (never a made-up zero).
CREATE OR REPLACE MACRO token_cost(input, cached, written, output, input_rate, cached_rate, write_rate, output_rate) AS (
    (coalesce(input, 0) - billed_cached(input, cached) - billed_written(input, cached, written)) * input_rate
    + billed_cached(input, cached) * coalesce(cached_rate, input_rate)
    + billed_written(input, cached, written) * coalesce(write_rate, input_rate)
    + CASE WHEN coalesce(output, 0) = 0 THEN 0 ELSE output * output_rate END
) / 1e6;

-- priced_calls(dimension, price_mode): calls_by(dimension) re-priced with today's price book
-- (table `_model_prices`: one row per model name seen, mode and long-context tier):
--   priced_usd    the call's cost at those prices; NULL when the model has no known price;
--   price_model   the price book's model the name resolved to; price_source where the price is from.
-- price_mode: 'standard', 'batch', 'flex', 'priority', or 'as_called' (the service tier the call
-- ran on: flex, priority, else standard).
CREATE OR REPLACE MACRO priced_calls(dimension, price_mode) AS TABLE
SELECT
    c.*,
    p.price_model,
    p.source AS price_source,
    token_cost(
        c.input_tokens, c.cached_input_tokens, c.cache_write_tokens, c.output_tokens,
        p.input_mtok, p.cached_input_mtok, p.cache_write_mtok, p.output_mtok
    ) AS priced_usd
FROM calls_by(dimension) AS c
LEFT JOIN _model_prices AS p
    ON p.model = coalesce(c.response_model, c.request_model)
    AND p.mode = CASE
        WHEN price_mode <> 'as_called' THEN price_mode
        WHEN lower(coalesce(c.response_service_tier, c.service_tier)) = 'flex' THEN 'flex'
        WHEN lower(coalesce(c.response_service_tier, c.service_tier)) IN ('priority', 'fast') THEN 'priority'
        ELSE 'standard'
    END
    AND coalesce(c.input_tokens, 0) > p.above_input_tokens
    AND coalesce(c.input_tokens, 0) <= p.up_to_input_tokens;
