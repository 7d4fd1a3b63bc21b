-- The price book in use: today's prices in USD per 1M tokens for every OpenAI model genai-prices
-- knows, plus your overrides (source = override). Not affected by filters.
-- @needs prices
SELECT * FROM prices ORDER BY model
