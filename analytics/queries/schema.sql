-- The tables and columns user SQL can read (calls, spans, prices), with their types and meaning:
-- what a SQL editor lists. Not affected by filters.
-- @needs prices
SELECT
    c.table_name,
    c.column_name,
    c.data_type,
    d.meaning
FROM information_schema.columns AS c
LEFT JOIN _column_docs AS d USING (table_name, column_name)
WHERE c.table_catalog <> 'temp' AND c.table_name IN ('calls', 'spans', 'prices')
ORDER BY c.table_name, c.ordinal_position
