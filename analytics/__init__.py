"""Stage 3: DuckDB over the Parquet call log: figures and suggestions."""
