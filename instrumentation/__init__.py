"""Stage 1: the OpenTelemetry instrumentor for the ``openai`` SDK.

>>> from callscope.instrumentation import OpenAIInstrumentor, flush, tags
>>> OpenAIInstrumentor().instrument()  # doctest: +SKIP
>>> with tags(feature="summarize"):  # doctest: +SKIP
...     client.chat.completions.create(...)
>>> flush()  # doctest: +SKIP  (spans are built in the background; this waits for them)

Importing this package does not import ``openai``; ``instrument()`` does.
"""

from __future__ import annotations

from callscope.instrumentation._finisher import flush
from callscope.instrumentation.errors import InstrumentationError
from callscope.instrumentation.instrumentor import OpenAIInstrumentor
from callscope.instrumentation.tags import bind_context, current_tags, tags

__all__ = ["InstrumentationError", "OpenAIInstrumentor", "bind_context", "current_tags", "flush", "tags"]
