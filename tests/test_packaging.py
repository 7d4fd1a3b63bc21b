"""The shape of the distribution: light base install, entry points, CLI wiring."""

from __future__ import annotations

import importlib
import subprocess
import sys
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from click.testing import CliRunner

from callscope.cli import COMMANDS, OPTIONAL_DEPENDENCIES, cli

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("duckdb", "streamlit", "pyarrow", "pandas", "grpc", "uvicorn", "starlette")


def _pyproject() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)


def test_base_dependencies_are_light() -> None:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    names = " ".join(project["dependencies"]).lower()
    for heavy in HEAVY:
        assert heavy not in names


def test_instrumenting_imports_nothing_heavy() -> None:
    # A fresh interpreter: instrumenting an app must not load DuckDB, Streamlit or pyarrow.
    code = (
        "import sys, callscope, callscope.instrumentation, callscope.instrumentation.attributes\n"
        f"heavy = {HEAVY!r}\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_instrumentor_entry_point_is_registered() -> None:
    found = {ep.name: ep.value for ep in entry_points(group="opentelemetry_instrumentor")}
    assert found.get("openai") == "callscope.instrumentation:OpenAIInstrumentor"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help(name: str) -> None:
    module = importlib.import_module(f"callscope.commands.{COMMANDS[name][0]}")
    assert module.command.help, f"callscope {name} has no help text"
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output


def test_top_level_help_lists_every_command_without_importing_them() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output


def test_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["nope"])
    assert result.exit_code == 2
    assert "No such command" in result.output


def test_optional_dependency_table_names_real_extras() -> None:
    extras = _pyproject()["project"]["optional-dependencies"]  # type: ignore[index]
    assert set(OPTIONAL_DEPENDENCIES.values()) <= set(extras)
