"""The environments the overhead benchmark compares, and how to build the peers' virtualenvs.

callscope is measured in the project's own ``.venv``, twice: with its default
background finishing and inline (``CALLSCOPE_FINISH_IN_BACKGROUND=0``). Each
peer gets its own virtualenv under ``benchmarks/.envs/<name>`` (git-ignored),
built with ``uv`` from the pins below: the peer's newest release and the newest ``openai`` it
works with, checked on 2026-11-29:

- OTel's ``opentelemetry-instrumentation-openai-v2`` 2.4b0 imports ``httpx``,
  which openai 3.x no longer installs, and with openai 3.x it loses
  ``server.address``; it works fully with openai 2.54.0. It also needs
  ``opentelemetry-util-genai`` < 1.2 (1.2b0 renamed the ``instruments`` module
  it imports).
- OpenLLMetry's ``opentelemetry-instrumentation-openai`` 0.62.4 and
  ``openinference-instrumentation-openai`` 0.1.66 work with openai 3.57.0.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parent.parent
ENVS = ROOT / "benchmarks" / ".envs"
OTEL_SDK = "opentelemetry-sdk==1.45.2"


@dataclass(frozen=True)
class Environment:
    """A Python environment and the instrumentation measured in it (against its own bare SDK)."""

    name: str
    instrumentation: str
    requirements: tuple[str, ...] = ()  # empty: an existing environment, not built here
    #: Environment variables set for this environment's workers (bare and instrumented alike).
    variables: tuple[tuple[str, str], ...] = ()

    @property
    def python(self) -> Path:
        if not self.requirements:
            return ROOT / ".venv" / "bin" / "python"
        return ENVS / self.name / "bin" / "python"


CALLSCOPE = Environment("callscope", "callscope", variables=(("CALLSCOPE_FINISH_IN_BACKGROUND", "1"),))
CALLSCOPE_INLINE = Environment(
    "callscope inline", "callscope", variables=(("CALLSCOPE_FINISH_IN_BACKGROUND", "0"),)
)
PEERS = (
    Environment(
        "otel-openai-v2",
        "otel-openai-v2",
        (
            "opentelemetry-instrumentation-openai-v2==2.4b0",
            "opentelemetry-util-genai==1.1b0",
            "openai==2.54.0",
            OTEL_SDK,
        ),
    ),
    Environment(
        "openllmetry",
        "openllmetry",
        ("opentelemetry-instrumentation-openai==0.62.4", "openai==3.57.0", OTEL_SDK),
    ),
    Environment(
        "openinference",
        "openinference",
        ("openinference-instrumentation-openai==0.1.66", "openai==3.57.0", OTEL_SDK),
    ),
)


def _uv() -> list[str]:
    local = ROOT / ".venv" / "bin" / "uv"
    return [str(local)] if local.exists() else ["uv"]


def ensure(env: Environment, log: TextIO = sys.stderr) -> Path:
    """Build the environment's virtualenv if it is missing or its pins changed; return its python."""
    if not env.requirements:
        return env.python
    stamp = ENVS / env.name / ".requirements"
    wanted = "\n".join(env.requirements)
    if env.python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return env.python
    print(f"building benchmarks/.envs/{env.name}: {' '.join(env.requirements)}", file=log)
    uv_env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_LINK_MODE": "copy"}
    base_python = os.path.realpath(sys.executable)  # the project's Python 3.11
    subprocess.run(
        [*_uv(), "venv", "-q", "--clear", "--python", base_python, str(ENVS / env.name)],
        check=True,
        env=uv_env,
    )
    subprocess.run(
        [*_uv(), "pip", "install", "-q", "--python", str(env.python), *env.requirements],
        check=True,
        env=uv_env,
    )
    stamp.write_text(wanted)
    return env.python
