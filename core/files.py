"""Atomic files: a reader sees the old file or the new one, never half of one; a failed write leaves nothing.

Every file the studio writes goes through here: the data is written to a private temporary file beside the
target, flushed to disk, given the usual 0644 permissions and renamed over the target. On any failure (a
full disk, an exception while writing) the temporary file is removed and the previous target is untouched.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """A temporary file beside ``path`` that replaces it only when fully written (removed on failure)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp files are private (0600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path."""
    with atomic_file(path, "wb") as handle:
        handle.write(data)
    return Path(path)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically; returns the path."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_npz_atomic(path: str | os.PathLike, arrays: dict, compressed: bool = True) -> Path:
    """Write numpy arrays as an ``.npz`` atomically (read back with ``allow_pickle=False``)."""
    with atomic_file(path, "wb") as handle:
        (np.savez_compressed if compressed else np.savez)(handle, **arrays)
    return Path(path)


def write_json_atomic(path: str | os.PathLike, obj: object) -> Path:
    """Write ``obj`` as indented JSON atomically (NaN and infinities become null); returns the path."""
    return write_text_atomic(path, json.dumps(json_ready(obj), indent=2, default=_json_default))


def json_ready(value: object) -> object:
    """``value`` with NaN/inf floats as None and numpy scalars as Python numbers (JSON has neither)."""
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _json_default(value: object) -> object:
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike) -> Iterator[Path]:
    """A staging folder that becomes ``path`` only when the block succeeds (removed on any failure).

    If ``path`` appears meanwhile (another process stored the same content first), the staging folder is
    discarded and the existing one kept.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        yield staging
        os.chmod(staging, 0o755)
        try:
            staging.rename(path)
        except OSError:
            if not path.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def read_json_or_none(path: str | os.PathLike) -> dict | None:
    """A JSON object from ``path``, or None when the file is missing, unreadable or not an object."""
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None
