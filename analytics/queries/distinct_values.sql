-- The values present for each filterable column (service, model, operation, environment, status,
-- provider, api) with their call counts, most used first: what filter widgets offer.
WITH g AS (
    SELECT
        CASE
            WHEN GROUPING(service_name) = 0 THEN 'service'
            WHEN GROUPING(model) = 0 THEN 'model'
            WHEN GROUPING(operation) = 0 THEN 'operation'
            WHEN GROUPING(deployment_environment) = 0 THEN 'environment'
            WHEN GROUPING(status) = 0 THEN 'status'
            WHEN GROUPING(provider) = 0 THEN 'provider'
            ELSE 'api'
        END AS field,
        coalesce(service_name, model, operation, deployment_environment, status, provider, api) AS value,
        count(*) AS calls
    FROM calls_by('none')
    GROUP BY GROUPING SETS (
        (service_name), (model), (operation), (deployment_environment), (status), (provider), (api)
    )
)
SELECT field, value, calls
FROM g
WHERE value IS NOT NULL
ORDER BY field, calls DESC, value
