"""``connect()`` and :class:`Analytics`: DuckDB over the Parquet call log.

One in-memory DuckDB database per :class:`Analytics`, holding:

- views ``calls`` and ``spans`` over ``<data>/<table>/date=YYYY-MM-DD/*.parquet`` (Hive
  partitions, ``union_by_name`` so files of older schema versions still read, every
  column of the current schema typed even when no file has it; empty typed views when
  there are no files yet);
- the table ``prices`` (today's price book) and the internal ``_model_prices``, built on
  first use;
- the macros of ``queries/_macros.sql``.

Nothing is ever downloaded (extension autoloading and autoinstall are off, with a
private extension directory); object storage is read through fsspec. Once set up the
database is locked down for everyone, trusted code included: files can be read only
under the dataset's root (``allowed_directories`` + ``enable_external_access=false``)
and the configuration is locked, so user SQL run through :func:`run_user_sql` cannot
loosen it.

The dataset may grow while it is open: before each query the file listing is checked
(every time on local disk, at most every ``refresh_interval`` seconds on object
storage) and the views are rebuilt when it changed.

Thread-safe: each query runs on its own cursor; set-up statements are serialized.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, Final

from callscope.analytics import views
from callscope.analytics.catalog import NamedQuery, auto_bucket, load_queries, macros_sql
from callscope.analytics.dataset import Dataset, open_dataset
from callscope.analytics.errors import DatasetError, QueryError, UnknownQuery
from callscope.analytics.filters import Filters, ResolvedFilters
from callscope.analytics.repricing import (
    MODEL_PRICE_COLUMNS,
    PRICE_COLUMNS,
    model_prices_rows,
    prices_rows,
)
from callscope.analytics.result import QueryResult
from callscope.analytics.scope import apply_scope
from callscope.collector.schema import TABLES

from callscope.config import data_dir

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa
    from callscope.analytics.prices import PriceBook

__all__ = ["NO_CALLS_MESSAGE", "Analytics", "connect"]

NO_CALLS_MESSAGE: Final = (
    "no calls yet — instrument an app (`callscope.instrument()`) or run `callscope demo`"
)
#: Seconds between listings of an object-storage dataset (a LIST request each).
REMOTE_REFRESH_INTERVAL: Final = 5.0
_HIVE_FOLDER = re.compile(r"/[^/=]+=[^/]*/")
#: The distinct column layouts among a glob's files (name, physical and logical type of each).
_SIGNATURES_SQL: Final = """
SELECT DISTINCT signature FROM (
    SELECT file_name, string_agg(
        concat_ws('|', name, type, converted_type, logical_type, repetition_type), ',' ORDER BY name, type
    ) AS signature
    FROM parquet_schema($glob)
    GROUP BY file_name
)
"""


def connect(
    data: str | None = None,
    *,
    storage_options: Mapping[str, Any] | None = None,
    prices_path: str | None = None,
    must_exist: bool = False,
    refresh_interval: float | None = None,
    threads: int | None = None,
) -> Analytics:
    """Open the call log at ``data`` (a folder or ``s3://bucket/prefix``; default ``$CALLSCOPE_DATA``
    or ``./callscope-data``) for queries.

    A missing or empty dataset gives empty views, unless ``must_exist`` (then a missing
    location is a :class:`DatasetError`). ``storage_options`` go to the fsspec filesystem
    (e.g. ``{"endpoint_url": ...}`` for S3-compatible storage); ``prices_path`` is a
    prices overrides file (else ``$CALLSCOPE_PRICES``).
    """
    location = data_dir(data)
    dataset = open_dataset(location, storage_options)
    if must_exist and not dataset.exists():
        raise DatasetError(f"no dataset at {location}: the path does not exist")
    return Analytics(dataset, prices_path=prices_path, refresh_interval=refresh_interval, threads=threads)


class Analytics:
    """Queries over one dataset. Use :func:`connect` to make one; close it (or use ``with``) when done."""

    def __init__(
        self,
        dataset: Dataset,
        *,
        prices_path: str | None = None,
        refresh_interval: float | None = None,
        threads: int | None = None,
    ) -> None:
        import duckdb

        self.dataset = dataset
        self._prices_path = prices_path
        self._price_book: PriceBook | None = None
        self._prices_loaded = False
        self._priced_names: frozenset[str] = frozenset()
        self._model_names: frozenset[str] | None = None
        if refresh_interval is None:
            refresh_interval = REMOTE_REFRESH_INTERVAL if dataset.remote else 0.0
        self.refresh_interval = refresh_interval
        self._last_listing_at = 0.0
        self._listing: dict[str, tuple[str, ...]] | None = None
        self._lock = threading.RLock()
        self._scratch = tempfile.mkdtemp(prefix="callscope-duckdb-")
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._scratch, True)
        config: dict[str, Any] = {
            "autoinstall_known_extensions": "false",
            "autoload_known_extensions": "false",
            "extension_directory": f"{self._scratch}/extensions",
            "temp_directory": f"{self._scratch}/spill",
        }
        if threads is not None:
            config["threads"] = threads
        self._con = duckdb.connect(":memory:", config=config)
        try:
            self._set_up()
        except BaseException:
            self.close()
            raise

    # --- set-up ---------------------------------------------------------------------------------

    def _set_up(self) -> None:
        con = self._con
        con.execute("SET python_enable_replacements = false")
        con.execute("SET TimeZone = 'UTC'")  # days and hours are UTC, as the partitions are
        # Files are immutable (written whole, replaced under new names), so their footers can be
        # cached: binding a query over hundreds of files then costs milliseconds.
        con.execute("SET parquet_metadata_cache = true")
        filesystem = self.dataset.filesystem
        if filesystem is not None:
            con.register_filesystem(filesystem)
        self._catalog = str(con.sql("SELECT current_database()").fetchall()[0][0])
        self._create_table("_model_prices", MODEL_PRICE_COLUMNS)
        self._create_table("prices", PRICE_COLUMNS)
        self._create_column_docs()
        self.refresh(force=True)
        for statement in _statements(macros_sql()):
            con.execute(statement)
        con.execute(
            "SET allowed_directories = $dirs", {"dirs": [self.dataset.allowed_prefix, f"{self._scratch}/"]}
        )
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")

    def _create_table(
        self, name: str, columns: Iterable[tuple[str, str]], con: duckdb.DuckDBPyConnection | None = None
    ) -> None:
        body = ", ".join(f"{views.quote_identifier(column)} {kind}" for column, kind in columns)
        (con or self._con).execute(f"CREATE OR REPLACE TABLE {name} ({body})")

    def _create_column_docs(self) -> None:
        rows = [
            (table, column.name, column.meaning) for table, columns in TABLES.items() for column in columns
        ]
        rows.append(("calls", "date", "Day the call started (UTC), from the date=YYYY-MM-DD folder."))
        rows.append(("spans", "date", "Day the span started (UTC), from the date=YYYY-MM-DD folder."))
        rows += [("prices", name, _price_column_meaning(name)) for name, _ in PRICE_COLUMNS]
        self._con.execute(
            "CREATE TABLE _column_docs (table_name VARCHAR, column_name VARCHAR, meaning VARCHAR)"
        )
        self._con.executemany("INSERT INTO _column_docs VALUES (?, ?, ?)", rows)

    # --- the dataset ----------------------------------------------------------------------------

    def refresh(self, *, force: bool = False) -> bool:
        """Re-list the dataset's files and rebuild the views if they changed; ``True`` if they did."""
        with self._lock:
            listing = {table: self._list_files(table) for table in TABLES}
            self._last_listing_at = time.monotonic()
            if listing == self._listing and not force:
                return False
            for table, files in listing.items():
                self._con.execute(f"CREATE OR REPLACE VIEW {table} AS {self._view_sql(table, files)}")
            self._listing = listing
            self._model_names = None
            return True

    def _maybe_refresh(self) -> None:
        if time.monotonic() - self._last_listing_at >= self.refresh_interval:
            self.refresh()

    def _list_files(self, table: str) -> tuple[str, ...]:
        import duckdb

        self.dataset.forget_listings()
        try:
            rows = self._con.sql(
                "SELECT file FROM glob($pattern)", params={"pattern": self.dataset.table_glob(table)}
            )
            return tuple(sorted(str(row[0]) for row in rows.fetchall()))
        except (duckdb.IOException, duckdb.PermissionException) as err:
            raise DatasetError(f"cannot list {self.dataset.location}: {_first_line(err)}") from err

    def _view_sql(self, table: str, files: tuple[str, ...]) -> str:
        import duckdb

        if not files:
            return views.empty_view_sql(table)
        glob = self.dataset.table_glob(table)
        hive = all(_HIVE_FOLDER.search(path) for path in files)
        try:
            # union_by_name reads every footer at each query's planning; only pay for it when
            # the files really differ (older schema versions, newer columns).
            signatures = self._con.sql(_SIGNATURES_SQL, params={"glob": glob}).fetchall()
            uniform = len(signatures) <= 1
            source = views.source_sql(glob, hive=hive, union_by_name=not uniform)
            described = self._con.sql(f"DESCRIBE SELECT * FROM {source}").fetchall()
        except duckdb.Error as err:
            raise DatasetError(
                f"cannot read the {table} files in {self.dataset.location}: {_first_line(err)}"
            ) from err
        present = {str(row[0]): str(row[1]) for row in described}
        return views.scan_view_sql(table, glob, present, hive=hive, union_by_name=not uniform)

    @property
    def has_calls(self) -> bool:
        """Whether the dataset holds any ``calls`` file (checks the listing first)."""
        self._maybe_refresh()
        return bool(self._listing and self._listing["calls"])

    def files(self, table: str = "calls") -> tuple[str, ...]:
        """The Parquet files of ``table`` as last listed."""
        self._maybe_refresh()
        return (self._listing or {}).get(table, ())

    # --- prices ---------------------------------------------------------------------------------

    @property
    def prices(self) -> PriceBook:
        """The price book: genai-prices plus the overrides file (loaded on first use)."""
        with self._lock:
            if self._price_book is None:
                from callscope.analytics.prices import PriceBook

                self._price_book = PriceBook.default(self._prices_path)
            return self._price_book

    def ensure_prices(self, models: Iterable[str] = (), *, repricing: bool = True) -> None:
        """Fill the ``prices`` table and, with ``repricing``, ``_model_prices`` (the prices of
        every model name in the calls, plus ``models``), which re-pricing joins on."""
        with self._lock:
            if not self._prices_loaded:
                self._fill_table("prices", PRICE_COLUMNS, prices_rows(self.prices))
                self._prices_loaded = True
            if not repricing:
                return
            if self._model_names is None:
                rows = self._con.sql(
                    "SELECT DISTINCT coalesce(response_model, request_model) FROM calls "
                    "WHERE coalesce(response_model, request_model) IS NOT NULL"
                ).fetchall()
                self._model_names = frozenset(str(row[0]) for row in rows)
            wanted = self._model_names | frozenset(models)
            if not wanted <= self._priced_names:
                rows = model_prices_rows(self.prices, wanted)
                self._fill_table("_model_prices", MODEL_PRICE_COLUMNS, rows)
                self._priced_names = wanted

    def _fill_table(self, name: str, columns: Sequence[tuple[str, str]], rows: list[tuple[Any, ...]]) -> None:
        """Replace the rows of table ``name`` (built with DuckDB, not pyarrow, which would import pandas)."""
        con = self._con.cursor()
        try:
            con.execute("BEGIN TRANSACTION")
            self._create_table(name, columns, con)
            if rows:
                marks = ", ".join("?" for _ in columns)
                con.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)
            con.execute("COMMIT")
        finally:
            con.close()

    # --- queries --------------------------------------------------------------------------------

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new connection to the (unscoped) database; the caller closes it."""
        self._maybe_refresh()
        with self._lock:
            return self._con.cursor()

    @contextmanager
    def scoped(self, filters: Filters | ResolvedFilters | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on which ``calls`` and ``spans`` show only what ``filters`` select.

        This is the connection the suggestion rules receive. ``prices`` is there too once
        :meth:`ensure_prices` has run.
        """
        resolved = _resolve(filters)
        cursor = self.cursor()
        try:
            apply_scope(cursor, resolved, catalog=self._catalog)
            yield cursor
        finally:
            cursor.close()

    def run_query(
        self, name: str, filters: Filters | ResolvedFilters | None = None, **params: Any
    ) -> QueryResult:
        """Run the named query ``name`` over the calls ``filters`` select.

        ``params`` are the query's parameters (see ``docs/queries.md`` or :func:`query_catalog`);
        they are checked and bound, never formatted into SQL.
        """
        query = self.query(name)
        resolved = _resolve(filters)
        bound = query.bind(params)
        if query.needs_prices:
            models = [bound["target"]] if "target" in bound else []
            self.ensure_prices(models, repricing=query.needs_repricing)
            if "target" in bound and self.prices.lookup(bound["target"]) is None:
                raise UnknownQuery(f"{name}: no price known for the model {bound['target']!r}")
        started = time.perf_counter()
        with self.scoped(resolved) as con:
            if bound.get("bucket") == "auto":
                bound["bucket"] = _auto_bucket(con, resolved)
            table = self._retrying(lambda: _run(con, query, bound))
        if query.compare_previous:
            table = self._with_previous(query, bound, resolved, table)
        return QueryResult(
            table=table,
            name=name,
            params=bound,
            filters=resolved.describe(),
            elapsed_ms=(time.perf_counter() - started) * 1000,
        )

    def _with_previous(
        self, query: NamedQuery, bound: dict[str, Any], resolved: ResolvedFilters, table: pa.Table
    ) -> pa.Table:
        import pyarrow as pa

        previous_filters = resolved.previous()
        previous: pa.Table | None = None
        if previous_filters is not None:
            with self.scoped(previous_filters) as con:
                previous = _run(con, query, bound)
        for field in list(table.schema):
            if previous is not None and previous.num_rows == table.num_rows:
                column = previous.column(field.name)
            else:
                column = pa.nulls(table.num_rows, field.type)
            table = table.append_column(pa.field(f"prev_{field.name}", field.type), column)
        return table

    def sql(
        self,
        query: str,
        params: Mapping[str, Any] | None = None,
        *,
        filters: Filters | ResolvedFilters | None = None,
    ) -> QueryResult:
        """Run trusted SQL (your own code's, never a user's: see :func:`run_user_sql`) over the calls
        ``filters`` select; ``params`` are bound to ``$name`` placeholders."""
        import duckdb

        resolved = _resolve(filters)
        started = time.perf_counter()

        def run() -> pa.Table:
            try:
                return con.sql(query, params=dict(params) if params else None).to_arrow_table()
            except duckdb.Error as err:
                raise QueryError(_first_line(err)) from err

        with self.scoped(resolved) as con:
            table = self._retrying(run)
        return QueryResult(
            table=table, filters=resolved.describe(), elapsed_ms=(time.perf_counter() - started) * 1000
        )

    def _retrying(self, run: Callable[[], pa.Table]) -> pa.Table:
        """``run()``, once more if it failed because the files changed under it (a compaction,
        retention, a writer with a newer schema) and a fresh listing shows they did."""
        try:
            return run()
        except QueryError:
            if not self.refresh():
                raise
            return run()

    @staticmethod
    def query(name: str) -> NamedQuery:
        """The named query ``name``; :class:`UnknownQuery` lists the others."""
        queries = load_queries()
        if name not in queries:
            raise UnknownQuery(f"no query named {name!r}; the queries are: {', '.join(sorted(queries))}")
        return queries[name]

    # --- lifetime -------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the database and delete its scratch folder."""
        with suppress(Exception):
            self._con.close()
        self._cleanup()

    def __enter__(self) -> Analytics:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _resolve(filters: Filters | ResolvedFilters | None) -> ResolvedFilters:
    if isinstance(filters, ResolvedFilters):
        return filters
    return (filters or Filters()).resolve()


