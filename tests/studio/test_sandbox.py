"""What a training process may take (core.studio.sandbox): an address-space limit on a CPU, none where a GPU
may be used, and no start while the runs folder is over its disk budget."""

from __future__ import annotations

import subprocess
import sys

import pytest

from core.studio import jobs, sandbox
from core.training.presets import preset_config


@pytest.fixture
def runs_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("GMS_RUNS_DIR", str(tmp_path / "runs"))
    return tmp_path / "runs"


@pytest.fixture
def no_gpu(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "GPU_DRIVER_NODES", (tmp_path / "no-such-device",))


def child(code: str, limiter) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", code]
    return subprocess.run(command, preexec_fn=limiter, capture_output=True, text=True, timeout=60)


def test_a_cpu_run_gets_the_address_space_limit_and_one_blas_thread(no_gpu) -> None:
    code = "import os, resource as r; print(r.getrlimit(r.RLIMIT_AS), os.environ['OPENBLAS_NUM_THREADS'])"
    result = child(code, sandbox.memory_limiter({"device": "auto"}, limit_mb=2048))
    assert result.stdout.split() == ["(2147483648,", "2147483648)", "1"]


def test_an_allocation_past_the_limit_fails_with_a_memory_error(no_gpu) -> None:
    code = "import numpy as np\ntry:\n    np.ones(300_000_000)\nexcept MemoryError:\n    print('refused')"
    result = child(code, sandbox.memory_limiter({"run": {"device": "cpu"}}, limit_mb=1024))
    assert result.stdout.strip() == "refused"


def test_no_limit_where_a_gpu_may_be_used(tmp_path, monkeypatch) -> None:
    node = tmp_path / "nvidiactl"
    node.touch()
    monkeypatch.setattr(sandbox, "GPU_DRIVER_NODES", (node,))
    assert sandbox.memory_limiter({"device": "auto"}) is None
    assert sandbox.memory_limiter({"run": {"device": "cuda"}}) is None
    assert sandbox.memory_limiter({"device": "cpu"}) is not None


def test_the_runs_folder_over_its_budget_stops_new_runs(runs_in_tmp, monkeypatch) -> None:
    (runs_in_tmp / "old").mkdir(parents=True)
    (runs_in_tmp / "old" / "last.pt").write_bytes(bytes(5000))
    assert sandbox.runs_disk_problem(max_bytes=10_000) is None
    problem = sandbox.runs_disk_problem(max_bytes=4_000)
    assert problem.startswith("the training runs already take 4.9 KB of disk, more than their 3.9 KB budget")
    monkeypatch.setattr(jobs, "runs_disk_problem", lambda: problem)
    run_id = jobs.start_run(preset_config("Quick check"))
    info = jobs.run_info(run_id)
    assert not info.alive and info.state == "failed" and info.message == f"not started: {problem}"
