"""Disk and memory the studio uses, against its budgets (:mod:`core.budgets`); tidying and deleting.

The run-time folders and what keeps each within its budget:

- ``.cache/audio`` (rendered audio), ``.cache/rolls`` (piano-rolls of read files) and ``.cache/voices``
  (four-voice conversions of read files): their writers delete the least recently used entries past the
  budget (:mod:`core.eviction`);
- ``.cache/corpora`` (uploaded corpora chosen for training): :func:`store_uploaded_corpus` deletes the least
  recently used corpora past the budget, never the class's training corpus nor one a queued or training
  run reads;
- ``runs/`` (training runs): never deleted by themselves; no run starts while they are over budget
  (:mod:`core.studio.sandbox`), and a teacher deletes runs here (:func:`delete_run`), never the run that
  holds the class's generator nor one that trains.

The shipped data (``data/``) and checkpoints (``checkpoints/``) live outside these folders and are never
touched. Nothing else writes to ``.cache/``: a folder left there by an older version (``.cache/rankers``,
from before one ranker was shipped in ``checkpoints/ranker``) is counted as "other caches" but never
deleted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from core.budgets import BUDGETS, Budgets, format_bytes
from core.data.uploads import corpora_root, store_corpus
from core.eviction import Entry, evict_lru, remove, touch, tree_bytes
from core.files import read_json_or_none
from core.paths import cache_root, cache_subdir, runs_root
from core.studio import jobs
from core.studio.choices import active_checkpoint, active_corpus
from core.studio.memcache import memory_in_use
from core.studio.roles import RoleError, Visitor

CORPUS_NAME = re.compile(r"^[0-9a-f]{24}$")
"""The folder name :func:`core.data.uploads.store_corpus` gives a corpus (its content hash)."""


class StorageError(ValueError):
    """Something cannot be deleted (in use, not found); the message is meant for the user."""


@dataclass(frozen=True)
class FolderUsage:
    """One run-time folder: what it holds, in bytes, against its budget (None: not budgeted)."""

    label: str
    folder: Path
    n_bytes: int
    budget: int | None
    entries: int


def _writer_evicted(budgets: Budgets) -> list[tuple[str, Path, int]]:
    """The cache folders whose writers keep them within budget (:class:`core.eviction.FolderBudget`)."""
    return [
        ("rendered audio", cache_subdir("audio"), budgets.disk_audio_bytes),
        ("piano-roll cache", cache_subdir("rolls"), budgets.disk_rolls_bytes),
        ("four-voice cache", cache_subdir("voices"), budgets.disk_voices_bytes),
    ]


def _budgeted_folders(budgets: Budgets) -> list[tuple[str, Path, int]]:
    """Every budgeted run-time folder: the caches first, the training runs last."""
    return [
        *_writer_evicted(budgets),
        ("uploaded corpora", corpora_root(), budgets.disk_corpora_bytes),
        ("training runs", runs_root(), budgets.disk_runs_bytes),
    ]


def disk_usage(budgets: Budgets | None = None) -> list[FolderUsage]:
    """Every run-time folder with its size (the caches, then the training runs); the rest of ``.cache/`` as
    one unbudgeted line, last."""
    rows = []
    for label, folder, budget in _budgeted_folders(budgets or BUDGETS):
        count = sum(1 for child in _children(folder) if not child.name.startswith("."))
        rows.append(FolderUsage(label, folder, tree_bytes(folder), budget, count))
    known = {row.folder.name for row in rows[:-1]}
    others = [child for child in _children(cache_root()) if child.name not in known]
    rows.append(FolderUsage("other caches", cache_root(), sum(map(tree_bytes, others)), None, len(others)))
    return rows


def _children(folder: Path) -> list[Path]:
    return sorted(folder.iterdir()) if folder.is_dir() else []


def corpora_in_use() -> set[Path]:
    """Corpora that must stay: the class's training corpus and those of queued or training runs."""
    used = {active_corpus().resolve()}
    for info in jobs.list_runs():
        if info.alive or info.state == "queued":
            config = read_json_or_none(info.files.requested_config) or {}
            data_dir = config.get("data_dir") or (config.get("data") or {}).get("data_dir")
            if data_dir:
                used.add(Path(data_dir).resolve())
    return used


def evict_corpora(max_bytes: int | None = None, keep: set[Path] | None = None) -> list[Entry]:
    """Delete least recently used uploaded corpora past the budget (:attr:`Budgets.disk_corpora_bytes`),
    never those in use (or ``keep``)."""
    protected = corpora_in_use() | {path.resolve() for path in keep or set()}
    root, limit = corpora_root(), BUDGETS.disk_corpora_bytes if max_bytes is None else max_bytes
    _, deleted = evict_lru(root, limit, keep=lambda entry: (root / entry.key).resolve() in protected)
    return deleted


