"""``callscope.tags(feature="summarize", customer="acme")``: labels for every call inside.

Tags live in a :mod:`contextvars` variable, so they follow the code that sets them:

* nesting merges (the inner value wins for a repeated key) and leaving a block
  restores the outer tags exactly;
* asyncio tasks copy the context when they are created, so a task started inside
  ``with tags(...)`` keeps those tags even after the block has exited;
* a new thread starts with an empty context. ``ThreadPoolExecutor.submit`` does
  not copy it either; wrap the function with :func:`bind_context` (or use
  ``contextvars.copy_context().run``) to carry the caller's tags, and its current
  OpenTelemetry span, into the worker.

Tags can also arrive through OpenTelemetry baggage: an entry named
``callscope.tag.<key>`` (set upstream, e.g. by another service whose baggage is
propagated, or with ``opentelemetry.baggage.set_baggage``) is read as tag ``<key>``.
Tags set with :func:`tags` win over baggage for the same key. callscope never
*writes* tags into baggage, because baggage is sent along with every outgoing
HTTP request, including to third parties.

Each tag becomes the span attribute ``callscope.tag.<key>`` (a string).
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Callable, Mapping
from types import MappingProxyType, TracebackType
from typing import Any, ParamSpec, TypeVar

from callscope.instrumentation.attributes import TAG_PREFIX
from opentelemetry import baggage
from opentelemetry.context import Context

__all__ = ["bind_context", "current_tags", "tags"]

_P = ParamSpec("_P")
_R = TypeVar("_R")

_EMPTY: Mapping[str, str] = MappingProxyType({})
# The mapping stored here is never mutated: each `tags()` block installs a new one.
_TAGS: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar("callscope_tags", default=_EMPTY)


class tags:
    """Attach labels to every OpenAI call made inside the block (or decorated function).

    >>> with tags(feature="summarize", customer="acme"):
    ...     client.chat.completions.create(...)  # doctest: +SKIP

    Values are converted to strings. As a decorator (``@tags(feature="x")``) it works
    on plain and ``async`` functions; each call enters the block afresh.
    """

    __slots__ = ("_labels", "_tokens")

    def __init__(self, **labels: object) -> None:
        self._labels = {key: str(value) for key, value in labels.items()}
        # A stack, so one instance can be entered again while already active (recursion).
        self._tokens: list[contextvars.Token[Mapping[str, str]]] = []

    def __enter__(self) -> Mapping[str, str]:
        merged = MappingProxyType({**_TAGS.get(), **self._labels})
        self._tokens.append(_TAGS.set(merged))
        return merged

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _TAGS.reset(self._tokens.pop())

    def __call__(self, func: Callable[_P, _R]) -> Callable[_P, _R]:
        labels = self._labels
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with tags(**labels):
                    return await func(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(func)
        def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            with tags(**labels):
                return func(*args, **kwargs)

        return run


def current_tags() -> Mapping[str, str]:
    """The tags a call made here would get: baggage ``callscope.tag.*`` entries, then ``tags()``."""
    local = _TAGS.get()
    from_baggage = _baggage_tags()
    if not from_baggage:
        return local
    return MappingProxyType({**from_baggage, **local})


def local_tags() -> Mapping[str, str]:
    """The :func:`tags` in effect here (an immutable mapping: safe to read later, on another thread)."""
    return _TAGS.get()


def tag_attributes(local: Mapping[str, str], context: Context, out: dict[str, Any]) -> None:
    """Add ``{"callscope.tag.<key>": value}`` to ``out``: baggage in ``context``, then ``local`` tags.

    The instrumentation's view, computed after the call from what it captured when it started.
    """
    from_baggage = _baggage_tags(context)
    if from_baggage:
        local = {**from_baggage, **local}
    for key, value in local.items():
        out[TAG_PREFIX + key] = value


def _baggage_tags(context: Context | None = None) -> dict[str, str]:
    entries = baggage.get_all(context)
    if not entries:
        return {}
    n = len(TAG_PREFIX)
    return {key[n:]: str(value) for key, value in entries.items() if key.startswith(TAG_PREFIX)}


def bind_context(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Return ``func`` bound to a copy of the current context, to run it in another thread.

    ``executor.submit(bind_context(work), item)`` makes ``work`` see the caller's tags
    and current span, as ``asyncio`` tasks do by themselves.
    """
    context = contextvars.copy_context()

    @functools.wraps(func)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        return context.copy().run(func, *args, **kwargs)

    return run
