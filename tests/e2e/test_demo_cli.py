"""``callscope demo``'s refusals (before any call is made), its data folder, and the plan's sizes."""

from __future__ import annotations

import json
import math
import socket
from pathlib import Path

import pytest
from callscope.analytics.suggestions import Thresholds

from callscope.demo.errors import DemoError
from callscope.demo.run import DEMO_FILE, prepare_data_dir
from callscope.demo.workload import Plan
from tests.e2e.conftest import callscope


def _refused(*args: str) -> str:
    result = callscope("demo", "--no-progress", *args, check=False, timeout=60)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_folder_holding_other_files_is_refused_untouched(tmp_path: Path) -> None:
    (tmp_path / "calls").mkdir()
    (tmp_path / "calls" / "real.parquet").write_bytes(b"not the demo's")
    message = _refused("--no-dashboard", "--data", str(tmp_path))
    assert "already holds files the demo did not write" in message
    assert (tmp_path / "calls" / "real.parquet").read_bytes() == b"not the demo's"
    assert not tmp_path.joinpath(*DEMO_FILE).exists()


def test_a_taken_dashboard_port_is_refused_before_anything_runs(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        message = _refused("--port", str(port), "--data", str(tmp_path / "demo"))
    assert f"port {port} on 127.0.0.1 is already in use" in message
    assert not (tmp_path / "demo").exists()


def test_a_file_as_data_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    assert "is a file, not a folder" in _refused("--no-dashboard", "--data", str(tmp_path / "file"))


def test_out_of_range_options_are_usage_errors(tmp_path: Path) -> None:
    for args in (["--calls", "10"], ["--time-scale", "5"]):
        result = callscope("demo", "--no-dashboard", "--data", str(tmp_path), *args, check=False, timeout=60)
        assert result.returncode == 2
        assert "Invalid value" in result.stderr


def test_the_demo_clears_its_own_folder_and_only_its_own(tmp_path: Path) -> None:
    assert prepare_data_dir(str(tmp_path / "new")) is None
    marker = tmp_path.joinpath("new", *DEMO_FILE)
    assert json.loads(marker.read_text())["status"] == "running"
    (tmp_path / "new" / "calls").mkdir()
    (tmp_path / "new" / "calls" / "old.parquet").write_bytes(b"previous run")
    assert prepare_data_dir(str(tmp_path / "new")) == "cleared the previous demo run's data"
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == [".callscope"]
    with pytest.raises(DemoError, match="is a URL"):
        prepare_data_dir("s3://bucket/demo")


@pytest.mark.parametrize("calls", [200, 600, 5000])
@pytest.mark.parametrize("time_scale", [0.02, 0.2, 1.0])
def test_every_plan_keeps_each_pattern_above_its_rule_threshold(calls: int, time_scale: float) -> None:
    plan = Plan.for_size(calls, time_scale=time_scale)
    limits = Thresholds()
    assert plan.total >= calls * 0.85
    # Bursts survive a clock-aligned window boundary cutting them in two.
    assert plan.digests - plan.digest_repeats >= 2 * limits.batch_min_burst_calls
    assert plan.articles >= 2 * limits.embed_min_burst_calls
    assert plan.digest_repeats >= 18 > limits.repeat_min_calls
    # The p90 of the writer's output must fall below the rambling posts, and at least two ramble.
    assert plan.posts >= limits.output_min_calls
    assert (
        limits.output_truncated_min_calls
        <= plan.rambling_posts
        < plan.posts * (1 - limits.output_cap_quantile)
    )
    assert plan.tickets >= limits.rightsize_min_calls
    assert plan.chats >= max(limits.trim_min_calls, limits.stream_min_ttft_samples)
    assert plan.reports >= limits.stream_min_calls
    assert plan.agent_calls - 2 >= limits.cache_min_calls
    # Reports last about 3.5 s of wall-clock time at any speed: the stream rule looks at calls over 2 s.
    seconds = plan.report_tokens / 115 * time_scale
    assert 2.5 < seconds < 4 or plan.report_tokens == 15_000
    # The re-tag burst is larger than its requests-per-minute bucket.
    assert math.ceil(plan.retags / 2) == plan.retag_rpm
    assert plan.retags - plan.retag_rpm >= limits.retry_min_calls


def test_sizes_below_the_floor_are_refused() -> None:
    with pytest.raises(DemoError, match="at least 200"):
        Plan.for_size(199)
    with pytest.raises(DemoError, match=r"between 0\.02 and 1"):
        Plan.for_size(600, time_scale=2)
