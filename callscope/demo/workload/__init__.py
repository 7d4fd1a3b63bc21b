"""The demo app: a support console's backend and its jobs, with a known answer for every suggestion rule.

It calls an OpenAI-compatible API (the simulator) through the real ``openai`` SDK, sync and async, from
request handlers and thread pools, with ``callscope.tags(...)``; whatever instruments the SDK sees what it
would see in production. Each part of the app plants one pattern (:data:`PLANTED`), and
:func:`ground_truth` says what each rule should report about the run::

    plan = Plan.for_size(600, seed=0, time_scale=0.2)
    with SimulatorProcess(simulator_config(plan)) as simulator:
        records = run_workload(plan, simulator.base_url)
    truth = ground_truth(plan.to_dict(), records, simulator.requests())
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from callscope.demo.workload.check import RuleCheck, check_report
    from callscope.demo.workload.plan import DEFAULT_CALLS, DEFAULT_TIME_SCALE, MODELS, Plan, simulator_config
    from callscope.demo.workload.recorder import CallRecord, Recorder
    from callscope.demo.workload.runner import run_workload
    from callscope.demo.workload.truth import (
        PLANTED,
        TIMING_TOLERANCE,
        Expectation,
        GroundTruth,
        ground_truth,
    )

#: Public name -> the module defining it. Imported on first use, so that reading the plan's defaults
#: (``callscope demo --help``) does not import the openai SDK or the analytics stage.
_HOMES = {
    "RuleCheck": "check",
    "check_report": "check",
    "DEFAULT_CALLS": "plan",
    "DEFAULT_TIME_SCALE": "plan",
    "MODELS": "plan",
    "Plan": "plan",
    "simulator_config": "plan",
    "CallRecord": "recorder",
    "Recorder": "recorder",
    "run_workload": "runner",
    "PLANTED": "truth",
    "TIMING_TOLERANCE": "truth",
    "Expectation": "truth",
    "GroundTruth": "truth",
    "ground_truth": "truth",
}

__all__ = [
    "DEFAULT_CALLS",
    "DEFAULT_TIME_SCALE",
    "MODELS",
    "PLANTED",
    "TIMING_TOLERANCE",
    "CallRecord",
    "Expectation",
    "GroundTruth",
    "Plan",
    "Recorder",
    "RuleCheck",
    "check_report",
    "ground_truth",
    "run_workload",
    "simulator_config",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'callscope.demo.workload' has no attribute {name!r}")
    return getattr(importlib.import_module(f"callscope.demo.workload.{home}"), name)
