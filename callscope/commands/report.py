"""``callscope report``: totals, latency percentiles, cost drivers and ranked suggestions."""

from __future__ import annotations

import os

import click

from callscope.config import ENV_DATA_DIR, ENV_PRICES_FILE

FORMATS = ("text", "json", "markdown")


@click.command(
    "report",
    epilog="""\b
Examples:
  callscope report                                   # the last 7 days
  callscope report --since 30d --service api --format markdown > cost.md
  callscope report --since 2026-11-01 --until 2026-12-01 --tag feature=search
  callscope report --format json | jq '.suggestions[0]'

\b
Times are UTC. --since/--until take a duration before now (7d, 24h, 30m, 2w),
an ISO date or time (2026-11-01, 2026-11-01T12:00), or `all` for no bound.
Savings are extrapolated from the observed period to 30 days. The JSON output
is documented in docs/report.md.""",
)
@click.option(
    "--data",
    metavar="DIR",
    help=f"Dataset: a directory or s3://bucket/prefix [env {ENV_DATA_DIR}; default ./callscope-data].",
)
@click.option("--since", default="7d", show_default=True, help="Start of the window (inclusive).")
@click.option("--until", default=None, help="End of the window (exclusive) [default: now].")
@click.option("--service", "services", multiple=True, metavar="NAME", help="Only this service (repeatable).")
@click.option(
    "--model",
    "models",
    multiple=True,
    metavar="MODEL",
    help="Only this model, as asked for or as answered (repeatable).",
)
@click.option(
    "--operation",
    "operations",
    multiple=True,
    metavar="OP",
    help="Only this operation: chat, embeddings, ... (repeatable).",
)
@click.option(
    "--environment",
    "environments",
    multiple=True,
    metavar="ENV",
    help="Only this deployment environment (repeatable).",
)
@click.option(
    "--tag",
    "tags",
    multiple=True,
    metavar="KEY=VALUE",
    help="Only calls with this tag; KEY alone for any value (repeatable).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--prices",
    "prices_path",
    metavar="FILE",
    help=f"Prices overrides file, TOML or JSON [env {ENV_PRICES_FILE}].",
)
@click.option(
    "--top",
    type=click.IntRange(1, 1000),
    default=10,
    show_default=True,
    help="Rows per table and suggestions shown.",
)
def command(
    *,
    data: str | None,
    since: str,
    until: str | None,
    services: tuple[str, ...],
    models: tuple[str, ...],
    operations: tuple[str, ...],
    environments: tuple[str, ...],
    tags: tuple[str, ...],
    output_format: str,
    prices_path: str | None,
    top: int,
) -> None:
    """Costs, latency percentiles, errors and ranked suggestions with their savings."""
    from callscope.analytics import Filters, connect
    from callscope.analytics.render import render_json, render_markdown, render_text
    from callscope.analytics.report import build_report

    filters = Filters(
        since=_bound(since),
        until=_bound(until),
        services=services,
        models=models,
        operations=operations,
        environments=environments,
        tags=tags,
    )
    resolved = filters.resolve()  # bad filters fail before the dataset is opened
    explicit = data is not None or bool(os.environ.get(ENV_DATA_DIR))
    with connect(data, prices_path=prices_path, must_exist=explicit) as analytics:
        if prices_path:
            analytics.prices  # noqa: B018 - a bad prices file is an error even when there are no calls
        report = build_report(analytics, resolved, top=top)
    if output_format == "json":
        text = render_json(report)  # everything: programs choose for themselves
    elif output_format == "markdown":
        text = render_markdown(report, max_suggestions=top)
    else:
        text = render_text(report, max_suggestions=top)
    click.echo(text, nl=False)


def _bound(value: str | None) -> str | None:
    return None if value is None or value.strip().lower() in ("", "all") else value
