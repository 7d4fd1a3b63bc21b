"""``callscope run``: run any Python program with its OpenAI calls traced, without changing it."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping

import click

from callscope.config import DEFAULT_DATA_DIR, ENV_DATA_DIR
from callscope.errors import ConfigError


@click.command(
    "run",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    epilog="""\b
Examples:
  callscope run -- python app.py --port 8000
  callscope run --data ./traces --service billing -- python -m billing.worker
  callscope run app.py                      # a .py file runs with this Python
  callscope run -- gunicorn api:app -w 4    # every Python process it starts is traced
  OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318 callscope run -- python app.py

\b
How it works: callscope puts a sitecustomize module first on PYTHONPATH, so every
Python process started by the program calls callscope.instrument() before its
own code runs (an existing sitecustomize still runs). Calls go to --data as
Parquet, or over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set and --data is not.
The program replaces this process: it gets the signals and its exit status is
callscope's. Then look at the calls with `callscope report` or `callscope sql`.""",
)
@click.option(
    "--data",
    metavar="DIR",
    help=f"Where to write the calls: a directory or s3://bucket/prefix "
    f"[env {ENV_DATA_DIR}; default {DEFAULT_DATA_DIR}].",
)
@click.option(
    "--service",
    metavar="NAME",
    help="service.name of the traced process [env OTEL_SERVICE_NAME; default: the program's name].",
)
@click.argument("program", nargs=-1, type=click.UNPROCESSED)
def command(data: str | None, service: str | None, program: tuple[str, ...]) -> None:
    """Run PROGRAM with every OpenAI call it makes traced."""
    argv = list(program)
    if not argv:
        raise ConfigError("give the program to run, e.g. `callscope run -- python app.py`")
    if argv[0].endswith(".py") and os.path.isfile(argv[0]):
        argv.insert(0, sys.executable)
    executable = shutil.which(argv[0])
    if executable is None:
        raise ConfigError(f"program not found: {argv[0]}")
    os.execve(executable, argv, run_environment(os.environ, data=data, service=service))


def run_environment(base: Mapping[str, str], *, data: str | None, service: str | None) -> dict[str, str]:
    """The environment of the traced program: the bootstrap on ``PYTHONPATH`` and the settings."""
    from callscope._bootstrap import BOOTSTRAP_DIR, ENV_RUN

    env = dict(base)
    paths = [
        BOOTSTRAP_DIR,
        *(p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != BOOTSTRAP_DIR),
    ]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env[ENV_RUN] = "1"
    if data is not None:
        env[ENV_DATA_DIR] = data if "://" in data else os.path.abspath(data)
        # An explicit --data means Parquet, even when an OTLP endpoint is configured.
        env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
        env.pop("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", None)
    elif ENV_DATA_DIR in env and "://" not in env[ENV_DATA_DIR]:
        env[ENV_DATA_DIR] = os.path.abspath(env[ENV_DATA_DIR])
    else:
        env.setdefault(ENV_DATA_DIR, os.path.abspath(DEFAULT_DATA_DIR))
    if service:
        env["OTEL_SERVICE_NAME"] = service
    return env
