"""``callscope sql``: read-only SQL over the calls, spans and prices tables, or an interactive prompt."""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Final

import click

from callscope.config import ENV_DATA_DIR, ENV_PRICES_FILE

if TYPE_CHECKING:
    from callscope.analytics import Analytics, QueryResult

FORMATS: Final = ("table", "csv", "json", "parquet")
PROMPT: Final = "callscope> "
CONTINUATION: Final = "      ...> "
HELP: Final = """\
End a query with `;` (it may span lines). Tables: calls, spans, prices (`.schema calls`).
  .tables              list the tables
  .schema [TABLE]      columns, types and meanings
  .format FORMAT       table, csv or json
  .maxrows N           row cap (0: none)
  .timeout SECONDS     time limit per query
  .help                this text
  .quit                leave (or Ctrl-D)"""


@click.command(
    "sql",
    epilog="""\b
Examples:
  callscope sql "SELECT request_model, sum(cost_usd) FROM calls GROUP BY 1 ORDER BY 2 DESC"
  callscope sql --format csv -o costs.csv "FROM calls_by('service') SELECT key, sum(cost_usd) GROUP BY key"
  callscope sql - < query.sql
  callscope sql                                       # interactive prompt

\b
Only one read-only statement runs (SELECT, WITH, VALUES, DESCRIBE, SHOW,
SUMMARIZE, EXPLAIN); files outside the dataset cannot be read, settings cannot
change, and a query is stopped after --timeout seconds. Tables: calls, spans,
prices; macros calls_by(dimension), priced_calls(dimension, mode). Columns:
`.schema calls` at the prompt, or docs/schema.md.""",
)
@click.argument("query", required=False)
@click.option(
    "--data",
    metavar="DIR",
    help=f"Dataset: a directory or s3://bucket/prefix [env {ENV_DATA_DIR}; default ./callscope-data].",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option("--output", "-o", metavar="FILE", help="Write the result to FILE instead of standard output.")
@click.option(
    "--max-rows",
    type=click.IntRange(0),
    default=10_000,
    show_default=True,
    help="Row cap (0: none); a notice says when rows were cut.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0, min_open=True),
    default=30.0,
    show_default=True,
    help="Seconds before the query is stopped.",
)
@click.option(
    "--prices",
    "prices_path",
    metavar="FILE",
    help=f"Prices overrides file, TOML or JSON [env {ENV_PRICES_FILE}].",
)
def command(
    *,
    query: str | None,
    data: str | None,
    output_format: str,
    output: str | None,
    max_rows: int,
    timeout: float,
    prices_path: str | None,
) -> None:
    """Read-only SQL over the calls, spans and prices tables.

    With no QUERY, an interactive prompt; with `-`, the query is read from standard input.
    """
    from callscope.analytics import NO_CALLS_MESSAGE, connect, run_user_sql

    if output_format == "parquet" and output is None:
        raise click.UsageError("--format parquet needs --output FILE")
    explicit = data is not None or bool(os.environ.get(ENV_DATA_DIR))
    with connect(data, prices_path=prices_path, must_exist=explicit) as analytics:
        if not analytics.has_calls:
            click.echo(f"({NO_CALLS_MESSAGE})", err=True)
        if query is None:
            _interactive(analytics, output_format, max_rows, timeout)
            return
        text = sys.stdin.read() if query == "-" else query
        result = run_user_sql(analytics, text, max_rows=max_rows, timeout=timeout)
        _emit(result, output_format, output, max_rows)


def _emit(result: QueryResult, output_format: str, output: str | None, max_rows: int) -> None:
    if output_format == "parquet":
        import pyarrow.parquet as pq

        assert output is not None
        pq.write_table(result.arrow(), output)
    else:
        text = _format(result, output_format)
        if output is None:
            click.echo(text, nl=False)
        else:
            with open(output, "w", encoding="utf-8") as out:
                out.write(text)
    _footer(result, max_rows, sys.stderr)


def _format(result: QueryResult, output_format: str) -> str:
    from callscope.analytics.render import text_table

    if output_format == "csv":
        return result.to_csv()
    if output_format == "json":
        return result.to_json(indent=2) + "\n"
    right = [_is_number(result, name) for name in result.columns]
    return text_table(result.columns, [list(row.values()) for row in result.rows()], right) + "\n"


def _is_number(result: QueryResult, column: str) -> bool:
    import pyarrow as pa

    kind = result.arrow().schema.field(column).type
    return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind))


