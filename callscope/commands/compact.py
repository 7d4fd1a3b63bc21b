"""``callscope compact``: merge small Parquet files of past days, and apply a retention period."""

from __future__ import annotations

import os
import re

import click

from callscope.config import DEFAULT_DATA_DIR, ENV_DATA_DIR, data_dir
from callscope.errors import ConfigError

ENV_RETENTION = "CALLSCOPE_RETENTION"
_DURATION = re.compile(r"^\s*(\d+)\s*([dw]?)\s*$")


def parse_retention(value: str | None) -> int | None:
    """``30d`` / ``4w`` / ``90`` -> days; ``none`` / empty -> ``None`` (keep everything)."""
    if value is None or value.strip().lower() in ("", "none", "forever"):
        return None
    match = _DURATION.match(value.lower())
    if match is None:
        raise ConfigError(f"--retention {value!r}: use days or weeks, e.g. 30d or 4w (or 'none')")
    return int(match[1]) * (7 if match[2] == "w" else 1)


@click.command(
    "compact",
    epilog=f"""\b
Examples:
  callscope compact                         # merge the small files of past days
  callscope compact --retention 30d         # ... and delete days older than 30 days
  callscope compact --data s3://bucket/calls --retention 13w --dry-run

\b
Writers (apps, collectors) may keep running: only files that were merged are
deleted, and each merged file appears whole. For a moment after a day is merged
(milliseconds locally, one request on S3) a query can see its rows twice; run
it from cron, e.g. hourly. Days are compacted an hour after they end (UTC).
Only one compaction runs at a time per dataset. Retention also from
${ENV_RETENTION}.""",
)
@click.option(
    "--data",
    metavar="DIR",
    help=f"Dataset: a directory or s3://bucket/prefix [env {ENV_DATA_DIR}; default {DEFAULT_DATA_DIR}].",
)
@click.option(
    "--retention", metavar="AGE", help="Delete days older than this: 30d, 4w, or none [default: none]."
)
@click.option("--dry-run", is_flag=True, help="Only print what would be merged and deleted.")
def command(data: str | None, retention: str | None, dry_run: bool) -> None:
    """Merge the small files of past days into one per day; apply retention."""
    from callscope.collector.compact import compact

    location = data_dir(data)
    days = parse_retention(retention if retention is not None else os.environ.get(ENV_RETENTION))
    if "://" not in location and not os.path.isdir(location):
        raise ConfigError(f"no dataset at {location} (pass --data DIR or set {ENV_DATA_DIR})")
    report = compact(location, retention_days=days, dry_run=dry_run, progress=click.echo)
    files = sum(merge.sources for merge in report.merged)
    before = "would merge" if dry_run else "merged"
    summary = f"{before} {files} files into {len(report.merged)}"
    if days is not None:
        deleted = "would delete" if dry_run else "deleted"
        summary += f"; {deleted} {len(report.expired)} days older than {days} days"
    if report.recovered:
        summary += f"; removed {report.recovered} files left by an interrupted run"
    if report.skipped:
        summary += f"; skipped {', '.join(report.skipped)} (retry later)"
    click.echo(summary if report.merged or report.expired or report.recovered else "nothing to do")
