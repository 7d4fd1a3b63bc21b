"""``run_user_sql``: SQL typed by a person, run so that it can only read the call log.

Layers, each enough on its own for most attacks:

1. **One read-only statement.** DuckDB's own parser (``duckdb.extract_statements``)
   splits and classifies the text; only a single ``SELECT`` (which covers ``WITH``,
   ``VALUES``, ``FROM x``, ``DESCRIBE``, ``SHOW``, ``SUMMARIZE``) or an ``EXPLAIN`` of
   one is run. ``COPY``, ``ATTACH``, ``INSTALL``/``LOAD``, ``SET``, ``PRAGMA``,
   ``CALL``, ``CREATE``, ``EXPORT`` and the rest are refused before anything executes.
   The statement runs in a read-only transaction that is always rolled back, so a
   ``SELECT`` wrapping a data-modifying CTE cannot change the in-memory tables either.
2. **A locked-down database** (see :mod:`callscope.analytics.connection`): files are
   readable only under the dataset's root, external access and Python replacement scans
   are off, and the configuration is locked, so ``read_csv('/etc/passwd')``,
   ``glob('/')``, ``getenv()`` and ``SET`` fail inside DuckDB even if they got this far.
3. **Limits.** A timer interrupts the query after ``timeout`` seconds; rows are streamed
   and at most ``max_rows`` are kept, with ``truncated`` set when there were more.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import TYPE_CHECKING, Any, Final

from callscope.analytics.errors import QueryError, QueryTimeout, RefusedQuery
from callscope.analytics.result import QueryResult

if TYPE_CHECKING:
    from callscope.analytics.connection import Analytics

__all__ = ["DEFAULT_MAX_ROWS", "DEFAULT_TIMEOUT_S", "check_user_sql", "run_user_sql"]

DEFAULT_MAX_ROWS: Final = 10_000
DEFAULT_TIMEOUT_S: Final = 30.0
_BATCH_ROWS: Final = 8192
_REFUSED: Final = (
    "only a single read-only query (SELECT, WITH, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN) can run"
)


def check_user_sql(sql: str) -> str:
    """The one statement in ``sql`` if it only reads; otherwise :class:`RefusedQuery` saying why."""
    import duckdb

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as err:
        raise QueryError(_message(err)) from err
    if not statements:
        raise RefusedQuery("no SQL statement to run")
    if len(statements) > 1:
        raise RefusedQuery(f"{len(statements)} statements given; {_REFUSED}, one at a time")
    statement = statements[0]
    kind = _kind(statement)
    if kind == "EXPLAIN":
        _check_explained(statement.query)
    elif kind != "SELECT":
        raise RefusedQuery(f"{kind} statements are not allowed: {_REFUSED}")
    return statement.query


def _kind(statement: Any) -> str:
    """The statement's type name; ``UNKNOWN`` for kinds this duckdb's Python API cannot name."""
    try:
        return str(statement.type.name)
    except ValueError:  # e.g. UPDATE EXTENSIONS: "29 is not a valid StatementType"
        return "UNKNOWN"


def _check_explained(sql: str) -> None:
    """``EXPLAIN [ANALYZE] x`` runs ``x`` (ANALYZE executes it): ``x`` must be a SELECT too."""
    import duckdb

    tokens = duckdb.tokenize(sql)
    index, depth = 1, 0  # tokens[0] is EXPLAIN
    while index < len(tokens):
        offset, kind = tokens[index]
        text = sql[offset:].lstrip()
        if kind == duckdb.token_type.operator and text.startswith("("):
            depth += 1
        elif kind == duckdb.token_type.operator and text.startswith(")"):
            depth -= 1
        elif depth == 0 and not (
            kind == duckdb.token_type.keyword and text[:7].upper() in ("ANALYZE", "ANALYSE")
        ):
            break
        index += 1
    explained = sql[tokens[index][0] :] if index < len(tokens) else ""
    inner = duckdb.extract_statements(explained) if explained.strip() else []
    if len(inner) != 1 or _kind(inner[0]) != "SELECT":
        raise RefusedQuery(f"EXPLAIN of anything but a SELECT is not allowed: {_REFUSED}")


def run_user_sql(
    analytics: Analytics,
    sql: str,
    *,
    max_rows: int | None = DEFAULT_MAX_ROWS,
    timeout: float | None = DEFAULT_TIMEOUT_S,
) -> QueryResult:
    """Run untrusted SQL over ``calls``, ``spans`` and ``prices`` (unfiltered).

    Raises :class:`RefusedQuery` for anything but one read-only statement or for reaching
    outside the dataset, :class:`QueryTimeout` after ``timeout`` seconds, :class:`QueryError`
    for SQL errors. At most ``max_rows`` rows come back (``None`` or 0: no cap);
    ``truncated`` tells whether there were more.
    """
    import duckdb
    import pyarrow as pa

    statement = check_user_sql(sql)
    analytics.ensure_prices()
    cursor = analytics.cursor()
    timer = threading.Timer(timeout, cursor.interrupt) if timeout else None
    started = time.perf_counter()
    truncated = False
    try:
        # A SELECT can still write (`WITH x AS (DELETE ... RETURNING *) SELECT ...`): a read-only
        # transaction refuses that, and it is rolled back whatever happens.
        cursor.execute("BEGIN TRANSACTION READ ONLY")
        if timer is not None:
            timer.daemon = True
            timer.start()
        reader = cursor.sql(statement).to_arrow_reader(_BATCH_ROWS)
        batches, count = [], 0
        for batch in reader:
            batches.append(batch)
            count += batch.num_rows
            if max_rows and count > max_rows:
                truncated = True
                break
        table = pa.Table.from_batches(batches, schema=reader.schema)
        if truncated and max_rows:
            table = table.slice(0, max_rows)
    except duckdb.InterruptException as err:
        raise QueryTimeout(f"the query ran longer than {timeout:g} s and was stopped") from err
    except duckdb.PermissionException as err:
        raise RefusedQuery(f"the query reaches outside the dataset: {_message(err)}") from err
    except duckdb.TransactionException as err:
        raise RefusedQuery(f"the query tries to change data, which is not allowed: {_message(err)}") from err
    except duckdb.Error as err:
        raise QueryError(_message(err)) from err
    finally:
        if timer is not None:
            timer.cancel()
        with contextlib.suppress(duckdb.Error):
            cursor.execute("ROLLBACK")
        cursor.close()
    return QueryResult(table=table, truncated=truncated, elapsed_ms=(time.perf_counter() - started) * 1000)


def _message(err: BaseException) -> str:
    """DuckDB's message without the caret diagram under it."""
    lines = []
    for line in str(err).strip().splitlines():
        if line.startswith("LINE "):
            break
        if line.strip():
            lines.append(line.strip())
    return " ".join(lines) or type(err).__name__
