"""OTLP receiver throughput: OTel's OTLP exporters -> ``callscope collect`` (a subprocess) -> Parquet.

    .venv/bin/python benchmarks/collector_service.py [--spans 100000] [--repeat 3] [--modes ...]

The collector runs as its own process (``python -m callscope collect``, default
settings: fsynced spool, 10 s flushes) and the sender in this one; the machine's
cores are shared by both. Spans are the ones ``benchmarks/collector_exporter.py``
makes: real SDK spans with the ~35 attributes callscope's instrumentation sets
on a chat call, in batches of 512 (``BatchSpanProcessor``'s default).

Modes:

* ``exporter-http`` / ``exporter-grpc``: the real ``OTLPSpanExporter``
  (proto-http / grpc) calls ``export(batch)`` in a loop, over a pool of pre-made
  spans. The exporter encodes every batch in pure Python (about 100 us a span),
  so this measures sender and receiver together, bound by the sender.
* ``wire-http`` / ``wire-grpc``: request bodies made by the same exporter
  encoder once, with fresh span ids per request, sent by two concurrent
  clients (keep-alive ``http.client`` / a gRPC channel): the receiver's own
  capacity, with the sender nearly idle.

``--conversion`` instead times only the converter's work (decode, convert,
write Parquet) in this process, the reference path against ``span_rows``, side
by side on the same bodies.

Time runs from the first request to the collector's exit after SIGTERM, which
writes everything queued, so spans/s counts spans durable in Parquet. The
collector's CPU time (its converter processes included, start-up excluded)
comes from ``wait4``'s rusage; peak RSS is the summed RSS of the collector and
its converter processes, sampled every 100 ms. 1e6 / (CPU µs per span) is what
one core of this machine sustains, whatever else the machine is doing. Every run checks
with DuckDB that the calls table holds exactly the spans sent.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import grpc
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.collector_exporter import batches

MODES = ("exporter-http", "exporter-grpc", "wire-http", "wire-grpc")
EXPORT_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
_PORTS = re.compile(r"OTLP/HTTP\s+http://127\.0\.0\.1:(\d+)/.*\n\s+OTLP/gRPC\s+127\.0\.0\.1:(\d+)")
POOL_BATCHES = 8


@dataclass
class Result:
    mode: str
    converters: int
    spans: int
    seconds: float
    ack_seconds: float
    cpu_seconds: float
    peak_rss_mib: float
    rows: int
    parquet_bytes: int
    pushed_back: int

    @property
    def spans_per_s(self) -> float:
        return self.spans / self.seconds


class Collector:
    def __init__(self, workdir: Path, converters: int) -> None:
        self.data = workdir / "data"
        args = [sys.executable, "-m", "callscope", "collect", "--data", str(self.data)]
        args += ["--converters", str(converters)]
        args += [
            "--spool",
            str(workdir / "spool"),
            "--port",
            "0",
            "--grpc-port",
            "0",
            "--log-level",
            "warning",
        ]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert self.process.stdout is not None
        output = ""
        while (match := _PORTS.search(output)) is None:
            line = self.process.stdout.readline()
            if not line:
                raise SystemExit(f"the collector did not start:\n{output}")
            output += line
        self.http_port, self.grpc_port = int(match[1]), int(match[2])
        self.startup_cpu, self.peak_rss = tree_usage(self.process.pid)
        self._sampling = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        """Track the peak of the summed RSS of the collector and its converter processes."""
        while not self._sampling.wait(0.1):
            try:
                self.peak_rss = max(self.peak_rss, tree_usage(self.process.pid)[1])
            except OSError:
                return

    def stop(self) -> tuple[float, float]:
        """SIGTERM, wait for the final flush; returns (CPU seconds since start-up, peak RSS MiB)."""
        self.process.send_signal(signal.SIGTERM)
        _, status, usage = os.wait4(self.process.pid, 0)  # usage includes the reaped converter processes
        self._sampling.set()
        self._sampler.join()
        self.process.returncode = os.waitstatus_to_exitcode(status)
        if self.process.stdout is not None:
            rest = self.process.stdout.read()
            self.process.stdout.close()
            if self.process.returncode != 0:
                raise SystemExit(f"the collector failed ({self.process.returncode}):\n{rest}")
        return usage.ru_utime + usage.ru_stime - self.startup_cpu, max(self.peak_rss, usage.ru_maxrss / 1024)


def tree_usage(pid: int) -> tuple[float, float]:
    """CPU seconds (user + system) and RSS in MiB of ``pid`` and its child processes, from /proc."""
    tick, page = os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE")
    cpu = rss = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            cpu += (int(fields[11]) + int(fields[12])) / tick
            rss += int(fields[21]) * page / 2**20
    return cpu, rss


def span_pool() -> list[list[ReadableSpan]]:
    return list(batches(POOL_BATCHES * 512))


def fresh_bodies(pool: list[list[ReadableSpan]]) -> Callable[[], bytes]:
    """Request bodies encoded by the exporter's encoder; each call gives new span ids."""
    templates = [
        ExportTraceServiceRequest.FromString(encode_spans(batch).SerializeToString()) for batch in pool
    ]
    lock = threading.Lock()
    counter = [0]

    def next_body() -> bytes:
        with lock:
            request = templates[counter[0] % len(templates)]
            counter[0] += 1
            for resource_spans in request.resource_spans:
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        span.span_id = random.randbytes(8)
            return request.SerializeToString()

    return next_body


