"""The class's choices under concurrent writes and reads (core.studio.choices): a reader never sees half a
file, so it never falls back to the shipped default while another process switches the generator."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter

from core.paths import DEFAULT_CHECKPOINT, REPO_ROOT
from core.studio.choices import active_checkpoint, set_active_checkpoint

READS = 60_000
WRITER = """
import sys
from pathlib import Path
from core.studio.choices import set_active_checkpoint
first, second, stop = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
writes = 0
while not stop.exists():
    set_active_checkpoint(first if writes % 2 else second)
    writes += 1
print(writes)
"""


def test_60000_reads_during_switches_never_fall_back(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GMS_RUNS_DIR", str(tmp_path / "runs"))
    first, second, stop = tmp_path / "a.pt", tmp_path / "b.pt", tmp_path / "STOP"
    first.write_bytes(b"a")
    second.write_bytes(b"b")
    set_active_checkpoint(first)
    command = [sys.executable, "-c", WRITER, str(first), str(second), str(stop)]
    writer = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)  # the writer is switching
        seen = Counter(active_checkpoint() for _ in range(READS))
    finally:
        stop.touch()
        writes = int(writer.communicate(timeout=60)[0])
    assert seen[DEFAULT_CHECKPOINT] == 0, seen
    assert seen[first] + seen[second] == READS and seen[first] and seen[second], seen
    assert writes > 50, writes
