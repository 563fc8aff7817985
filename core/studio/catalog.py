"""The checkpoints a visitor can choose from, and how the app names them (never a machine path)."""

from __future__ import annotations

from pathlib import Path

from core.families import FAMILIES
from core.paths import DEFAULT_CHECKPOINT, display_path
from core.studio.choices import active_checkpoint
from core.studio.jobs import list_runs


def shipped_checkpoints() -> dict[str, Path]:
    """The pretrained checkpoint folder of every family that ships one, by family."""
    return {kind: family.checkpoint for kind, family in FAMILIES.items() if family.checkpoint.is_dir()}


def checkpoint_choices() -> list[Path]:
    """The active generator, the shipped checkpoints, then every run's best and last checkpoint."""
    choices = [active_checkpoint(), *shipped_checkpoints().values()]
    for run in list_runs():
        choices += [path for path in (run.best_checkpoint, run.last_checkpoint) if path.exists()]
    return list(dict.fromkeys(choices))


def checkpoint_label(path: Path) -> str:
    """A checkpoint in words: "Shipped default: …", "Shipped baseline: …" or "<run> · best"."""
    if path == DEFAULT_CHECKPOINT:
        return "Shipped default: LSTM-vs-LSTM GAN (Bach chorales)"
    for kind, folder in shipped_checkpoints().items():
        if path == folder:
            return f"Shipped baseline: {FAMILIES[kind].label}"
    return f"{path.parent.parent.name} · {path.stem}" if path.suffix == ".pt" else display_path(path)


def checkpoint_stamp(path: Path) -> float:
    """Latest modification time of a checkpoint file or of the files in a checkpoint folder (a cache key)."""
    files = [p for p in path.iterdir() if p.is_file()] if path.is_dir() else [path]
    return max((p.stat().st_mtime for p in files), default=0.0)
