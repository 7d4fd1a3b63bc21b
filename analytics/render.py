"""A report as terminal text, Markdown (for a PR) or JSON; plain tables for query results.

Text and Markdown are built from the same blocks (headings, paragraphs, tables), so
the two always show the same figures. Plain text needs no dependency and aligns in
any terminal; numbers are right-aligned, money in dollars to the cent (tenths of a
cent below a dollar), durations in ms or s.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from callscope.analytics.report import Report

__all__ = [
    "markdown_table",
    "render_json",
    "render_markdown",
    "render_text",
    "text_table",
    "usd",
]


# --- number formats ----------------------------------------------------------------------------


def usd(value: Any) -> str:
    if value is None:
        return "—"
    amount = float(value)
    if amount != 0 and abs(amount) < 1:
        return f"${amount:,.4f}"
    return f"${amount:,.2f}"


def ms(value: Any) -> str:
    if value is None:
        return "—"
    amount = float(value)
    if abs(amount) >= 60_000 * 60:
        return f"{amount / 3_600_000:,.1f} h"
    if abs(amount) >= 60_000:
        return f"{amount / 60_000:,.1f} min"
    if abs(amount) >= 1000:
        return f"{amount / 1000:,.2f} s"
    return f"{amount:,.0f} ms"


def count(value: Any) -> str:
    return "—" if value is None else f"{int(value):,}"


def pct(value: Any) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f}%"


def change(value: Any) -> str:
    return "" if value is None else f"{float(value) * 100:+.1f}%"


def when(value: Any) -> str:
    if value is None:
        return "—"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return str(moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M"))


# --- tables --------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(_cell(item) for item in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{key}={_cell(item)}" for key, item in value.items())
    return str(value)


def text_table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], right: Sequence[bool] | None = None
) -> str:
    """An aligned plain-text table; ``right`` says which columns are right-aligned (numbers)."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in cells:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    aligned = right or [False] * len(headers)

    def line(values: Sequence[str]) -> str:
        parts = [
            value.rjust(width) if is_right else value.ljust(width)
            for value, width, is_right in zip(values, widths, aligned, strict=True)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in cells)])


def markdown_table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], right: Sequence[bool] | None = None
) -> str:
    aligned = right or [False] * len(headers)
    escape = str.maketrans({"|": "\\|", "\n": " "})
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---:" if is_right else "---" for is_right in aligned) + "|",
    ]
    lines += ["| " + " | ".join(_cell(value).translate(escape) for value in row) + " |" for row in rows]
    return "\n".join(lines)


# --- the report as blocks ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Table:
    headers: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    right: tuple[bool, ...]


Block = tuple[str, Any]  # ("h1" | "h2" | "p" | "item", text) or ("table", _Table)


def _blocks(data: Mapping[str, Any], max_suggestions: int | None) -> list[Block]:
    blocks: list[Block] = [("h1", f"callscope report — {data['data']}")]
    window = data["window"]
    since = when(window["since"]) if window["since"] else "the first call"
    until = when(window["until"]) if window["until"] else "now"
    scope = f"Calls from {since} to {until} UTC"
    filters = _describe_filters(data["filters"])
    blocks.append(("p", scope + (f"; {filters}" if filters else "") + "."))
    if data["empty"]:
        blocks.append(("p", str(data["message"])))
        return blocks
    totals = data["totals"]
    blocks += _totals_blocks(totals, window)
    blocks += _latency_blocks(data["latency"])
    blocks += _cost_blocks(data["cost"])
    blocks += _error_blocks(data["errors"], totals)
    blocks += _suggestion_blocks(data, max_suggestions)
    for note in data["notes"]:
        blocks.append(("p", f"Note: {note}."))
    return blocks


def _describe_filters(filters: Mapping[str, Any]) -> str:
    parts = []
    for key in ("services", "models", "operations", "environments", "status"):
        if filters[key]:
            parts.append(f"{key.rstrip('s')}: {', '.join(filters[key])}")
    for key, values in filters["tags"].items():
        parts.append(f"tag {key}={'|'.join(values) if values else '*'}")
    return "; ".join(parts)


#: The rows of the totals table: label, key in the report's totals, how to show the value.
_TOTAL_ROWS: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("Calls", "calls", count),
    ("Cost", "cost_usd", usd),
    ("Cost per call", "mean_cost_usd", usd),
    ("Input tokens", "input_tokens", count),
    ("  of which cached", "cached_input_tokens", count),
    ("Output tokens", "output_tokens", count),
    ("Error rate", "error_rate", pct),
    ("Retried calls", "retry_rate", pct),
    ("Rate-limited calls (429)", "rate_limited_calls", count),
    ("Time waiting between retries", "retry_wait_ms", ms),
)


