"""Disk budgets of cache folders: least-recently-used entries are deleted until a folder fits its budget.

An *entry* of a folder is one of its children, grouped by the name before the first dot (``<key>.wav`` and
``<key>.json`` of one render are one entry) or a whole subfolder (an uploaded corpus). Its *last use* is the
newest modification time among its files: readers call :func:`touch` on a cache hit, so a file read often
stays. Hidden staging files and folders that a killed writer left behind (``.<name>.<random>.tmp``, see
:mod:`core.files`) are deleted once they are :data:`STALE_AFTER_S` old.

Writers report what they wrote to the folder's :class:`FolderBudget`, which scans the folder only when its
running estimate says the budget may be exceeded, and then deletes down to :data:`REFILL_SHARE` of it, so
a busy cache is not scanned on every write.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

STALE_AFTER_S = 3600.0
"""Age after which a leftover staging file or folder is deleted."""
REFILL_SHARE = 0.9
"""Eviction deletes down to this share of the budget, so the next writes do not trigger another scan."""


@dataclass(frozen=True)
class Entry:
    """One evictable entry of a folder: its paths, their bytes and when it was last used (Unix time)."""

    key: str
    paths: tuple[Path, ...]
    n_bytes: int
    used_at: float


def tree_bytes(path: Path) -> int:
    """Bytes of a file, or of every file below a folder (links not followed); 0 when it is gone."""
    try:
        if not path.is_dir() or path.is_symlink():
            return path.lstat().st_size
    except OSError:
        return 0
    total = 0
    for root, _, names in os.walk(path):
        for name in names:
            with contextlib.suppress(OSError):
                total += (Path(root) / name).lstat().st_size
    return total


def _used_at(path: Path) -> float:
    try:
        newest = path.stat().st_mtime
        if path.is_dir():
            newest = max([newest, *(child.stat().st_mtime for child in path.iterdir())])
        return newest
    except OSError:
        return 0.0


def is_staging(name: str) -> bool:
    """Whether a name is a staging file or folder of :mod:`core.files` (hidden, ending in ``.tmp``)."""
    return name.startswith(".") and name.endswith(".tmp")


def entries(folder: Path) -> list[Entry]:
    """The entries of a folder, least recently used first (staging leftovers are not entries)."""
    groups: dict[str, list[Path]] = {}
    try:
        children = sorted(folder.iterdir())
    except OSError:
        return []
    for child in children:
        if not child.name.startswith("."):
            groups.setdefault(child.name.split(".", 1)[0], []).append(child)
    found = [
        Entry(key, tuple(paths), sum(tree_bytes(p) for p in paths), max(_used_at(p) for p in paths))
        for key, paths in groups.items()
    ]
    return sorted(found, key=lambda entry: (entry.used_at, entry.key))


def remove(paths: Collection[Path]) -> None:
    """Delete files and folders (already gone is fine)."""
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def remove_stale_staging(folder: Path, now: float | None = None) -> list[Path]:
    """Delete staging leftovers older than :data:`STALE_AFTER_S`; returns what was deleted."""
    now = time.time() if now is None else now
    stale = []
    with contextlib.suppress(OSError):
        for child in folder.iterdir():
            if is_staging(child.name) and now - _used_at(child) > STALE_AFTER_S:
                stale.append(child)
    remove(stale)
    return stale


def evict_lru(
    folder: Path, max_bytes: int, keep: Callable[[Entry], bool] = lambda entry: False, target: float = 1.0
) -> tuple[int, list[Entry]]:
    """Delete least-recently-used entries of ``folder`` (never those ``keep`` accepts) until it holds at
    most ``target * max_bytes``; returns the bytes left and the entries deleted."""
    remove_stale_staging(folder)
    found = entries(folder)
    total = sum(entry.n_bytes for entry in found)
    deleted = []
    for entry in found:
        if total <= target * max_bytes:
            break
        if keep(entry):
            continue
        remove(entry.paths)
        total -= entry.n_bytes
        deleted.append(entry)
    return total, deleted


def touch(path: Path) -> None:
    """Mark a file as used now (a read-only cache only loses the ordering)."""
    with contextlib.suppress(OSError):
        os.utime(path)


class FolderBudget:
    """A cache folder's disk budget, kept by the processes that write to it."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.estimate: int | None = None
        self.lock = threading.Lock()

    def wrote(self, folder: Path, n_bytes: int) -> list[Entry]:
        """Count ``n_bytes`` just written to ``folder``; evict when the folder may be over its budget."""
        with self.lock:
            if self.estimate is not None and self.estimate + n_bytes <= self.max_bytes:
                self.estimate += n_bytes
                return []
            self.estimate, deleted = evict_lru(folder, self.max_bytes, target=REFILL_SHARE)
            if self.estimate > self.max_bytes * REFILL_SHARE:
                self.estimate = None  # nothing could be deleted: look again next time
            return deleted


_BUDGETS: dict[tuple[str, int], FolderBudget] = {}
_REGISTRY_LOCK = threading.Lock()


def budget_for(folder: Path, max_bytes: int) -> FolderBudget:
    """The one :class:`FolderBudget` of this process for a folder and budget."""
    key = (str(Path(folder).absolute()), int(max_bytes))
    with _REGISTRY_LOCK:
        return _BUDGETS.setdefault(key, FolderBudget(max_bytes))
