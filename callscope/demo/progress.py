"""The demo's progress display: one bar per part of the app, advanced as its calls return."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Final

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from callscope.demo.workload.recorder import CallRecord

__all__ = ["FEATURE_LABELS", "workload_progress"]

#: What each part of the demo app is, in a few words.
FEATURE_LABELS: Final[dict[str, str]] = {
    "support-chat": "support chat, streamed     POST /chat",
    "ticket-triage": "ticket triage on gpt-4o    POST /tickets",
    "order-agent": "order agent with tools     POST /orders/assist",
    "weekly-report": "weekly account reports     POST /reports/weekly",
    "nightly-digest": "nightly digest             job",
    "blog-writer": "blog writer                job",
    "catalog-retag": "catalogue re-tag burst     job",
    "kb-indexer": "help-centre indexer        job, embeddings",
}


@contextmanager
def workload_progress(
    counts: Mapping[str, int], console: Console, *, enabled: bool = True
) -> Iterator[Callable[[CallRecord], None]]:
    """Show a bar per feature while the block runs; yields the callback the recorder calls after each call.

    Failed calls are counted in a bar's description, so a retry storm shows while it happens.
    """
    if not enabled:
        yield lambda record: None
        return
    columns = (
        TextColumn("  {task.description}"),
        BarColumn(bar_width=24),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]}", style="red"),
    )
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=False) as progress:
        tasks = {
            feature: progress.add_task(FEATURE_LABELS.get(feature, feature), total=count, failed="")
            for feature, count in counts.items()
        }
        failures: dict[str, int] = dict.fromkeys(counts, 0)

        def on_call(record: CallRecord) -> None:
            task = tasks.get(record.feature)
            if task is None:
                return
            if record.status != "ok":
                failures[record.feature] += 1
                progress.update(task, failed=f"{failures[record.feature]} failed")
            progress.advance(task)

        yield on_call