def send_exporter(mode: str, collector: Collector, pool: list[list[ReadableSpan]], total: int) -> None:
    if mode == "exporter-http":
        exporter: HttpExporter | GrpcExporter = HttpExporter(
            endpoint=f"http://127.0.0.1:{collector.http_port}/v1/traces", timeout=30
        )
    else:
        exporter = GrpcExporter(endpoint=f"127.0.0.1:{collector.grpc_port}", insecure=True, timeout=30)
    sent = 0
    while sent < total:
        batch = pool[(sent // 512) % len(pool)][: total - sent]
        if exporter.export(batch) is not SpanExportResult.SUCCESS:
            raise SystemExit(f"{mode}: export failed")
        sent += len(batch)
    exporter.shutdown()


def send_wire(mode: str, collector: Collector, next_body: Callable[[], bytes], requests: int) -> int:
    """Send ``requests`` bodies from two clients that back off as told (like the exporters); returns
    how many times the collector pushed back."""
    remaining = [requests]
    pushed_back = [0]
    errors: list[BaseException] = []
    lock = threading.Lock()

    def take() -> bool:
        with lock:
            remaining[0] -= 1
            return remaining[0] >= 0 and not errors

    def back_off(seconds: float) -> None:
        with lock:
            pushed_back[0] += 1
        time.sleep(seconds)

    def http_client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", collector.http_port, timeout=60)
        while take():
            body = next_body()
            while True:
                connection.request("POST", "/v1/traces", body, {"Content-Type": "application/x-protobuf"})
                response = connection.getresponse()
                response.read()
                if response.status == 200:
                    break
                if response.status not in (429, 503):
                    raise RuntimeError(f"{mode}: HTTP {response.status}")
                back_off(float(response.getheader("Retry-After") or 1))
        connection.close()

    def grpc_client() -> None:
        with grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}") as channel:
            export = channel.unary_unary(EXPORT_METHOD)
            while take():
                body = next_body()
                while True:
                    try:
                        export(body, timeout=60)
                        break
                    except grpc.RpcError as err:
                        if err.code() is not grpc.StatusCode.UNAVAILABLE:
                            raise
                        back_off(1.0)

    def guarded(client: Callable[[], None]) -> None:
        try:
            client()
        except BaseException as err:
            errors.append(err)

    client = http_client if mode == "wire-http" else grpc_client
    threads = [threading.Thread(target=guarded, args=(client,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"{mode}: {errors[0]!r}")
    return pushed_back[0]


def run(mode: str, converters: int, total: int, pool: list[list[ReadableSpan]]) -> Result:
    workdir = Path(tempfile.mkdtemp(prefix="callscope-bench-collect-"))
    try:
        collector = Collector(workdir, converters)
        requests = total // 512
        total = requests * 512
        next_body = fresh_bodies(pool) if mode.startswith("wire") else None
        started = time.perf_counter()
        pushed_back = 0
        if next_body is None:
            send_exporter(mode, collector, pool, total)
        else:
            pushed_back = send_wire(mode, collector, next_body, requests)
        acknowledged = time.perf_counter()
        cpu, rss = collector.stop()
        finished = time.perf_counter()
        files = list((collector.data / "calls").rglob("*.parquet"))
        connection = duckdb.connect()
        [(rows,)] = connection.execute(
            f"SELECT count(*) FROM read_parquet('{collector.data}/calls/**/*.parquet')"
        ).fetchall()
        connection.close()
        if rows != total:
            raise SystemExit(f"{mode}: {rows} rows in Parquet, {total} spans sent")
        size = sum(f.stat().st_size for f in files)
        return Result(
            mode,
            converters,
            total,
            finished - started,
            acknowledged - started,
            cpu,
            rss,
            rows,
            size,
            pushed_back,
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def compare_conversion(total: int, repeat: int) -> None:
    """The converter's work alone, side by side in this process: the reference path (protobuf
    objects -> ``to_records`` -> ``span_values``) against ``span_rows``, each writing real Parquet."""
    from callscope.collector.normalize import span_values
    from callscope.collector.service.decode import to_records
    from callscope.collector.service.span_rows import SpanRowDecoder
    from callscope.collector.writer import DatasetWriter

    bodies = [encode_spans(batch).SerializeToString() for batch in batches(total)]
    spans = 512 * len(bodies)
    # Each run starts with a new decoder (an empty attribute cache): every body is new to it, as
    # in real traffic, where ids, hashes and token counts differ from span to span.
    paths: dict[str, Callable[[], Callable[[bytes], list[tuple[str, list[Any]]]]]] = {
        "to_records + span_values": lambda: (
            lambda body: [
                span_values(record) for record in to_records(ExportTraceServiceRequest.FromString(body))
            ]
        ),
        "span_rows": lambda: SpanRowDecoder().rows,
    }
    timings: dict[str, list[float]] = {name: [] for name in paths}
    with tempfile.TemporaryDirectory() as data:  # one-time imports (pyarrow), untimed
        writer = DatasetWriter(data, max_age_s=None)
        for make in paths.values():
            writer.add_values(make()(bodies[0]))
        writer.close()
    for _ in range(repeat):  # interleaved, so drift on a noisy machine hits both
        for name, make in paths.items():
            convert = make()
            with tempfile.TemporaryDirectory() as data:
                writer = DatasetWriter(data, max_age_s=None)
                started = time.thread_time()
                for body in bodies:
                    writer.add_values(convert(body))
                writer.close()
                timings[name].append((time.thread_time() - started) / spans * 1e6)
    print(f"\n{spans:,} spans, median of {repeat} runs, thread CPU time, os.getloadavg() {os.getloadavg()}\n")
    print("| conversion path | CPU µs per span (decode, convert, write Parquet) | spans/s per core |")
    print("|---|---|---|")
    for name, runs in timings.items():
        median = statistics.median(runs)
        print(f"| {name} | {median:.1f} | {1e6 / median:,.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--spans", type=int, default=200_000, help="spans per run (rounded to batches of 512)"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument(
        "--converters", nargs="+", type=int, default=[1, 2], help="collector --converters values"
    )
    parser.add_argument(
        "--conversion",
        action="store_true",
        help="only compare the converter's two paths in this process (no collector, no network)",
    )
    args = parser.parse_args()
    if args.conversion:
        compare_conversion(args.spans, args.repeat)
        return
    pool = span_pool()
    setups = [(mode, converters) for mode in args.modes for converters in args.converters]
    results: dict[tuple[str, int], list[Result]] = {setup: [] for setup in setups}
    for round_no in range(args.repeat):  # setups interleaved, so drift on a noisy machine hits all of them
        for mode, converters in setups:
            result = run(mode, converters, args.spans, pool)
            results[(mode, converters)].append(result)
            cpu = result.cpu_seconds / result.spans * 1e6
            print(
                f"round {round_no + 1} {mode} --converters {converters}: {result.spans_per_s:,.0f} spans/s, "
                f"{cpu:,.0f} CPU µs/span, peak RSS {result.peak_rss_mib:,.0f} MiB",
                file=sys.stderr,
                flush=True,
            )
    spans = args.spans // 512 * 512
    print(f"\n{spans:,} spans per run, median of {args.repeat} runs, {os.cpu_count()} cores for both sides\n")
    print(
        "| mode | converters | spans/s into Parquet | spans/s acknowledged | collector CPU µs/span "
        "| collector peak RSS | pushed back (retried) | Parquet per million calls |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for (mode, converters), runs in results.items():
        durable = statistics.median(r.spans_per_s for r in runs)
        acked = statistics.median(r.spans / r.ack_seconds for r in runs)
        cpu = statistics.median(r.cpu_seconds / r.spans * 1e6 for r in runs)
        rss = max(r.peak_rss_mib for r in runs)
        pushed = statistics.median(r.pushed_back for r in runs)
        size = statistics.median(r.parquet_bytes / r.rows * 1e6 / 2**20 for r in runs)
        shown = "(exporter retries)" if mode.startswith("exporter") else f"{pushed:,.0f}"
        print(
            f"| {mode} | {converters} | {durable:,.0f} | {acked:,.0f} | {cpu:,.0f} "
            f"| {rss:,.0f} MiB | {shown} | {size:,.0f} MiB |"
        )


if __name__ == "__main__":
    main()
