"""The HTTP side: a threading stdlib server that sleeps and writes what the engine planned.

One thread per connection (HTTP/1.1 keep-alive, as the SDK's connection pool expects). Waiting is done with
``poll()`` on the client socket rather than ``sleep()``, so a client that hangs up (a timeout, a ``break`` out
of a stream) is noticed at once and the simulator stops generating for it, and ``stop()`` wakes every
handler by shutting the sockets down.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import select
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from callscope.demo._engine import Engine, Reply, Request
from callscope.demo.stats import RequestRecord

logger = logging.getLogger(__name__)

#: Events due within this much of each other go out in one write (wall-clock seconds).
_BATCH_S = 0.0005


class SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    # The SDK opens many connections at once; with the default backlog of 5, connects would wait for SYN
    # retries.
    request_queue_size = 1024
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], engine: Engine) -> None:
        self.engine = engine
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, connection: socket.socket, alive: bool) -> None:
        with self._connections_lock:
            if alive:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        """Wake and end every handler (used by ``stop()``)."""
        self.stopping.set()
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _ClientGone(Exception):
    """The client hung up (or the simulator is stopping)."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "callscope-simulator"
    sys_version = ""
    server: SimulatorHTTPServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; with Nagle's algorithm the second one would wait for
        # the client's delayed ACK (40 ms on Linux) and every answer would look 40 ms slower.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)
        self._poller = select.poll()
        self._poller.register(self.connection, select.POLLIN | select.POLLHUP | select.POLLERR)

    def finish(self) -> None:
        self.server.track(self.connection, False)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the simulator's record of each request is in its stats."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    # -- waiting ------------------------------------------------------------------------------------------

    def _wait_until(self, deadline: float) -> None:
        """Sleep until ``deadline`` (monotonic); raise _ClientGone if the client hangs up meanwhile."""
        while True:
            if self.server.stopping.is_set():
                raise _ClientGone
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            # Capped so that stop() is noticed even if a shutdown does not wake poll().
            if self._poller.poll(min(500, max(1, round(remaining * 1000)))):
                self._check_client()
                time.sleep(max(0.0, deadline - time.monotonic()))  # pipelined bytes: plain sleep

    def _check_client(self) -> None:
        try:
            self.connection.setblocking(False)
            try:
                peeked = self.connection.recv(1, socket.MSG_PEEK)
            finally:
                self.connection.setblocking(True)
        except BlockingIOError:
            return
        except OSError:
            raise _ClientGone from None
        if not peeked:
            raise _ClientGone

    # -- serving ------------------------------------------------------------------------------------------

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        url = urlsplit(self.path)
        request = Request(
            method=method,
            path=url.path.rstrip("/") or "/",
            query=dict(parse_qsl(url.query)),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        engine = self.server.engine
        try:
            reply = engine.handle(request)
        except Exception:  # a simulator bug: answer like the API's own 500s, keep the traceback in the log
            logger.exception("simulator failed on %s %s", method, url.path)
            reply = engine.internal_error(request)
        self._sent_headers = False
        self._committed: RequestRecord | None = None
        planned_ms = round(reply.planned_s() * engine.config.time_scale * 1000, 3)
        reply.record = dataclasses.replace(reply.record, planned_ms=planned_ms)
        try:
            self._deliver(reply, engine.config.time_scale)
        except (_ClientGone, BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            failed = dataclasses.replace(self._committed or reply.record, completed=False)
            if not self._sent_headers:
                failed = dataclasses.replace(failed, status=0)
            if self._committed is None:
                engine.stats.add(failed)
            else:
                engine.stats.amend(self._committed, failed)

    def _commit(self, record: RequestRecord) -> None:
        """Count the request *before* its last bytes go out: no client sees an answer the stats lack."""
        self.server.engine.stats.add(record)
        self._committed = record

    def _deliver(self, reply: Reply, scale: float) -> None:
        self._wait_until(time.monotonic() + reply.network_s * scale)
        start = time.monotonic()
        offset = (reply.stall_s + reply.ready_s) * scale
        if reply.drop:
            self._wait_until(start + offset)
            self._commit(reply.record)
            self._abort()
            return
        if reply.events is None:
            self._wait_until(start + offset)
            self._check_client()
            processing = self._head(reply, start, {"content-length": str(len(reply.body))})
            self._commit(dataclasses.replace(reply.record, completed=True, processing_ms=processing))
            self.wfile.write(reply.body)
            return

        def due(token_offset: float) -> float:
            if token_offset < 0:
                return start + (reply.stall_s + reply.queue_s) * scale
            return start + offset + token_offset * reply.token_s * scale

        events = reply.events
        self._wait_until(due(events[0][0]))
        self._check_client()
        processing = self._head(reply, start, {"transfer-encoding": "chunked"})
        cut = reply.cut_after is not None
        final = dataclasses.replace(reply.record, processing_ms=processing, completed=not cut)
        limit = len(events) if reply.cut_after is None else reply.cut_after
        index = 0
        while index < limit:
            self._wait_until(due(events[index][0]))
            batch = []
            horizon = time.monotonic() + _BATCH_S
            while index < limit and due(events[index][0]) <= horizon:
                batch.append(events[index][1])
                index += 1
            data = b"".join(batch)
            framed = b"%x\r\n%s\r\n" % (len(data), data)
            if index == limit:
                self._commit(final)
                framed += b"" if cut else b"0\r\n\r\n"
            self.wfile.write(framed)
        if cut:
            self._abort()

    def _head(self, reply: Reply, start: float, framing: dict[str, str]) -> float:
        processing = round((time.monotonic() - start) * 1000, 0)
        self.send_response(reply.status)
        for name, value in {**reply.headers, "openai-processing-ms": str(int(processing)), **framing}.items():
            self.send_header(name, value)
        self.end_headers()
        self._sent_headers = True
        return processing

    def _abort(self) -> None:
        """Close the connection now, mid-answer if need be (the client sees a premature end)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
