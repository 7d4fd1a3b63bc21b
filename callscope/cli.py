"""The ``callscope`` command line.

Each subcommand lives in its own module under :mod:`callscope.commands` and is
imported only when it runs, so ``callscope run`` does not pay for DuckDB and
``callscope --help`` is instant. This is the one place where a
:class:`~callscope.errors.CallscopeError` becomes a message for the user.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from callscope import __version__
from callscope.errors import CallscopeError

#: name -> (module under callscope.commands, one-line help shown by ``--help``)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("demo", "Run the whole pipeline against a local OpenAI simulator."),
    "run": ("run", "Run a Python program with its OpenAI calls traced."),
    "collect": ("collect", "Receive OTLP spans (HTTP and gRPC) into the Parquet call log."),
    "report": ("report", "Costs, latency percentiles, errors and ranked suggestions."),
    "sql": ("sql", "Read-only SQL over the calls, spans and prices tables."),
    "dashboard": ("dashboard", "Serve the cost review dashboard (Streamlit)."),
    "compact": ("compact", "Merge small Parquet files and apply retention."),
    "schema": ("schema", "Print the columns of the calls and spans tables."),
}

#: top-level module of an optional dependency -> the extra that installs it
OPTIONAL_DEPENDENCIES: dict[str, str] = {
    "pyarrow": "collector",
    "fsspec": "collector",
    "grpc": "collector",
    "starlette": "collector",
    "uvicorn": "collector",
    "google": "collector",
    "s3fs": "s3",
    "duckdb": "analytics",
    "streamlit": "dashboard",
    "altair": "dashboard",
    "pandas": "dashboard",
    "openai": "demo",
    "rich": "demo",
    "bpe_openai": "demo",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, _ = COMMANDS[cmd_name]
        module = importlib.import_module(f"callscope.commands.{module_name}")
        command: click.Command = module.command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Uses the static help strings: listing commands must not import them all.
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CallscopeError as err:
            click.secho(f"callscope: {err}", err=True, fg="red")
            ctx.exit(err.exit_code)
        except ModuleNotFoundError as err:
            top = (err.name or "").split(".")[0]
            if top not in OPTIONAL_DEPENDENCIES:
                raise  # a bug, not a missing extra: keep the traceback
            extra = OPTIONAL_DEPENDENCIES[top]
            click.secho(
                f"callscope: this command needs {top}, which is not installed; "
                f"pip install 'callscope[{extra}]'",
                err=True,
                fg="red",
            )
            ctx.exit(2)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="callscope")
def cli() -> None:
    """callscope: what your OpenAI calls cost, how long they take, why they
    fail, and what to change to make them cheaper and faster.

    Start with `callscope demo`, or trace your own program with
    `callscope run -- python app.py` and then `callscope report`.
    """


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="callscope")


if __name__ == "__main__":
    main()
