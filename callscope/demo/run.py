"""``callscope demo``: the whole pipeline on one machine, against the simulator, with known answers.

1. A fresh data folder (the demo's own: a folder holding anything else is refused).
2. The simulator on a free loopback port, set up for the workload (a low rate limit on one model).
3. ``callscope.instrument()`` as any app would call it: spans go to Parquet in-process, or with ``otlp`` to a
   ``callscope collect`` process started for the purpose.
4. The demo app (:mod:`callscope.demo.workload`) makes its calls through the real ``openai`` SDK.
5. Flush, compute the ground truth, print ``callscope report``'s text and how it compares with the truth.

Serving the dashboard afterwards is the command's job (:mod:`callscope.commands.demo`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from callscope.demo.errors import DemoError
from callscope.demo.workload.plan import DEFAULT_CALLS, DEFAULT_TIME_SCALE, Plan, simulator_config

if TYPE_CHECKING:
    from rich.console import Console

    from callscope.demo.workload.check import RuleCheck
    from callscope.demo.workload.truth import GroundTruth

__all__ = [
    "DEFAULT_DEMO_DATA",
    "SERVICE_NAME",
    "DemoOptions",
    "DemoRun",
    "load_truth",
    "prepare_data_dir",
    "run_demo",
]

#: The demo's own data folder, apart from ``./callscope-data`` so it never mixes with real calls.
DEFAULT_DEMO_DATA: Final = "./callscope-demo-data"
#: ``service.name`` of the demo app.
SERVICE_NAME: Final = "acme-support"
#: Marks a folder as the demo's (so the next run may clear it) and holds the run's ground truth.
DEMO_FILE: Final = (".callscope", "demo.json")
_OTLP_ENV: Final = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
)


@dataclass(frozen=True)
class DemoOptions:
    calls: int = DEFAULT_CALLS
    seed: int = 0
    data: str = DEFAULT_DEMO_DATA
    time_scale: float = DEFAULT_TIME_SCALE
    #: Send spans over OTLP to a ``callscope collect`` process instead of writing Parquet in-process.
    otlp: bool = False
    #: Show progress bars while the app runs.
    progress: bool = True


@dataclass(frozen=True)
class DemoRun:
    """What a run produced."""

    data: str
    plan: Plan
    truth: GroundTruth
    report: dict[str, Any]
    checks: list[RuleCheck]
    workload_seconds: float

    @property
    def as_expected(self) -> bool:
        """The report found every planted pattern, with the expected savings, and nothing else."""
        return all(not check.problems() for check in self.checks)


def demo_file(data: str | Path) -> Path:
    return Path(data).joinpath(*DEMO_FILE)


def load_truth(data: str | Path) -> GroundTruth:
    """The ground truth of the demo run that wrote ``data``."""
    path = demo_file(data)
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise DemoError(f"no finished demo run in {data}: {err}") from err
    if content.get("status") != "done":
        raise DemoError(f"the demo run in {data} did not finish")
    from callscope.demo.workload.truth import GroundTruth

    return GroundTruth.load(path.with_name("demo-truth.json"))


def prepare_data_dir(data: str) -> str | None:
    """Make ``data`` an empty folder marked as the demo's; returns a notice when it cleared a previous run.

    A folder holding files the demo did not write (a real call log, say) is refused, never cleared.
    """
    if "://" in data:
        raise DemoError(f"the demo writes to a local folder; --data {data} is a URL")
    root = Path(data)
    if root.exists() and not root.is_dir():
        raise DemoError(f"--data {data} is a file, not a folder")
    notice = None
    if root.is_dir() and any(root.iterdir()):
        if not demo_file(root).is_file():
            raise DemoError(
                f"{data} already holds files the demo did not write. The demo clears its folder on every "
                "run, so it only uses an empty folder or its own: pick another with --data"
            )
        try:
            for entry in root.iterdir():
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        except OSError as err:
            raise DemoError(
                f"cannot clear the previous demo's data in {data}: {err.strerror or err}"
            ) from err
        notice = "cleared the previous demo run's data"
    _write_marker(root, {"status": "running"})
    return notice


def _write_marker(root: Path, content: dict[str, Any]) -> None:
    path = demo_file(root)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"callscope_demo": 1, **content}, indent=1) + "\n", encoding="utf-8")
    except OSError as err:
        raise DemoError(f"cannot write to the data folder {root}: {err.strerror or err}") from err


@contextlib.contextmanager
def _otlp_environment(endpoint: str) -> Iterator[None]:
    """Point the OTLP exporter ``callscope.instrument()`` creates at the collector, for this block only."""
    saved = {name: os.environ.get(name) for name in _OTLP_ENV}
    os.environ.update(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{endpoint}/v1/traces",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
        }
    )
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _instrumented(options: DemoOptions, data: str, console: Console) -> Iterator[None]:
    """``callscope.instrument()`` for the block: Parquet in ``data``, or OTLP to ``callscope collect``."""
    import callscope
    from callscope.demo.otlp import CollectorProcess

    with contextlib.ExitStack() as stack:
        if options.otlp:
            collector = stack.enter_context(CollectorProcess(data))
            assert collector.endpoint is not None
            console.print(f"  spans      over OTLP/HTTP to `callscope collect` at {collector.endpoint}")
            stack.enter_context(_otlp_environment(collector.endpoint))
            setup = callscope.instrument(service_name=SERVICE_NAME)
        else:
            console.print("  spans      written to Parquet in-process (callscope.instrument())")
            setup = callscope.instrument(data, service_name=SERVICE_NAME)
        if setup is None:
            raise DemoError("OTEL_SDK_DISABLED is set: the demo needs tracing on")
        try:
            yield
        finally:
            # Flushes every span (to Parquet, or to the collector, which has them written once it stops).
            callscope.uninstrument()


def run_demo(options: DemoOptions, console: Console) -> DemoRun:
    """Run the demo app against the simulator with callscope on, and report on it (see the module doc)."""
    plan = Plan.for_size(options.calls, seed=options.seed, time_scale=options.time_scale)
    data = os.path.abspath(options.data)
    notice = prepare_data_dir(data)
    # Only now the heavy imports (the openai SDK, the analytics stage): a refusal above is instant.
    from callscope.demo.progress import workload_progress
    from callscope.demo.simulator_process import SimulatorProcess
    from callscope.demo.workload.check import check_report
    from callscope.demo.workload.runner import run_workload
    from callscope.demo.workload.truth import ground_truth

    console.print(
        "[bold]callscope demo[/bold]: an app calling a local OpenAI simulator (no API key, no network)\n"
    )
    simulator = SimulatorProcess(simulator_config(plan))
    url = simulator.start()
    try:
        speed = f"{1 / plan.time_scale:g}x faster than the API" if plan.time_scale < 1 else "the API's speed"
        console.print(
            f"  app        {SERVICE_NAME}: a support console and its background jobs, {plan.total} calls"
        )
        console.print(f"  simulator  {url}, {speed} (--time-scale {plan.time_scale:g})")
        console.print(f"  data       {options.data}" + (f"  ({notice})" if notice else ""))
        with _instrumented(options, data, console):
            console.print()
            started = time.perf_counter()
            bars = options.progress and console.is_terminal
            with workload_progress(plan.calls_by_feature(), console, enabled=bars) as on_call:
                records = run_workload(plan, url, on_call=on_call)
            seconds = time.perf_counter() - started
    finally:
        simulator.stop()
    truth = ground_truth(plan.to_dict(), records, simulator.requests())
    _save_truth(Path(data), options, truth)
    failed = f" ({truth.failed_calls} failed in the end, as planned)" if truth.failed_calls else ""
    console.print(f"\nThe app made {truth.calls} calls in {seconds:.1f} s{failed}.\n")
    report = _report(data, console)
    run = DemoRun(data, plan, truth, report, check_report(truth, report), seconds)
    console.out(render_checks(run), highlight=False)
    return run


def render_checks(run: DemoRun) -> str:
    """The planted patterns next to what the report found, for people."""
    from callscope.analytics.render import ms, text_table, usd
    from callscope.demo.workload.truth import TIMING_TOLERANCE

    def saving(usd_30d: float, ms_30d: float) -> str:
        parts = [usd(usd_30d)] if usd_30d else []
        return ", ".join([*parts, ms(ms_30d)] if ms_30d else parts) or "—"

    def planted_in(check: RuleCheck) -> str:
        if not check.feature:
            return "(not planted)"
        return check.feature if check.planted else f"{check.feature} (not planted)"

    rows = [
        (
            check.rule,
            planted_in(check),
            saving(check.expected.saving_usd_30d, check.expected.saving_ms_30d) if check.expected else "—",
            saving(check.finding["saving_usd_30d"], check.finding["saving_ms_30d"])
            if check.finding
            else "not found",
            "ok" if not check.problems() else "DIFFERENT",
        )
        for check in run.checks
    ]
    planted = sum(1 for check in run.checks if check.planted and check.expected)
    found = sum(1 for check in run.checks if check.planted and check.expected and check.found)
    title = f"Planted patterns: the demo app planted {planted}, and callscope found {found} of them" + (
        ", each with the saving the ground truth predicts." if run.as_expected else "."
    )
    table = text_table(
        ("rule", "planted in", "expected saving / 30 d", "reported", "check"), rows, (False,) * 5
    )
    lines = [title, "", table]
    problems = [problem for check in run.checks for problem in check.problems()]
    if problems:
        lines += ["", "Differences:", *(f"  - {problem}" for problem in problems)]
    lines.append(
        f"\nDollar savings match exactly; time savings within {TIMING_TOLERANCE:.0%}, as the app's clock and "
        "callscope's differ by the instrumentation's own work and by thread scheduling (docs/demo.md)."
    )
    return "\n".join(lines) + "\n"


def _save_truth(root: Path, options: DemoOptions, truth: GroundTruth) -> None:
    truth.save(demo_file(root).with_name("demo-truth.json"))
    _write_marker(root, {"status": "done", "options": asdict(options), "truth": "demo-truth.json"})


def _report(data: str, console: Console) -> dict[str, Any]:
    """``callscope report --data DATA``: printed, and returned in its JSON form."""
    from callscope.analytics import Filters, build_report, connect
    from callscope.analytics.render import render_text

    with connect(data, must_exist=True) as analytics:
        report = build_report(analytics, Filters(since="7d"))
    console.out(render_text(report), highlight=False, end="")
    return report.to_dict()
