"""``callscope.instrument()``: real openai SDK calls, in subprocesses (instrumenting is process-wide)."""

from __future__ import annotations

import gzip
import os
import stat
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from callscope._setup import program_name
from tests.collector.readback import query

pytestmark = pytest.mark.slow  # real subprocesses

ROOT = Path(__file__).parents[1]
APP = ROOT / "tests" / "collector" / "openai_app.py"


def run_python(
    args: list[str], env: dict[str, str] | None = None, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    base = {key: value for key, value in os.environ.items() if not key.startswith(("OTEL_", "CALLSCOPE_"))}
    base.pop("PYTEST_CURRENT_TEST", None)
    base["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, *args],
        env={**base, **(env or {})},
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
        **kwargs,
    )


def test_instrument_writes_every_call_with_exact_values(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = run_python([str(APP), "25", "--instrument", str(data), "--service", "shop", "--exit-code", "4"])
    assert result.returncode == 4, result.stderr
    assert result.stdout == "made 25 calls\n"  # nothing of callscope's on the app's stdout
    rows = query(
        str(data),
        "SELECT count(*), min(service_name), min(instrumentation), min(request_model), min(response_model), "
        "sum(input_tokens), sum(output_tokens), sum(cached_input_tokens), round(sum(cost_usd), 10), "
        "count(DISTINCT request_hash), min(request_id), min(server_processing_ms), "
        "count(*) FILTER (WHERE tags['feature'] = 'qa' AND tags['turn'] = '1') FROM t",
    )
    assert rows == [
        (
            25,
            "shop",
            "callscope",
            "gpt-4o-mini",
            "gpt-4o-mini-2024-07-18",
            50_000,
            12_500,
            25_600,
            round(25 * 0.0005232, 10),
            1,
            "req_app",
            120.0,
            12,
        )
    ]


def test_hash_key_is_kept_in_the_data_dir_so_hashes_match_across_runs(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for _ in range(2):
        assert run_python([str(APP), "1", "--instrument", str(data)]).returncode == 0
    key_file = data / ".callscope" / "hash-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text().strip()) == 64
    assert query(str(data), "SELECT count(*), count(DISTINCT request_hash), min(service_name) FROM t") == [
        (2, 1, "openai_app")  # service.name defaults to the program's name
    ]
    # $CALLSCOPE_HASH_KEY wins over the stored key, so its hash differs.
    run_python([str(APP), "1", "--instrument", str(data)], env={"CALLSCOPE_HASH_KEY": "team-secret"})
    assert query(str(data), "SELECT count(DISTINCT request_hash) FROM t") == [(2,)]


JOIN_SCRIPT = """
import sys
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
import callscope
from tests.collector.openai_app import client

mine = InMemorySpanExporter()
provider = TracerProvider(resource=Resource.create({"service.name": "app-owned"}))
provider.add_span_processor(SimpleSpanProcessor(mine))
trace.set_tracer_provider(provider)

setup = callscope.instrument(sys.argv[1], service_name="ignored")
assert callscope.instrument(sys.argv[1]) is setup  # idempotent
assert setup.tracer_provider is provider and not setup.owns_provider
with trace.get_tracer("app").start_as_current_span("GET /ask"):
    for _ in range(3):
        client().chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
assert provider.force_flush()  # callscope builds the call spans on a background thread
print(len(mine.get_finished_spans()))
callscope.uninstrument()
client().chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
print(len(mine.get_finished_spans()))
"""


def test_joins_the_apps_tracer_provider_and_uninstrument_flushes(tmp_path: Path) -> None:
    script = tmp_path / "join.py"
    script.write_text(textwrap.dedent(JOIN_SCRIPT))
    data = tmp_path / "data"
    result = run_python([str(script), str(data)])
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["4", "4"]  # 3 calls + the handler; nothing traced after uninstrument
    assert query(str(data), "SELECT count(*), min(service_name) FROM t") == [(3, "app-owned")]
    assert query(str(data), "SELECT name FROM t", "spans") == [("GET /ask",)]


class _Receiver(BaseHTTPRequestHandler):
    bodies: list[bytes]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        type(self).bodies.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def otlp_receiver() -> Iterator[tuple[str, list[bytes]]]:
    bodies: list[bytes] = []
    handler = type("Receiver", (_Receiver,), {"bodies": bodies})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", bodies
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_otlp_when_an_endpoint_is_configured(tmp_path: Path, otlp_receiver: tuple[str, list[bytes]]) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    endpoint, bodies = otlp_receiver
    script = tmp_path / "otlp.py"
    script.write_text(
        "import callscope, runpy, sys\n"
        "setup = callscope.instrument()\n"
        "print(setup.mode, setup.destination)\n"
        f"sys.argv = ['app', '6']\nrunpy.run_path({str(APP)!r}, run_name='__main__')\n"
    )
    result = run_python(
        [str(script)],
        env={"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_SERVICE_NAME": "otlp-app"},
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert f"otlp {endpoint}" in result.stdout.splitlines()
    spans = [
        (resource.resource, span)
        for body in bodies
        for resource in ExportTraceServiceRequest.FromString(body).resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    assert len(spans) == 6
    assert {a.value.string_value for r, _ in spans for a in r.attributes if a.key == "service.name"} == {
        "otlp-app"
    }
    assert not (tmp_path / "callscope-data").exists()  # nothing written locally


def test_unsupported_otlp_protocol_is_a_clear_error(tmp_path: Path) -> None:
    script = tmp_path / "bad.py"
    script.write_text("import callscope\ncallscope.instrument()\n")
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}
    result = run_python([str(script)], env=env)
    assert result.returncode == 1
    assert "OTEL_EXPORTER_OTLP_PROTOCOL='http/json' is not supported" in result.stderr


def test_sdk_disabled_means_no_instrumentation(tmp_path: Path) -> None:
    script = tmp_path / "off.py"
    script.write_text("import callscope\nprint(callscope.instrument())\n")
    result = run_python([str(script)], env={"OTEL_SDK_DISABLED": "true"}, cwd=tmp_path)
    assert result.stdout == "None\n"
    assert not (tmp_path / "callscope-data").exists()


@pytest.mark.parametrize(
    ("argv0", "name"),
    [
        ("app.py", "app"),
        ("/srv/api/main.py", "main"),
        ("/srv/pkg/__main__.py", "pkg"),
        ("-c", "python"),
        ("", "python"),
    ],
)
def test_program_name(argv0: str, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", [argv0])
    assert program_name() == name


POOL_SCRIPT = """
import multiprocessing, sys
import callscope
from tests.collector.openai_app import client


def work(n):
    for _ in range(n):
        client().chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    return n

if __name__ == "__main__":
    callscope.instrument(sys.argv[1])
    with multiprocessing.get_context("fork").Pool(2) as pool:  # __exit__ terminates the workers
        print(sum(pool.map(work, [3, 4, 5])))
    pool = multiprocessing.get_context("fork").Pool(2)
    print(sum(pool.map(work, [1, 2])))
    pool.close()  # the workers exit by themselves, through os._exit
    pool.join()
"""


def test_forked_multiprocessing_workers_flush_their_calls(tmp_path: Path) -> None:
    script = tmp_path / "pool.py"
    script.write_text(textwrap.dedent(POOL_SCRIPT))
    data = tmp_path / "data"
    result = run_python([str(script), str(data)])
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["12", "3"]
    assert query(str(data), "SELECT count(*), count(DISTINCT span_id) FROM t") == [(15, 15)]
