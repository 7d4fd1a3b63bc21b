"""The collector's public names: complete, importable, and cheap to import."""

from __future__ import annotations

import subprocess
import sys

from callscope import collector


def test_all_names_resolve() -> None:
    for name in collector.__all__:
        assert getattr(collector, name) is not None, name


def test_importing_the_package_loads_neither_pyarrow_nor_the_sdk() -> None:
    code = (
        "import sys, callscope.collector, callscope.collector.schema; "
        "print(sorted(m for m in ('pyarrow', 'duckdb', 'opentelemetry.sdk') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