def _footer(result: QueryResult, max_rows: int, stream: IO[str]) -> None:
    rows = len(result)
    line = f"({rows:,} row{'' if rows == 1 else 's'}, {result.elapsed_ms:,.0f} ms)"
    if result.truncated:
        line += f" — truncated to the first {max_rows:,} rows; raise --max-rows (0: no cap) to see more"
    click.echo(line, file=stream)


@dataclass
class _Settings:
    """What the prompt's dot commands change."""

    format: str
    max_rows: int
    timeout: float


def _interactive(analytics: Analytics, output_format: str, max_rows: int, timeout: float) -> None:
    """A prompt: statements end with `;`; dot commands as in HELP; Ctrl-D leaves."""
    from callscope.analytics import AnalyticsError, run_user_sql

    with contextlib.suppress(ImportError):  # Windows without pyreadline: no line editing
        import readline  # noqa: F401 - gives input() line editing and history
    settings = _Settings("table" if output_format == "parquet" else output_format, max_rows, timeout)
    if sys.stdin.isatty():
        click.echo(f"callscope sql on {analytics.dataset.location} — .help for help, .quit to leave")
    buffer: list[str] = []
    while True:
        try:
            line = input(CONTINUATION if buffer else PROMPT)
        except EOFError:
            click.echo()
            return
        except KeyboardInterrupt:
            click.echo()
            buffer.clear()
            continue
        if not buffer and line.strip().startswith("."):
            if not _dot_command(analytics, line.strip(), settings):
                return
            continue
        buffer.append(line)
        if not line.rstrip().endswith(";"):
            continue
        text = "\n".join(buffer)
        buffer.clear()
        try:
            result = run_user_sql(analytics, text, max_rows=settings.max_rows, timeout=settings.timeout)
        except AnalyticsError as err:
            click.secho(f"error: {err}", fg="red", err=True)
            continue
        click.echo(_format(result, settings.format), nl=False)
        _footer(result, settings.max_rows, sys.stdout)


def _dot_command(analytics: Analytics, line: str, settings: _Settings) -> bool:
    """Run a dot command; ``False`` means leave the prompt."""
    from callscope.analytics import AnalyticsError, run_user_sql

    name, _, argument = line.partition(" ")
    argument = argument.strip()
    try:
        if name in (".quit", ".exit", ".q"):
            return False
        if name == ".help":
            click.echo(HELP)
        elif name == ".tables":
            result = run_user_sql(
                analytics, "SELECT name FROM (SHOW TABLES) WHERE NOT starts_with(name, '_') ORDER BY name"
            )
            click.echo("  ".join(str(row["name"]) for row in result.rows()))
        elif name == ".schema":
            table = argument or "calls"
            result = analytics.run_query("schema")
            rows = [
                [r["column_name"], r["data_type"], r["meaning"] or ""]
                for r in result.rows()
                if r["table_name"] == table
            ]
            if not rows:
                raise AnalyticsError(f"no table {table!r}; the tables are calls, spans, prices")
            from callscope.analytics.render import text_table

            click.echo(text_table(["column", "type", "meaning"], rows))
        elif name == ".format" and argument in ("table", "csv", "json"):
            settings.format = argument
        elif name == ".maxrows" and argument.isdigit():
            settings.max_rows = int(argument)
        elif name == ".timeout" and _positive(argument):
            settings.timeout = float(argument)
        else:
            click.secho(f"unknown or incomplete command {line!r}; .help lists them", fg="red", err=True)
    except AnalyticsError as err:
        click.secho(f"error: {err}", fg="red", err=True)
    return True


def _positive(text: str) -> bool:
    try:
        return float(text) > 0
    except ValueError:
        return False
