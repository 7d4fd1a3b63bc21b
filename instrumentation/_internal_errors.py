"""One place that decides what happens when callscope's own code fails, and how it logs.

Telemetry must never break the host app: an exception raised by callscope's code
is logged through structlog and swallowed. Under pytest it is re-raised instead,
so a bug fails the test that triggered it rather than hiding in a log. The app's
own exceptions never pass through here; wrappers re-raise those untouched.

Logging goes through :mod:`callscope._log` (the app's structlog pipeline if it has
one, else the standard ``logging`` logger ``callscope.instrumentation``; never the
app's stdout).
"""

from __future__ import annotations

import contextlib
import os
from types import TracebackType

from callscope._log import get_logger

__all__ = ["guard", "log", "reraise_internal_errors", "reraise_now"]

LOGGER_NAME = "callscope.instrumentation"


log = get_logger(LOGGER_NAME)

#: ``None``: re-raise when running under pytest (``PYTEST_CURRENT_TEST`` is set).
#: Tests that check the swallowing itself set this to ``False``.
reraise_internal_errors: bool | None = None


def reraise_now() -> bool:
    """Whether an internal error should propagate (under pytest) rather than be logged."""
    if reraise_internal_errors is not None:
        return reraise_internal_errors
    return "PYTEST_CURRENT_TEST" in os.environ


class _Guard:
    """``with guard:`` runs a block of callscope code that must not hurt the caller.

    A plain class rather than ``@contextmanager``: it sits on the hot path of every
    traced call, and entering it costs a couple of attribute lookups.
    """

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if exc_type is None or not issubclass(exc_type, Exception):
            return False  # KeyboardInterrupt and friends are never ours to swallow
        if reraise_now():
            return False
        with contextlib.suppress(Exception):  # a broken logging setup must not break the app either
            log.exception("callscope internal error (swallowed; the call itself is unaffected)")
        return True


#: The shared guard; stateless, so one instance serves every thread and task.
guard = _Guard()
