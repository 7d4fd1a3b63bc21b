"""Stage 2: spans into the Parquet call log, in-process or as an OTLP service."""
