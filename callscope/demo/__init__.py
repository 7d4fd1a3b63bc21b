"""The demo: a local OpenAI-compatible simulator (and, built on it, a realistic workload).

Everything here runs offline; nothing needs an API key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from callscope.demo.config import FAULT_HEADER, OUTPUT_TOKENS_HEADER, FaultRates, SimulatorConfig
from callscope.demo.errors import DemoError, SimulatorConfigError
from callscope.demo.profiles import DEFAULT_MODELS, ModelProfile
from callscope.demo.stats import ModelStats, RequestRecord, SimulatorStats

if TYPE_CHECKING:
    from callscope.demo.simulator import Simulator

__all__ = [
    "DEFAULT_MODELS",
    "FAULT_HEADER",
    "OUTPUT_TOKENS_HEADER",
    "DemoError",
    "FaultRates",
    "ModelProfile",
    "ModelStats",
    "RequestRecord",
    "Simulator",
    "SimulatorConfig",
    "SimulatorConfigError",
    "SimulatorStats",
]


def __getattr__(name: str) -> Any:
    # Lazy, so that ``python -m callscope.demo.simulator`` does not find its module already imported.
    if name == "Simulator":
        from callscope.demo.simulator import Simulator

        return Simulator
    raise AttributeError(f"module 'callscope.demo' has no attribute {name!r}")
