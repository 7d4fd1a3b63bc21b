from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from callscope.collector.service import CollectorService, PipelineLimits, ServiceConfig
from callscope.collector.service.converter import InlineConverter

StartService = Callable[..., CollectorService]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def start_service(tmp_path: Path, data_dir: Path) -> Iterator[StartService]:
    """Start real collectors on free loopback ports; each gets its own spool. Stopped at teardown."""
    services: list[CollectorService] = []
    numbers = itertools.count()

    def start(limits: PipelineLimits | None = None, **overrides: Any) -> CollectorService:
        settings: dict[str, Any] = {
            "data": str(data_dir),
            "spool_dir": str(tmp_path / f"spool-{next(numbers)}"),
            "http_port": 0,
            "grpc_port": 0,
            "limits": limits or PipelineLimits(flush_interval_s=0.2),
            "shutdown_timeout_s": 10.0,
        }
        settings.update(overrides)
        service = CollectorService(ServiceConfig(**settings))
        service.start()
        services.append(service)
        return service

    yield start
    for service in services:
        service.stop()


def inline(service: CollectorService) -> InlineConverter:
    """The service's in-process converter, whose writer tests replace to inject faults."""
    assert service.pipeline is not None
    converter = service.pipeline.converter
    assert isinstance(converter, InlineConverter)
    return converter
