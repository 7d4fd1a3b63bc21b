"""``callscope collect``: run the OTLP receiver service."""

from __future__ import annotations

import logging
import re
from typing import Any, Final

import click

from callscope.config import ENV_COLLECTOR_TOKEN, ENV_DATA_DIR, data_dir

ENV_SPOOL_DIR: Final = "CALLSCOPE_SPOOL"
ENV_HOST: Final = "CALLSCOPE_COLLECT_HOST"
ENV_HTTP_PORT: Final = "CALLSCOPE_COLLECT_PORT"
ENV_GRPC_PORT: Final = "CALLSCOPE_COLLECT_GRPC_PORT"
ENV_CONVERTERS: Final = "CALLSCOPE_COLLECT_CONVERTERS"
#: unit -> bytes; decimal (kb, mb, gb) and binary (k, kib, m, mib, g, gib)
_UNITS: Final = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9}
_UNITS.update({"k": 2**10, "kib": 2**10, "m": 2**20, "mib": 2**20, "g": 2**30, "gib": 2**30})
_SIZE: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


class ByteSize(click.ParamType[int]):
    """``20MiB``, ``64M``, ``500kb`` or a plain number of bytes."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        match = _SIZE.match(str(value))
        unit = match[2].lower() if match else None
        if match is None or unit not in _UNITS:
            self.fail(f"{value!r} is not a size like 20MiB, 512k or 1048576", param, ctx)
        return int(float(match[1]) * _UNITS[unit])


@click.command(
    "collect",
    epilog="""\b
Point any OpenTelemetry SDK or Collector at it, e.g.:
  OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 python app.py
  OTEL_EXPORTER_OTLP_PROTOCOL=grpc OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 ...
With --token T, clients send OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer%20T".

\b
Every request answered with 2xx is first fsynced to the spool (a write-ahead
log), so a crash or `kill -9` loses nothing acknowledged: the next start
replays it. Give each replica its own --spool; all replicas may share --data
(a directory or s3://bucket/prefix). Scaling out: docs/scaling.md.""",
)
@click.option(
    "--data",
    "data",
    metavar="DIR",
    help=f"Dataset: a directory or s3://bucket/prefix [env {ENV_DATA_DIR}; default ./callscope-data].",
)
@click.option(
    "--spool",
    "spool",
    metavar="DIR",
    envvar=ENV_SPOOL_DIR,
    default="./callscope-spool",
    show_default=True,
    help=f"Write-ahead spool, on local disk, one per replica [env {ENV_SPOOL_DIR}].",
)
@click.option(
    "--host",
    default="127.0.0.1",
    envvar=ENV_HOST,
    show_default=True,
    help=f"Address to listen on; 0.0.0.0 to accept other machines (then set --token) [env {ENV_HOST}].",
)
@click.option(
    "--port",
    "http_port",
    type=click.IntRange(0, 65535),
    default=4318,
    envvar=ENV_HTTP_PORT,
    show_default=True,
    help=f"OTLP/HTTP port; also serves /metrics, /healthz and /readyz [env {ENV_HTTP_PORT}].",
)
@click.option(
    "--grpc-port",
    type=click.IntRange(0, 65535),
    default=4317,
    envvar=ENV_GRPC_PORT,
    show_default=True,
    help=f"OTLP/gRPC port [env {ENV_GRPC_PORT}].",
)
@click.option("--no-grpc", is_flag=True, help="Do not listen for OTLP/gRPC.")
@click.option(
    "--token",
    envvar=ENV_COLLECTOR_TOKEN,
    help=f"Require 'Authorization: Bearer TOKEN' on exports and /metrics [env {ENV_COLLECTOR_TOKEN}].",
)
@click.option(
    "--max-request-size",
    type=ByteSize(),
    default="20MiB",
    show_default=True,
    help="Largest request body, compressed or not; larger ones get 413.",
)
@click.option(
    "--max-buffer",
    type=ByteSize(),
    default="64MiB",
    show_default=True,
    help="Request bytes held in memory before clients get 429 + Retry-After.",
)
@click.option(
    "--flush-interval",
    type=click.FloatRange(0.1),
    default=10.0,
    show_default=True,
    help="Seconds between Parquet flushes while spans arrive.",
)
@click.option(
    "--converters",
    type=click.IntRange(1, 64),
    default=1,
    envvar=ENV_CONVERTERS,
    show_default=True,
    help=f"Processes converting spans to Parquet; more use more cores [env {ENV_CONVERTERS}].",
)
@click.option(
    "--writer-id",
    metavar="ID",
    help="Prefix of the Parquet files this replica writes [default: host-pid-random].",
)
@click.option(
    "--tls-cert",
    type=click.Path(exists=True, dir_okay=False),
    help="PEM certificate chain: serve HTTPS and gRPC over TLS.",
)
@click.option(
    "--tls-key", type=click.Path(exists=True, dir_okay=False), help="PEM private key for --tls-cert."
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
    help="How much the collector logs to stderr.",
)
def command(
    *,
    data: str | None,
    spool: str,
    host: str,
    http_port: int,
    grpc_port: int,
    no_grpc: bool,
    token: str | None,
    max_request_size: int,
    max_buffer: int,
    flush_interval: float,
    converters: int,
    writer_id: str | None,
    tls_cert: str | None,
    tls_key: str | None,
    log_level: str,
) -> None:
    """Receive OTLP spans (HTTP and gRPC) into the Parquet call log.

    Listens on loopback by default. Accepts OTLP/HTTP (protobuf and JSON, gzip
    or deflate) on --port and OTLP/gRPC on --grpc-port, from the standard
    OpenTelemetry exporters of any language, and writes the same dataset as
    the in-process exporter. Stop with Ctrl+C or SIGTERM: queued spans are
    written before it exits.
    """
    from callscope.collector.service import CollectorService, PipelineLimits, ServiceConfig, ServiceError

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = ServiceConfig(
        data=data_dir(data),
        spool_dir=spool,
        host=host,
        http_port=http_port,
        grpc_port=None if no_grpc else grpc_port,
        token=token,
        max_request_bytes=max_request_size,
        limits=PipelineLimits(max_buffer_bytes=max_buffer, flush_interval_s=flush_interval),
        writer_id=writer_id,
        converters=converters,
        tls_cert=tls_cert,
        tls_key=tls_key,
    )
    service = CollectorService(config)
    service.start()
    replayed = service.replayed
    writers = ", ".join(service.writer_ids)
    click.echo(f"callscope collect: writing {config.data} as {writers}")
    if replayed is not None and replayed.requests:
        click.echo(f"  replayed {replayed.requests} spooled requests left by a previous run")
    for name, address in service.endpoints().items():
        click.echo(f"  {name:<10} {address}")
    click.echo(f"  spool      {config.spool_dir}")
    click.echo(f"  auth       {'bearer token required' if token else 'none'}")
    if service.exposed_without_token:
        click.secho(
            f"  warning: listening on {host} without --token: anyone who reaches it can write to the dataset",
            fg="yellow",
        )
    click.echo("Ctrl+C or SIGTERM stops it after writing what is queued.", nl=True)
    if not service.serve_forever():
        raise ServiceError(
            "could not write everything to the dataset before stopping; "
            f"the unwritten requests stay in {config.spool_dir} and are written at the next start"
        )
    failed = int(service.metrics.conversion_errors.value())
    if failed:
        click.secho(
            f"callscope collect: stopped; {failed} spans could not be converted (a bug: please report it); "
            f"their requests are kept in {config.spool_dir}/failed",
            fg="yellow",
        )
    else:
        click.echo("callscope collect: stopped; everything acknowledged is written.")
