"""The class's (server-wide) choices: which checkpoint generates, which corpus trains, what students may do.

Every visitor sees the same choice; each is a small JSON file in the runs folder, written atomically so a
reader never sees half of one, and a choice whose target has vanished falls back to the shipped default.
Only the teacher changes them (``by`` must be a teacher :class:`~core.studio.roles.Visitor`; the command
line acts as :data:`~core.studio.roles.OPERATOR`); a student's own choices live in their session
(:mod:`core.studio.spaces`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from core.files import read_json_or_none, write_json_atomic
from core.paths import DEFAULT_CHECKPOINT, DEFAULT_CORPUS, runs_root
from core.studio.roles import OPERATOR, RoleError, Visitor


class ChoiceError(ValueError):
    """A choice names something that does not exist; the message is meant for the user."""


def _remember(choice: str, path: Path) -> None:
    """Record a chosen path (server-wide: every visitor sees the same choice)."""
    write_json_atomic(runs_root() / f"active_{choice}.json", {"path": str(Path(path).resolve())})


def _recall(choice: str, default: Path) -> Path:
    """A recorded choice that still exists, else ``default``."""
    chosen = (read_json_or_none(runs_root() / f"active_{choice}.json") or {}).get("path")
    return Path(chosen) if chosen and Path(chosen).exists() else default


def _require_teacher(by: Visitor, action: str) -> None:
    if not by.teacher:
        raise RoleError(f"Only the teacher can {action}; your own choice stays in your session.")


def set_active_checkpoint(path: Path, by: Visitor = OPERATOR) -> None:
    """Make a checkpoint the class's generator (the default on the Generate page)."""
    _require_teacher(by, "change the class's generator")
    if not Path(path).exists():
        raise ChoiceError(f"no checkpoint at {path}")
    _remember("checkpoint", path)


def active_checkpoint() -> Path:
    """The chosen generator checkpoint, or the shipped default when none was chosen (or it vanished)."""
    return _recall("checkpoint", DEFAULT_CHECKPOINT)


def set_active_corpus(folder: Path, by: Visitor = OPERATOR) -> None:
    """Make a folder of MIDI files the class's training corpus."""
    _require_teacher(by, "change the class's training corpus")
    if not Path(folder).is_dir():
        raise ChoiceError(f"no corpus folder at {folder}")
    _remember("corpus", folder)


def active_corpus() -> Path:
    """The chosen training corpus, or the bundled chorales when none was chosen (or it vanished)."""
    return _recall("corpus", DEFAULT_CORPUS)


@dataclass(frozen=True)
class ClassSettings:
    """What the teacher lets students do: train runs of their own, each for at most ``student_minutes``."""

    students_may_train: bool = False
    student_minutes: float = 3.0


def class_settings() -> ClassSettings:
    """The class settings (the defaults until the teacher changes them; unknown keys are ignored)."""
    stored = read_json_or_none(runs_root() / "class_settings.json") or {}
    names = {field.name for field in dataclasses.fields(ClassSettings)}
    return ClassSettings(**{key: value for key, value in stored.items() if key in names})


def set_class_settings(settings: ClassSettings, by: Visitor = OPERATOR) -> None:
    """Store the class settings (teacher only)."""
    _require_teacher(by, "change what students may do")
    write_json_atomic(runs_root() / "class_settings.json", dataclasses.asdict(settings))
