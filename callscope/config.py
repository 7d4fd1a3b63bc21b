"""Configuration shared by every stage: arguments, then environment, then defaults.

Follows OpenTelemetry habits: ``CALLSCOPE_*`` variables for callscope's own
settings, ``OTEL_*`` ones where a standard name exists.
"""

from __future__ import annotations

import os

#: Where the Parquet call log lives unless told otherwise.
DEFAULT_DATA_DIR = "./callscope-data"

ENV_DATA_DIR = "CALLSCOPE_DATA"
ENV_HASH_KEY = "CALLSCOPE_HASH_KEY"
ENV_COLLECTOR_TOKEN = "CALLSCOPE_TOKEN"
ENV_CAPTURE_CONTENT = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
#: A TOML or JSON file of negotiated / custom-model prices (see callscope.analytics.prices).
ENV_PRICES_FILE = "CALLSCOPE_PRICES"


def data_dir(explicit: str | None = None) -> str:
    """The dataset location: ``explicit``, else ``$CALLSCOPE_DATA``, else ``./callscope-data``.

    May be a local path or an fsspec URL such as ``s3://bucket/prefix``.
    """
    return explicit or os.environ.get(ENV_DATA_DIR) or DEFAULT_DATA_DIR


def env_flag(name: str, default: bool = False) -> bool:
    """Read a boolean environment variable the way OTel does (``true``/``1``/``yes``)."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")
