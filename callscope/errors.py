"""The root of callscope's exception hierarchy.

Each stage derives its own family from :class:`CallscopeError`
(``InstrumentationError``, ``CollectorError``, ``AnalyticsError``,
``DashboardError``, ``DemoError``). The CLI turns any of them into a one-line
message and a non-zero exit code; nothing else is caught there, so a bug still
shows its traceback.
"""

from __future__ import annotations


class CallscopeError(Exception):
    """A problem the user can act on; ``str(err)`` is the message shown to them."""

    #: Exit status the CLI uses for this error.
    exit_code: int = 1


class ConfigError(CallscopeError):
    """A bad argument, environment variable or configuration value."""

    exit_code = 2
