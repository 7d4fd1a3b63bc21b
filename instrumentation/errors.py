"""The instrumentation stage's exception family."""

from __future__ import annotations

from callscope.errors import CallscopeError

__all__ = ["InstrumentationError"]


class InstrumentationError(CallscopeError):
    """The instrumentation was asked for something it cannot do (a bad argument, say).

    Never raised from inside a traced call: there, callscope's own failures are
    logged and swallowed (see ``_internal_errors``), so the app keeps working.
    """
