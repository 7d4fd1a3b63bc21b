"""``callscope dashboard``: serve the cost review dashboard (Streamlit) over a dataset."""

from __future__ import annotations

import importlib.util
import os
import signal
from typing import Any

import click

from callscope.config import ENV_DATA_DIR, data_dir


@click.command(
    "dashboard",
    epilog="""\b
The pages: Overview, Cost, Latency, Errors & retries, Suggestions, Explorer, SQL.
The sidebar filters (time range, services, models, tags) are kept in the URL:
copy it to share a view. New calls show up as the collector writes them.""",
)
@click.option(
    "--data",
    "data",
    metavar="DIR",
    help=f"Dataset: a directory or s3://bucket/prefix [env {ENV_DATA_DIR}; default ./callscope-data].",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8501,
    show_default=True,
    help="Port to serve on (0: any free one).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; 0.0.0.0 to let other machines in (the dashboard has no login).",
)
def command(*, data: str | None, port: int, host: str) -> None:
    """Serve the cost review dashboard over a dataset.

    Opens nothing by itself: it prints the URL to open. Stop it with Ctrl+C.
    """
    if importlib.util.find_spec("streamlit") is None:
        raise ModuleNotFoundError("No module named 'streamlit'", name="streamlit")  # the CLI names the extra
    from callscope.dashboard.server import start

    location = data_dir(data)
    if "://" not in location:
        location = os.path.abspath(location)
    server = start(location, host=host, port=port)
    stopping = False

    def _stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        server.wait_ready()
        click.echo(f"callscope dashboard: {server.url}  (data: {location})")
        if host in ("0.0.0.0", "::"):
            click.secho("  warning: listening on all interfaces; the dashboard has no login", fg="yellow")
        click.echo("Ctrl+C stops it.")
        code = server.process.wait()
        if code != 0:
            click.secho(f"callscope dashboard: the server stopped with status {code}", err=True, fg="red")
            raise SystemExit(1)
    except KeyboardInterrupt:
        stopping = True
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()
    if stopping:
        click.echo("callscope dashboard: stopped.")
