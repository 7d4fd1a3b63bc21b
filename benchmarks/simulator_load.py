"""Is the demo's OpenAI simulator ever the bottleneck? Latency inflation and CPU under concurrency.

The same mix of calls (half streamed gpt-4o-mini chat with usage, 30 % plain gpt-4o chat, 20 % batched
embeddings) goes through the real async ``openai`` SDK at several concurrencies.

* *Inflation* is each call's client-observed latency divided by the latency the simulator planned for it
  (``RequestRecord.planned_ms``: network, queueing, time to first token, generation). A server that keeps up
  stays near 1 at any concurrency; saturation (of the server, or of the client sharing the machine, as in
  ``callscope demo``) shows as a ratio growing with concurrency.
* *CPU per call* splits the work between the simulator and the SDK client (``--out-of-process`` runs the
  simulator in its own process so the two can be told apart).

    .venv/bin/python benchmarks/simulator_load.py [--calls 300] [--time-scale 0.05] [--out-of-process]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import openai

from callscope.demo import Simulator, SimulatorConfig


def workload(calls: int) -> list[tuple[str, dict[str, Any]]]:
    mix: list[tuple[str, dict[str, Any]]] = []
    for i in range(calls):
        question = [{"role": "user", "content": f"Question {i}: where is my order?"}]
        if i % 10 < 5:
            body = {"model": "gpt-4o-mini", "messages": question, "stream": True,
                    "stream_options": {"include_usage": True}}  # fmt: skip
            mix.append(("chat", body))
        elif i % 10 < 8:
            mix.append(("chat", {"model": "gpt-4o", "messages": question}))
        else:
            mix.append(("embeddings", {"model": "text-embedding-3-small", "input": [f"doc {i}"] * 8}))
    return mix


async def call(client: openai.AsyncOpenAI, kind: str, body: dict[str, Any]) -> tuple[str, float]:
    """(x-request-id, seconds) of one call."""
    start = time.perf_counter()
    if kind == "embeddings":
        result: Any = await client.embeddings.create(**body)
        request_id = result._request_id
    elif body.get("stream"):
        stream = await client.chat.completions.create(**body)
        request_id = stream.response.headers["x-request-id"]
        async for _ in stream:
            pass
    else:
        result = await client.chat.completions.create(**body)
        request_id = result._request_id
    return request_id, time.perf_counter() - start


async def run(base_url: str, mix: list[tuple[str, dict[str, Any]]], concurrency: int) -> dict[str, float]:
    gate = asyncio.Semaphore(concurrency)
    async with openai.AsyncOpenAI(base_url=base_url, api_key="sk", max_retries=0) as client:

        async def one(kind: str, body: dict[str, Any]) -> tuple[str, float]:
            async with gate:
                return await call(client, kind, body)

        return dict(await asyncio.gather(*(one(kind, body) for kind, body in mix)))


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--time-scale", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 50, 300])
    parser.add_argument("--out-of-process", action="store_true", help="run the simulator in its own process")
    args = parser.parse_args()
    mix = workload(args.calls)
    server: subprocess.Popen[str] | None = None
    sim: Simulator | None = None
    if args.out_of_process:
        command = [sys.executable, "-m", "callscope.demo.simulator", "--port", "0", "--seed", "1",
                   "--time-scale", str(args.time_scale), "--no-rate-limits"]  # fmt: skip
        server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert server.stdout is not None
        base_url = server.stdout.readline().split()[-1]
    else:
        sim = Simulator(SimulatorConfig(seed=1, time_scale=args.time_scale, rate_limits=False))
        base_url = sim.start()
    where = "own process" if server else "same process as the client"
    print(f"{args.calls} calls, time_scale {args.time_scale}, simulator in its {where}")
    print("concurrency  wall s  calls/s  inflation p50   p95  cpu ms/call: simulator  client")
    try:
        for concurrency in args.concurrency:
            server_cpu, client_cpu = process_cpu(server.pid) if server else 0.0, own_cpu()
            seen = len(sim.requests()) if sim else 0
            start = time.perf_counter()
            latencies = asyncio.run(run(base_url, mix, concurrency))
            wall = time.perf_counter() - start
            client_cpu = own_cpu() - client_cpu
            if sim is not None:
                planned = {r.request_id: r.planned_ms / 1000 for r in sim.requests()[seen:]}
                ratios = sorted(latencies[rid] / planned[rid] for rid in latencies)
                inflation = f"{statistics.median(ratios):13.2f}  {ratios[int(0.95 * (len(ratios) - 1))]:4.2f}"
                cpu = f"{'(shared)':>22}  {client_cpu * 1000 / args.calls:6.1f}"
            else:
                assert server is not None
                inflation = f"{'-':>13}  {'-':>4}"
                server_ms = (process_cpu(server.pid) - server_cpu) * 1000 / args.calls
                cpu = f"{server_ms:22.1f}  {client_cpu * 1000 / args.calls:6.1f}"
            print(f"{concurrency:>11}  {wall:6.2f}  {args.calls / wall:7.1f}  {inflation}  {cpu}")
    finally:
        if sim is not None:
            sim.stop()
        if server is not None:
            server.terminate()
            server.communicate(timeout=30)


if __name__ == "__main__":
    main()
