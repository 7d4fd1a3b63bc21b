"""Stage 1: the OpenTelemetry instrumentor for the ``openai`` SDK."""