def store_uploaded_corpus(files: list[tuple[str, bytes]]) -> Path:
    """Store accepted upload files as a corpus folder (:func:`core.data.uploads.store_corpus`), mark it
    used now, and keep the corpora within their disk budget (the new one is kept)."""
    folder = store_corpus(files)
    touch(folder)
    evict_corpora(keep={folder})
    return folder


def tidy(budgets: Budgets | None = None) -> int:
    """Bring every evicted folder within its budget now; returns how many entries were deleted."""
    budgets = budgets or BUDGETS
    deleted = evict_corpora(budgets.disk_corpora_bytes)
    for _, folder, budget in _writer_evicted(budgets):
        deleted += evict_lru(folder, budget)[1]
    return len(deleted)


# --- what a teacher may delete ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredCorpus:
    """One uploaded corpus on disk."""

    folder: Path
    n_files: int
    n_bytes: int
    in_use: bool


def stored_corpora() -> list[StoredCorpus]:
    """Every uploaded corpus, largest first."""
    used = corpora_in_use()
    found = [
        StoredCorpus(
            folder,
            sum(1 for child in folder.iterdir() if child.is_file()),
            tree_bytes(folder),
            folder.resolve() in used,
        )
        for folder in _children(corpora_root())
        if folder.is_dir() and CORPUS_NAME.match(folder.name)
    ]
    return sorted(found, key=lambda corpus: (-corpus.n_bytes, corpus.folder.name))


@dataclass(frozen=True)
class StoredRun:
    """One training run on disk."""

    run_id: str
    state: str
    n_bytes: int
    holds_class_generator: bool
    alive: bool


def stored_runs() -> list[StoredRun]:
    """Every run folder, largest first."""
    found = [
        StoredRun(run.run_id, run.state, tree_bytes(run.path), holds_class_generator(run.run_id), run.alive)
        for run in jobs.list_runs()
    ]
    return sorted(found, key=lambda run: (-run.n_bytes, run.run_id))


def _require_teacher(by: Visitor, what: str) -> None:
    if not by.teacher:
        raise RoleError(f"Only the teacher can delete {what}.")


def delete_corpus(name: str, by: Visitor) -> None:
    """Delete one uploaded corpus by its folder name (teacher only; never one in use)."""
    _require_teacher(by, "uploaded corpora")
    folder = corpora_root() / name
    if not CORPUS_NAME.match(name) or not folder.is_dir():
        raise StorageError(f"there is no uploaded corpus called {name[:40]!r}")
    if folder.resolve() in corpora_in_use():
        raise StorageError("this corpus is in use: the class trains on it, or a run reads it")
    remove([folder])


def holds_class_generator(run_id: str) -> bool:
    """Whether the class's generator is a checkpoint inside this run's folder."""
    run_folder = (runs_root() / jobs.check_run_id(run_id)).resolve()
    return run_folder in active_checkpoint().resolve().parents


def delete_run(run_id: str, by: Visitor) -> None:
    """Delete a run (teacher only): never one that trains, nor the one holding the class's generator."""
    _require_teacher(by, "training runs")
    if holds_class_generator(run_id):
        raise StorageError(
            f"run {run_id} holds the class's generator; make another model the class's generator first"
        )
    try:
        jobs.delete_run(run_id)
    except jobs.JobError as error:
        raise StorageError(str(error)) from None


# --- the status line -------------------------------------------------------------------------------------


def server_memory_bytes() -> int | None:
    """The resident memory of this server process (Linux), or None where it cannot be read."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def status_line(budgets: Budgets | None = None) -> str:
    """Disk and memory in use against the budgets, in one sentence."""
    budgets = budgets or BUDGETS
    *cache_rows, runs_row, _ = disk_usage(budgets)
    cache, runs = sum(row.n_bytes for row in cache_rows), runs_row.n_bytes
    caches = memory_in_use()
    in_memory = sum(cache.n_bytes for cache in caches)
    memory_budget = budgets.corpus_cache_bytes + budgets.audio_cache_bytes
    rss = server_memory_bytes()
    server = f"; the server process uses {format_bytes(rss)} in all" if rss else ""
    return (
        f"Disk: caches {format_bytes(cache)} of {format_bytes(budgets.disk_cache_bytes)}, training runs "
        f"{format_bytes(runs)} of {format_bytes(budgets.disk_runs_bytes)}. Memory: cached uploads and audio "
        f"{format_bytes(in_memory)} of {format_bytes(memory_budget)}{server}."
    )
