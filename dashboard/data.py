"""The dashboard's only way to the data: cached calls into :mod:`callscope.analytics`.

Every figure on every page comes from a named query (or the report's suggestions, or the
sandboxed user SQL); nothing here writes SQL. Results are cached with ``st.cache_data``,
keyed on the dataset's location, its file listing (so new files refresh every figure),
the filters, the query and its parameters, and, for windows relative to now, the current
minute. A filter change after warm-up therefore only runs the queries that changed.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

import streamlit as st
from callscope.analytics import Analytics, QueryResult, connect, run_user_sql
from callscope.dashboard.state import FilterState
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from callscope.config import data_dir

__all__ = [
    "EXPORT_LIMIT",
    "analytics",
    "dataset_signature",
    "in_background",
    "location",
    "report",
    "run",
    "run_uncached",
    "user_sql",
]

#: The most calls a download holds.
EXPORT_LIMIT: Final = 100_000
T = TypeVar("T")
_workers: ThreadPoolExecutor | None = None
_workers_lock = threading.Lock()


def in_background(action: Callable[[], T]) -> Future[T]:
    """Start ``action`` (cached queries, no drawing) on a worker thread, attached to this script run,
    so that its queries overlap the page's; ``.result()`` waits for it."""
    global _workers  # one small pool per process, made on first use  # noqa: PLW0603
    with _workers_lock:
        if _workers is None:
            _workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="callscope-dashboard")
    context = get_script_run_ctx()

    def attached() -> T:
        add_script_run_ctx(threading.current_thread(), context)
        return action()

    return _workers.submit(attached)


def location() -> str:
    """The dataset the dashboard shows: ``$CALLSCOPE_DATA`` (set by ``callscope dashboard --data``)
    or ``./callscope-data``."""
    return data_dir()


@st.cache_resource(show_spinner=False)
def _connect(where: str) -> Analytics:
    # One connection per dataset, shared by every session (queries run on their own cursors).
    return connect(where)


def analytics() -> Analytics:
    """The analytics connection to :func:`location`."""
    return _connect(location())


@st.cache_data(show_spinner=False, ttl=1.0, max_entries=8)
def _signature(where: str) -> str:
    files = "\n".join(_connect(where).files("calls") + _connect(where).files("spans"))
    return hashlib.sha1(files.encode(), usedforsecurity=False).hexdigest()


def dataset_signature() -> str:
    """A digest of the dataset's file listing: it changes when the collector adds, compacts or
    expires a file (files are immutable once written). Re-listed at most once a second."""
    return _signature(location())


def _clock(state: FilterState | None) -> str:
    """The minute relative windows are measured back from ('' for fixed windows: cache forever)."""
    if state is None or not state.relative:
        return ""
    return datetime.now(UTC).replace(second=0, microsecond=0).isoformat()


def _now(clock: str) -> datetime | None:
    return datetime.fromisoformat(clock) if clock else None


@st.cache_data(show_spinner=False, max_entries=1024, ttl=3600)
def _run(
    where: str,
    signature: str,
    *,
    state: FilterState | None,
    clock: str,
    name: str,
    params: tuple[tuple[str, Any], ...],
) -> QueryResult:
    filters = None if state is None else state.filters().resolve(_now(clock))
    return _connect(where).run_query(name, filters, **dict(params))


def run(name: str, state: FilterState | None = None, **params: Any) -> QueryResult:
    """The named query ``name`` over the calls ``state`` selects (``None``: the whole dataset)."""
    key = tuple(sorted(params.items()))
    return _run(location(), dataset_signature(), state=state, clock=_clock(state), name=name, params=key)


def run_uncached(name: str, state: FilterState | None = None, **params: Any) -> QueryResult:
    """As :func:`run`, without keeping the result (a large one asked for once: a download)."""
    filters = None if state is None else state.filters().resolve()
    return analytics().run_query(name, filters, **params)


@st.cache_data(show_spinner=False, max_entries=64, ttl=3600)
def _report(where: str, signature: str, state: FilterState, clock: str) -> dict[str, Any]:
    from callscope.analytics.report import build_report

    resolved = state.filters().resolve(_now(clock))
    return build_report(_connect(where), resolved, now=resolved.now).to_dict()


def report(state: FilterState) -> Mapping[str, Any]:
    """The report ``callscope report`` prints for these filters (JSON-ready), suggestions included."""
    return _report(location(), dataset_signature(), state, _clock(state))


@st.cache_data(show_spinner=False, max_entries=64)
def _user_sql(where: str, signature: str, sql: str) -> QueryResult:
    return run_user_sql(_connect(where), sql)


def user_sql(sql: str) -> QueryResult:
    """Untrusted SQL on the locked-down connection (refusals raise, as in ``callscope sql``)."""
    return _user_sql(location(), dataset_signature(), sql)
