"""``callscope schema``: the columns of the ``calls`` and ``spans`` tables."""

from __future__ import annotations

import click

from callscope.collector.schema import TABLES, markdown, table_markdown, table_text


@click.command(
    "schema",
    epilog="""\b
Examples:
  callscope schema                          # both tables, plain text
  callscope schema --table calls
  callscope schema --format markdown > docs/schema.md

\b
The column names are a public contract: queries written against them keep
working across versions (columns may be added, never renamed).""",
)
@click.option("--table", type=click.Choice(sorted(TABLES)), help="Only this table [default: both].")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "markdown"]),
    default="text",
    show_default=True,
    help="Plain aligned columns, or the Markdown of docs/schema.md.",
)
def command(table: str | None, output_format: str) -> None:
    """Print the columns of the call log tables, their types and meaning."""
    if output_format == "markdown":
        click.echo(table_markdown(table) if table else markdown(), nl=False)
        return
    tables = [table] if table else list(TABLES)
    click.echo("\n".join(table_text(name) for name in tables), nl=False)