def _totals_blocks(totals: Mapping[str, Any], window: Mapping[str, Any]) -> list[Block]:
    previous = totals["previous"] or {}
    changes = totals["change"] or {}
    rows = [
        (label, show(totals[key]), show(previous.get(key)), change(changes.get(key)))
        for label, key, show in _TOTAL_ROWS
    ]
    blocks: list[Block] = [("h2", "Totals")]
    headers = ("", "this period", "previous period", "change") if previous else ("", "this period")
    width = len(headers)
    blocks.append(
        ("table", _Table(headers, [row[:width] for row in rows], (False, True, True, True)[:width]))
    )
    observed = window.get("observed_days")
    if observed is not None:
        blocks.append(
            ("p", f"Calls observed over {observed:,.1f} days; savings below are extrapolated to 30 days.")
        )
    return blocks


def _latency_blocks(latency: Mapping[str, Any]) -> list[Block]:
    overall = latency["overall"]
    line = (
        f"All calls: p50 {ms(overall['p50_ms'])}, p95 {ms(overall['p95_ms'])}, p99 {ms(overall['p99_ms'])}"
        f"; time to first chunk (streams) p50 {ms(overall['ttft_p50_ms'])}, p95 {ms(overall['ttft_p95_ms'])}."
    )
    rows = [
        (
            row["key"] or "(unknown)",
            count(row["calls"]),
            ms(row["p50_ms"]),
            ms(row["p95_ms"]),
            ms(row["p99_ms"]),
            ms(row["ttft_p50_ms"]),
            ms(row["server_p50_ms"]),
            ms(row["network_p50_ms"]),
        )
        for row in latency["by_model"]
    ]
    headers = ("model", "calls", "p50", "p95", "p99", "TTFC p50", "server p50", "network p50")
    return [("h2", "Latency"), ("p", line), ("table", _Table(headers, rows, (False, *([True] * 7))))]


def _cost_blocks(cost: Mapping[str, Any]) -> list[Block]:
    blocks: list[Block] = [("h2", "Where the money goes")]
    for dimension in ("model", "service", "operation"):
        rows = [
            (
                row["key"] or "(unknown)",
                count(row["calls"]),
                usd(row["cost_usd"]),
                pct(row["cost_share"]),
                usd(row["mean_cost_usd"]),
                count(row["input_tokens"]),
                count(row["output_tokens"]),
            )
            for row in cost[f"by_{dimension}"]
        ]
        headers = (dimension, "calls", "cost", "share", "per call", "input tokens", "output tokens")
        blocks.append(("table", _Table(headers, rows, (False, *([True] * 6)))))
    drivers = [
        (
            row["service_name"] or "(unknown)",
            row["operation"] or "",
            row["model"] or "",
            count(row["calls"]),
            usd(row["cost_usd"]),
            pct(row["cost_share"]),
        )
        for row in cost["top_drivers"]
    ]
    blocks.append(("p", "Top cost drivers (service, operation, model):"))
    blocks.append(
        (
            "table",
            _Table(
                ("service", "operation", "model", "calls", "cost", "share"),
                drivers,
                (False, False, False, True, True, True),
            ),
        )
    )
    return blocks


def _error_blocks(errors: Sequence[Mapping[str, Any]], totals: Mapping[str, Any]) -> list[Block]:
    blocks: list[Block] = [("h2", "Errors")]
    if not errors:
        return [*blocks, ("p", "No failed calls.")]
    blocks.append(("p", f"{count(totals['error_calls'])} failed calls ({pct(totals['error_rate'])} of all)."))
    rows = [
        (
            row["error_type"] or "(unknown)",
            row["error_code"] or "",
            "" if row["http_status"] is None else row["http_status"],
            count(row["calls"]),
            pct(row["share_of_calls"]),
            count(row["retried_calls"]),
            row["example_trace_id"] or "",
        )
        for row in errors
    ]
    headers = ("error", "code", "HTTP", "calls", "of all calls", "retried", "example trace")
    blocks.append(("table", _Table(headers, rows, (False, False, True, True, True, True, False))))
    return blocks


