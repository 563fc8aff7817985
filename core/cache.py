"""Where the studio keeps regenerable files: ``.cache/`` in the repository, or ``$GMS_CACHE_DIR``.

Each kind of file has its own subfolder (``rolls``, ``audio``, ``corpora``, ``rankers``); deleting any of
them only costs time.
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "GMS_CACHE_DIR"
REPO_ROOT = Path(__file__).resolve().parents[1]


def cache_root() -> Path:
    """The cache folder: ``$GMS_CACHE_DIR`` when set, else ``.cache`` in the repository."""
    override = os.environ.get(CACHE_ENV)
    return Path(override) if override else REPO_ROOT / ".cache"


def cache_subdir(kind: str) -> Path:
    """The folder for one kind of cached file (not created here)."""
    return cache_root() / kind
