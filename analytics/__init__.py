"""Stage 3: DuckDB over the Parquet call log — exact figures, re-pricing and suggestions.

>>> from callscope.analytics import connect, Filters
>>> with connect("./callscope-data") as analytics:
...     overview = analytics.run_query("overview", Filters(since="7d", services="api")).first()
...     by_model = analytics.run_query("cost_by", Filters(since="7d"), by="model").rows()

The named queries and their parameters are listed by :func:`query_catalog` and in
``docs/queries.md``. Untrusted SQL goes through :func:`run_user_sql`.
"""

from __future__ import annotations

from callscope.analytics.catalog import BUCKETS, DIMENSIONS, NamedQuery, Param
from callscope.analytics.catalog import load_queries as query_catalog
from callscope.analytics.connection import NO_CALLS_MESSAGE, Analytics, connect
from callscope.analytics.errors import (
    AnalyticsError,
    DatasetError,
    FilterError,
    QueryError,
    QueryTimeout,
    RefusedQuery,
    UnknownQuery,
)
from callscope.analytics.filters import Filters, ResolvedFilters
from callscope.analytics.report import REPORT_SCHEMA, Report, build_report, find_suggestions
from callscope.analytics.result import QueryResult
from callscope.analytics.sandbox import check_user_sql, run_user_sql

__all__ = [
    "BUCKETS",
    "DIMENSIONS",
    "NO_CALLS_MESSAGE",
    "REPORT_SCHEMA",
    "Analytics",
    "AnalyticsError",
    "DatasetError",
    "FilterError",
    "Filters",
    "NamedQuery",
    "Param",
    "QueryError",
    "QueryResult",
    "QueryTimeout",
    "RefusedQuery",
    "Report",
    "ResolvedFilters",
    "UnknownQuery",
    "build_report",
    "check_user_sql",
    "connect",
    "find_suggestions",
    "query_catalog",
    "run_user_sql",
]
