"""``--tls-cert`` / ``--tls-key``: HTTPS and gRPC over TLS, checked with the real exporters and a test CA."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.collector.service.conftest import StartService
from tests.collector.service.helpers import make_spans, query


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (it is its own CA); returns (cert, key) PEM paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "callscope-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_https_and_grpc_over_tls(
    start_service: StartService,
    data_dir: Path,
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # requests lets these variables override the exporter's certificate_file (its session-level verify).
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    cert, key = certificate
    service = start_service(tls_cert=str(cert), tls_key=str(key), token="t0ken")
    assert service.endpoints()["OTLP/HTTP"].startswith(f"https://127.0.0.1:{service.http_port}/")
    headers = {"Authorization": "Bearer t0ken"}
    https = HttpExporter(
        endpoint=f"https://127.0.0.1:{service.http_port}/v1/traces",
        certificate_file=str(cert),
        headers=headers,
        timeout=10,
    )
    assert https.export(make_spans(12)) is SpanExportResult.SUCCESS
    https.shutdown()
    credentials = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
    secure = GrpcExporter(
        endpoint=f"127.0.0.1:{service.grpc_port}",
        credentials=credentials,
        headers=(("authorization", "Bearer t0ken"),),  # gRPC metadata keys are lower-case
        timeout=10,
    )
    assert secure.export(make_spans(8)) is SpanExportResult.SUCCESS
    secure.shutdown()
    plain = HttpExporter(
        endpoint=f"http://127.0.0.1:{service.http_port}/v1/traces", headers=headers, timeout=2
    )
    assert plain.export(make_spans(3)) is SpanExportResult.FAILURE  # plain HTTP is not served on a TLS port
    plain.shutdown()
    service.stop()
    assert query(data_dir, "calls", "SELECT count(*) FROM t") == [(20,)]
