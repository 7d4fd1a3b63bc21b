"""The dashboard stage's exception family."""

from __future__ import annotations

from callscope.errors import CallscopeError

__all__ = ["DashboardError", "PortInUse"]


class DashboardError(CallscopeError):
    """The dashboard server could not start or stopped unexpectedly."""


class PortInUse(DashboardError):
    """The port asked for is taken by another program."""

    exit_code = 2
