"""Five concurrent browser sessions generate and rank on one server: all served, none errors.

A smaller version of ``benchmarks/bench_load.py`` (20 sessions). It needs the shipped checkpoint
(``checkpoints/default/``) and Debian's chromium; it is skipped without them.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SESSIONS = 5
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (REPO / "checkpoints" / "default" / "model.pt").exists(),
        reason="the shipped checkpoint (checkpoints/default) is not there yet",
    ),
]


def load_benchmark():
    """``benchmarks/bench_load.py`` as a module (the benchmarks folder is not a package)."""
    spec = importlib.util.spec_from_file_location("bench_load", REPO / "benchmarks" / "bench_load.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


def test_five_sessions_generate_and_rank_without_errors(server_url: str) -> None:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("chromium is not installed")
    pytest.importorskip("playwright.async_api")
    bench = load_benchmark()
    warm = bench.warm_up(server_url, executable, timeout_s=300)
    assert warm.ok, warm.error
    results = bench.concurrent_sessions(server_url, SESSIONS, 300, executable)
    failures = [(result.session, result.error) for result in results if not result.ok]
    assert not failures
    figures = bench.summary(results, wall_s=0.0)
    assert figures["served"] == SESSIONS and figures["generate_p95_s"] < 120