def _suggestion_blocks(data: Mapping[str, Any], max_suggestions: int | None) -> list[Block]:
    suggestions = data["suggestions"]
    shown = suggestions if max_suggestions is None else suggestions[:max_suggestions]
    savings = data["savings"]
    blocks: list[Block] = [("h2", "Suggestions")]
    if not suggestions:
        return [*blocks, ("p", "Nothing to suggest: no rule found a saving in these calls.")]
    blocks.append(
        (
            "p",
            f"Ranked by saving; together about {_saving(savings['usd_30d'], savings['ms_30d'])}. "
            f"Prices: {data['prices']['source']}.",
        )
    )
    for number, finding in enumerate(shown, start=1):
        saving = _saving(finding["saving_usd_30d"], finding["saving_ms_30d"])
        blocks.append(("h3", f"{number}. {finding['title']} — saves {saving} [{finding['rule']}]"))
        blocks.append(("p", finding["summary"]))
        blocks.append(("item", "Evidence: " + _evidence(finding["evidence"])))
        blocks.append(("item", "Arithmetic: " + _arithmetic(finding["arithmetic"])))
    hidden = suggestions[len(shown) :]
    if hidden:
        rest = _saving(
            sum(finding["saving_usd_30d"] or 0 for finding in hidden),
            sum(finding["saving_ms_30d"] or 0 for finding in hidden),
        )
        blocks.append(
            ("p", f"{len(hidden)} more suggestions, worth {rest}: raise --top or use --format json.")
        )
    return blocks


def _saving(usd_30d: float | None, ms_30d: float | None) -> str:
    """``$X and Y of waiting per 30 days``, naming only the parts that are not zero: a saving in
    time alone (streaming, say) reads ``Y of waiting per 30 days``, not ``$0.00 and Y``."""
    parts = []
    if usd_30d:
        parts.append(usd(usd_30d))
    if ms_30d:
        parts.append(f"{ms(ms_30d)} of waiting")
    return " and ".join(parts) + " per 30 days" if parts else "no measurable amount"


def _evidence(evidence: Mapping[str, Any]) -> str:
    parts = [f"{count(evidence['calls'])} calls costing {usd(evidence['cost_usd'])}"]
    for key in ("services", "models", "operations"):
        if evidence[key]:
            parts.append(f"{key} {', '.join(evidence[key])}")
    for key, values in evidence["tags"].items():
        parts.append(f"tag {key}={', '.join(values)}")
    if evidence["prefix_hash"]:
        parts.append(f"prefix {evidence['prefix_hash'][:12]}")
    if evidence["request_hash"]:
        parts.append(f"request {evidence['request_hash'][:12]}")
    if evidence["example_trace_ids"]:
        # Several example calls can share a trace: name each trace once, in order.
        traces = list(dict.fromkeys(evidence["example_trace_ids"]))
        parts.append(f"example traces {', '.join(traces[:3])}")
    return "; ".join(parts)


def _arithmetic(arithmetic: Mapping[str, Any]) -> str:
    inputs = ", ".join(f"{key} = {_cell(value)}" for key, value in arithmetic["inputs"].items())
    prices = "; ".join(
        f"{model}: " + ", ".join(f"{column} ${value:g}/1M" for column, value in columns.items())
        for model, columns in arithmetic["prices"].items()
    )
    text = str(arithmetic["formula"])
    if inputs:
        text += f" with {inputs}"
    if prices:
        text += f"; prices {prices} ({arithmetic['price_source']})"
    return text


# --- emitters ------------------------------------------------------------------------------------


def render_text(report: Report, *, max_suggestions: int | None = None) -> str:
    """The report for a terminal: headings underlined, tables aligned; at most ``max_suggestions``."""
    out: list[str] = []
    previous = ""
    for kind, content in _blocks(report.data, max_suggestions):
        if previous in ("table", "item") and kind in ("table", "p"):
            out.append("")
        previous = kind
        if kind == "h1":
            out += [content, "=" * len(content)]
        elif kind == "h2":
            out += ["", content, "-" * len(content)]
        elif kind == "h3":
            out += ["", content]
        elif kind == "item":
            out.append(f"   - {content}")
        elif kind == "table":
            out.append(text_table(content.headers, content.rows, content.right))
        else:
            out.append(content)
    return "\n".join(out) + "\n"


def render_markdown(report: Report, *, max_suggestions: int | None = None) -> str:
    """The report as GitHub-flavoured Markdown (for a pull request or an issue)."""
    out: list[str] = []
    for kind, content in _blocks(report.data, max_suggestions):
        if kind in ("h1", "h2", "h3"):
            if out and out[-1]:
                out.append("")
            out += [f"{'#' * int(kind[1])} {content}", ""]
        elif kind == "item":
            out.append(f"- {content}")
        elif kind == "table":
            out += [markdown_table(content.headers, content.rows, content.right), ""]
        else:
            out += [content, ""]
    return "\n".join(out).rstrip() + "\n"


def render_json(report: Report) -> str:
    """The report's dict as indented JSON (the format documented in ``docs/report.md``)."""
    return json.dumps(report.data, indent=2, ensure_ascii=False) + "\n"
