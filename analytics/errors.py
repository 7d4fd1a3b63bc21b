"""The analytics stage's exception family.

Every error here is something the user can act on; the CLI prints ``str(err)`` on
one line. A bug in callscope itself is never wrapped in one of these.
"""

from __future__ import annotations

from callscope.errors import CallscopeError

__all__ = [
    "AnalyticsError",
    "DatasetError",
    "FilterError",
    "QueryError",
    "QueryTimeout",
    "RefusedQuery",
    "UnknownQuery",
]


class AnalyticsError(CallscopeError):
    """A problem with the dataset, a query, a price file or a report the user can act on."""


class DatasetError(AnalyticsError):
    """The data location is unusable: a bad path or URL, a file instead of a folder, no access."""

    exit_code = 2


class FilterError(AnalyticsError):
    """A filter value that cannot be understood, e.g. ``--since 7x`` or ``--tag =v``."""

    exit_code = 2


class UnknownQuery(AnalyticsError):
    """A named query that does not exist, or a parameter it does not take or cannot accept."""

    exit_code = 2


class QueryError(AnalyticsError):
    """A query failed: a SQL error in user SQL, or a dataset DuckDB cannot read."""


class RefusedQuery(QueryError):
    """User SQL that is not a single read-only statement, or that reaches outside the dataset."""

    exit_code = 2


class QueryTimeout(QueryError):
    """User SQL that ran longer than its time limit and was interrupted."""
