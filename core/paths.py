"""Where the studio's files live: the repository, shipped data and checkpoints, the cache and the runs.

Run-time files go to two git-ignored folders that the server may fill and a teacher may empty:
``.cache/`` (``$GMS_CACHE_DIR``) for regenerable files, a subfolder per kind (``rolls``, ``audio``,
``corpora``, ``voices``), and ``runs/`` (``$GMS_RUNS_DIR``) for training runs and class data.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS_DIR = REPO_ROOT / "checkpoints"
DEFAULT_CHECKPOINT = CHECKPOINTS_DIR / "default"
DATA_DIR = REPO_ROOT / "data"
DEFAULT_CORPUS = DATA_DIR / "chorales"
JSB_DIR = DATA_DIR / "jsb"
CACHE_ENV = "GMS_CACHE_DIR"
RUNS_ENV = "GMS_RUNS_DIR"


def cache_root() -> Path:
    """The cache folder: ``$GMS_CACHE_DIR`` when set, else ``.cache`` in the repository."""
    override = os.environ.get(CACHE_ENV)
    return Path(override) if override else REPO_ROOT / ".cache"


def cache_subdir(kind: str) -> Path:
    """The folder for one kind of cached file (not created here)."""
    return cache_root() / kind


def runs_root() -> Path:
    """The folder holding every training run (``runs/`` in the repository, or ``$GMS_RUNS_DIR``); created."""
    root = Path(os.environ.get(RUNS_ENV) or REPO_ROOT / "runs")
    root.mkdir(parents=True, exist_ok=True)
    return root


def display_path(path: Path) -> str:
    """A path as a page may show it: relative to the runs folder or the repository, never a machine path."""
    for root, prefix in ((runs_root(), "run "), (REPO_ROOT, "")):
        try:
            return prefix + Path(path).resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            continue
    return Path(path).name
