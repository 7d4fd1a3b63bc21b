"""``callscope collect`` on the command line: help, and one-line errors for user mistakes."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from callscope.collector.service.spool import Spool
from click.testing import CliRunner

from callscope.cli import cli


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["collect", *args])
    return result.exit_code, result.output


def test_help_explains_the_service() -> None:
    code, output = run("--help")
    assert code == 0
    for text in (
        "--port",
        "--grpc-port",
        "--token",
        "--spool",
        "CALLSCOPE_TOKEN",
        "kill -9",
        "docs/scaling.md",
    ):
        assert text in output


def test_a_port_in_use_is_a_one_line_error(tmp_path: Path, busy_port: int) -> None:
    code, output = run(
        "--data", str(tmp_path / "d"), "--spool", str(tmp_path / "s"), "--port", str(busy_port)
    )
    assert code == 1
    assert output.strip() == (
        f"callscope: cannot listen on 127.0.0.1:{busy_port} (Address already in use); pick another --port"
    )
    assert "Traceback" not in output


def test_a_spool_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    holder = Spool(tmp_path / "s")
    holder.open()
    try:
        code, output = run("--data", str(tmp_path / "d"), "--spool", str(tmp_path / "s"), "--port", "0")
    finally:
        holder.close()
    assert code == 1
    assert "is in use by another collector" in output
    assert len(output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--max-request-size", "lots"), "is not a size like 20MiB"),
        (("--max-request-size", "20MiB", "--max-buffer", "30MiB"), "must be at least twice"),
        (("--token", " "), "the token is empty"),
    ],
)
def test_bad_settings_are_explained(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    code, output = run("--data", str(tmp_path / "d"), "--spool", str(tmp_path / "s"), "--port", "0", *args)
    assert code != 0
    assert message in output
    assert "Traceback" not in output
