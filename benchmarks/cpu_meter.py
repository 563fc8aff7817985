"""CPU time of process trees, read from ``/proc`` (Linux): how much of the machine a load test takes.

A tree's CPU time is the user + system time of every live process in it, plus what its processes have
collected from children that ended (``cutime``/``cstime``), so short-lived helpers (a FluidSynth render,
a Chromium renderer) are counted once they are reaped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields after the command name, from "state" on


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def tree(pid: int, children: dict[int, list[int]] | None = None) -> list[int]:
    """``pid`` and every live descendant."""
    children = _children() if children is None else children
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system seconds of these processes and of their reaped children."""
    total = 0
    for pid in pids:
        fields = _stat(pid)
        if fields:  # utime, stime, cutime, cstime are fields 14-17 of stat, 12-15 after the name
            total += sum(int(value) for value in fields[11:15])
    return total / TICKS


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (every state of ``/proc/stat``'s cpu line but idle and
    iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / TICKS


@dataclass
class Snapshot:
    """CPU seconds of the named process trees and of the whole machine at one moment."""

    trees: dict[str, float]
    machine: float


def snapshot(roots: dict[str, int], exclude: dict[str, list[int]] | None = None) -> Snapshot:
    """CPU seconds of each named tree (minus the trees named in ``exclude`` for it) and of the machine."""
    children = _children()
    trees = {}
    for name, root in roots.items():
        members = set(tree(root, children))
        for other in (exclude or {}).get(name, []):
            members -= set(tree(other, children))
        trees[name] = cpu_seconds(sorted(members))
    return Snapshot(trees, machine_busy_seconds())
