"""``python -m core.storage``: the disk the studio uses against its budgets, and tidying its caches.

    python -m core.storage show [--json]   # each run-time folder's use against its budget, in words and bytes
    python -m core.storage tidy            # the Storage page's tidy button: trim every cache to its budget

``tidy`` deletes the least recently used rendered audio, piano-rolls, four-voice conversions and uploaded
corpora past their budgets (never the class's training corpus nor one a queued or training run reads). It
never deletes training runs, the shipped checkpoints or the shipped data; runs are deleted on the Storage
page by the teacher. Budgets are in core/budgets.py. The in-memory caches belong to the server process and
are shown on the Storage page, not here.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.budgets import BUDGETS, format_bytes
from core.paths import REPO_ROOT
from core.studio import storage
from core.studio.jobs import JobError
from core.studio.storage import FolderUsage


def folder_name(folder: Path) -> str:
    """A folder as the studio names it: relative to the repository (``.cache/audio``, ``runs``), else its
    name (never a machine path)."""
    try:
        return folder.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return folder.name


def items(count: int) -> str:
    return f"{count:,} item{'s' if count != 1 else ''}"


def usage_json(row: FolderUsage) -> dict:
    """One folder's use as plain values (``budget_bytes`` None: not limited)."""
    return {
        "label": row.label,
        "folder": folder_name(row.folder),
        "bytes": row.n_bytes,
        "budget_bytes": row.budget,
        "items": row.entries,
        "over_budget": row.budget is not None and row.n_bytes > row.budget,
    }


def usage_line(row: FolderUsage) -> str:
    """E.g. ``rendered audio (.cache/audio): 12 MB of 512 MB, 2 % (40 items; 12,582,912 of 536,870,912
    bytes)``."""
    where = f"{row.label} ({folder_name(row.folder)})"
    if row.budget is None:
        return (
            f"{where}: {format_bytes(row.n_bytes)}, not limited ({items(row.entries)}; {row.n_bytes:,} bytes)"
        )
    share = 100 * row.n_bytes / row.budget if row.budget else 100.0
    over = " — OVER BUDGET" if row.n_bytes > row.budget else ""
    return (
        f"{where}: {format_bytes(row.n_bytes)} of {format_bytes(row.budget)}, {share:.0f} %{over} "
        f"({items(row.entries)}; {row.n_bytes:,} of {row.budget:,} bytes)"
    )


def memory_line() -> str:
    return (
        f"memory (the server's own caches): uploads up to {format_bytes(BUDGETS.corpus_cache_bytes)}, "
        f"rendered audio up to {format_bytes(BUDGETS.audio_cache_bytes)}"
    )


def show(args: argparse.Namespace) -> int:
    rows = storage.disk_usage()
    if args.json:
        memory = {"uploads": BUDGETS.corpus_cache_bytes, "audio": BUDGETS.audio_cache_bytes}
        print(
            json.dumps({"disk": [usage_json(row) for row in rows], "memory_budgets_bytes": memory}, indent=2)
        )
        return 0
    for row in rows:
        print(usage_line(row))
    print(memory_line())
    return 0


def tidy(args: argparse.Namespace) -> int:
    deleted = storage.tidy()
    print(f"{deleted} cached item(s) deleted; training runs, checkpoints and data are never touched here")
    for row in storage.disk_usage()[:-2]:  # the caches tidy trims (not the runs, nor other caches)
        print(usage_line(row))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m core.storage",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verbs = parser.add_subparsers(dest="verb", required=True)
    showing = verbs.add_parser("show", help="each run-time folder's disk use against its budget")
    showing.add_argument("--json", action="store_true", help="print JSON instead of lines")
    verbs.add_parser("tidy", help="trim every cache to its budget (never runs, checkpoints or data)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return {"show": show, "tidy": tidy}[args.verb](args)
    except (OSError, JobError, storage.StorageError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
