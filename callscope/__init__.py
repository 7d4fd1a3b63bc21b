"""callscope: what your OpenAI calls cost, how long they take, why they fail.

The public one-liners live here and import their stage lazily, so
``import callscope`` stays cheap and never pulls in DuckDB or Streamlit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["CallscopeError", "__version__", "instrument", "tags", "uninstrument"]

from callscope.errors import CallscopeError

if TYPE_CHECKING:
    from callscope._setup import instrument, uninstrument
    from callscope.instrumentation.tags import tags


def __getattr__(name: str) -> Any:
    # Lazy so that importing callscope (e.g. for its errors) costs nothing.
    if name in ("instrument", "uninstrument"):
        from callscope import _setup

        return getattr(_setup, name)
    if name == "tags":
        from callscope.instrumentation.tags import tags

        return tags
    raise AttributeError(f"module 'callscope' has no attribute {name!r}")
