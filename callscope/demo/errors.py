"""The demo's exception family."""

from __future__ import annotations

from callscope.errors import CallscopeError, ConfigError

__all__ = ["DemoError", "SimulatorConfigError"]


class DemoError(CallscopeError):
    """The demo (simulator or workload) could not do what was asked."""


class SimulatorConfigError(DemoError, ConfigError):
    """A simulator setting is out of range (a fault rate above 1, an unknown model, ...)."""

    exit_code = 2
