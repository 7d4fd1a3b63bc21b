"""Stage 1: the OpenTelemetry instrumentor for the ``openai`` SDK.

>>> from callscope.instrumentation import OpenAIInstrumentor, tags
>>> OpenAIInstrumentor().instrument()  # doctest: +SKIP
>>> with tags(feature="summarize"):  # doctest: +SKIP
...     client.chat.completions.create(...)

Importing this package does not import ``openai``; ``instrument()`` does.
"""

from __future__ import annotations

from callscope.instrumentation.errors import InstrumentationError
from callscope.instrumentation.instrumentor import OpenAIInstrumentor
from callscope.instrumentation.tags import bind_context, current_tags, tags

__all__ = ["InstrumentationError", "OpenAIInstrumentor", "bind_context", "current_tags", "tags"]