def _run(con: duckdb.DuckDBPyConnection, query: NamedQuery, bound: Mapping[str, Any]) -> pa.Table:
    import duckdb

    try:
        return con.sql(query.sql, params=dict(bound) if bound else None).to_arrow_table()
    except duckdb.Error as err:
        raise QueryError(f"query {query.name} failed: {_first_line(err)}") from err


def _auto_bucket(con: duckdb.DuckDBPyConnection, filters: ResolvedFilters) -> str:
    """The bucket width for the calls ``con``'s scope selects, from how long they span.

    The span of the data, not of the window: 25 seconds of calls in a 7-day window get one bar per
    second, not one bar. An empty scope falls back to the window's length (then to hours).
    """
    extent = _run(con, Analytics.query("dataset_extent"), {}).to_pylist()[0]
    if extent["first_call"] is not None:
        return auto_bucket(extent["last_call"] - extent["first_call"])
    return auto_bucket(filters.period) if filters.period is not None else "hour"


def _statements(script: str) -> list[str]:
    import duckdb

    return [statement.query for statement in duckdb.extract_statements(script)]


def _first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def _price_column_meaning(name: str) -> str:
    fixed = {
        "model": "Model id in the price book (genai-prices' id, or the name in your overrides file).",
        "provider": "Provider id, e.g. `openai`.",
        "long_context_threshold": "Input tokens above which the whole request costs long-context rates.",
        "source": "`genai-prices`, or `override` when your overrides file sets a price.",
    }
    if name in fixed:
        return fixed[name]
    mode, _, kind = name.removesuffix("_mtok").partition("_")
    if mode not in ("batch", "flex", "priority"):
        mode, kind = "standard", name.removesuffix("_mtok")
    return f"USD per 1M {kind.replace('_', ' ')} tokens, {mode} processing; NULL when unknown."
