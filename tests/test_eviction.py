"""Disk budgets of cache folders (core.eviction): least recently used entries go first, staging leftovers
are cleaned, the running estimate scans only when the budget may be exceeded."""

from __future__ import annotations

import os
import time
from pathlib import Path

from core import eviction
from core.eviction import FolderBudget, entries, evict_lru, remove_stale_staging, tree_bytes


def write(path: Path, size: int, age_s: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(size))
    stamp = time.time() - age_s
    os.utime(path, (stamp, stamp))
    return path


def test_entries_group_files_by_key_and_count_folders_whole(tmp_path) -> None:
    write(tmp_path / "k1.wav", 100, 50)
    write(tmp_path / "k1.json", 10, 10)
    corpus = write(tmp_path / "corpus" / "a.mid", 30, 99).parent
    os.utime(corpus, (time.time() - 99, time.time() - 99))
    write(tmp_path / ".k2.wav.abc.tmp", 5, 0)
    found = {entry.key: entry for entry in entries(tmp_path)}
    assert set(found) == {"k1", "corpus"}
    assert found["k1"].n_bytes == 110 and found["corpus"].n_bytes == 30
    assert found["k1"].used_at > found["corpus"].used_at  # the newest file of an entry counts


def test_the_least_recently_used_go_first_and_kept_ones_stay(tmp_path) -> None:
    for index in range(10):
        write(tmp_path / f"r{index}.npz", 100, age_s=100 - index)  # r0 oldest
    left, deleted = evict_lru(tmp_path, 450, keep=lambda entry: entry.key == "r0")
    assert left == 400 and [entry.key for entry in deleted] == ["r1", "r2", "r3", "r4", "r5", "r6"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["r0.npz", "r7.npz", "r8.npz", "r9.npz"]


def test_stale_staging_is_removed_and_fresh_staging_kept(tmp_path) -> None:
    old = write(tmp_path / ".abc.123.tmp" / "x.mid", 10, 7200).parent  # a writer killed two hours ago
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    fresh = write(tmp_path / ".k.wav.456.tmp", 10, 0)
    assert remove_stale_staging(tmp_path) == [old]
    assert fresh.exists() and not old.exists()


def test_a_folder_budget_scans_only_when_it_may_be_full(tmp_path, monkeypatch) -> None:
    budget = FolderBudget(1000)
    scans = []
    real = eviction.evict_lru
    monkeypatch.setattr(eviction, "evict_lru", lambda *a, **k: scans.append(1) or real(*a, **k))
    for index in range(30):
        write(tmp_path / f"w{index:02d}.wav", 100, age_s=100 - index)
        budget.wrote(tmp_path, 100)
        assert tree_bytes(tmp_path) <= 1000
    assert 2 <= len(scans) <= 12  # the first write, then once every few writes past 90 %
    assert (tmp_path / "w29.wav").exists()
