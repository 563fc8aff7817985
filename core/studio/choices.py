"""The server-wide choices of the studio: which checkpoint generates and which corpus trains.

Every visitor sees the same choice; each is a small JSON file in the runs folder, written atomically so a
reader never sees half of one, and a choice whose target has vanished falls back to the shipped default.
"""

from __future__ import annotations

from pathlib import Path

from core.files import read_json_or_none, write_json_atomic
from core.paths import DEFAULT_CHECKPOINT, DEFAULT_CORPUS, runs_root


class ChoiceError(ValueError):
    """A choice names something that does not exist; the message is meant for the user."""


def _remember(choice: str, path: Path) -> None:
    """Record a chosen path (server-wide: every visitor sees the same choice)."""
    write_json_atomic(runs_root() / f"active_{choice}.json", {"path": str(Path(path).resolve())})


def _recall(choice: str, default: Path) -> Path:
    """A recorded choice that still exists, else ``default``."""
    chosen = (read_json_or_none(runs_root() / f"active_{choice}.json") or {}).get("path")
    return Path(chosen) if chosen and Path(chosen).exists() else default


def set_active_checkpoint(path: Path) -> None:
    """Make a checkpoint the generator the Generate page uses."""
    if not Path(path).exists():
        raise ChoiceError(f"no checkpoint at {path}")
    _remember("checkpoint", path)


def active_checkpoint() -> Path:
    """The chosen generator checkpoint, or the shipped default when none was chosen (or it vanished)."""
    return _recall("checkpoint", DEFAULT_CHECKPOINT)


def set_active_corpus(folder: Path) -> None:
    """Make a folder of MIDI files the corpus the Train page trains on."""
    if not Path(folder).is_dir():
        raise ChoiceError(f"no corpus folder at {folder}")
    _remember("corpus", folder)


def active_corpus() -> Path:
    """The chosen training corpus, or the bundled chorales when none was chosen (or it vanished)."""
    return _recall("corpus", DEFAULT_CORPUS)
