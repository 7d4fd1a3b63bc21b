"""How callscope logs, in every stage: never onto the host app's stdout.

When the app has configured structlog, callscope's events go through the app's
structlog pipeline. Otherwise structlog renders them into the standard
``logging`` logger of the same name (``callscope.instrumentation``,
``callscope.collector``, ...), so by default only warnings and errors reach
stderr and the app's logging configuration decides the rest. structlog's own
unconfigured default prints to stdout, which would corrupt the output of a
program whose stdout is data.
"""

from __future__ import annotations

import logging
from typing import Any

import structlog

__all__ = ["Logger", "get_logger"]


class Logger:
    """A structlog logger chosen at each call: the app's pipeline if it configured one."""

    __slots__ = ("_fallback", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._fallback: Any = None

    def _logger(self) -> Any:
        if structlog.is_configured():
            return structlog.get_logger(self.name)
        if self._fallback is None:
            self._fallback = structlog.wrap_logger(
                logging.getLogger(self.name),
                processors=[
                    structlog.processors.format_exc_info,
                    structlog.processors.KeyValueRenderer(key_order=["event"], drop_missing=True),
                ],
                wrapper_class=structlog.stdlib.BoundLogger,
            )
        return self._fallback

    def debug(self, event: str, **kw: Any) -> None:
        self._logger().debug(event, **kw)

    def info(self, event: str, **kw: Any) -> None:
        self._logger().info(event, **kw)

    def warning(self, event: str, **kw: Any) -> None:
        self._logger().warning(event, **kw)

    def error(self, event: str, **kw: Any) -> None:
        self._logger().error(event, **kw)

    def exception(self, event: str, **kw: Any) -> None:
        self._logger().exception(event, **kw)


def get_logger(name: str) -> Logger:
    """The logger for ``name`` (use the module's stage, e.g. ``callscope.collector``)."""
    return Logger(name)
