"""The checkpoints and corpora a visitor can choose from, and how the app names them (never a machine path).

A checkpoint also has a **key**, a short name that can travel in a link: the family's name for a shipped
checkpoint (``lstm_gan``, ``lstm_lm``, ``cnn_gan``) and ``<run id>.<best|last>`` for a run's checkpoint.
"""

from __future__ import annotations

from pathlib import Path

from core.families import FAMILIES
from core.paths import DEFAULT_CHECKPOINT, DEFAULT_CORPUS, display_path, runs_root
from core.studio.choices import ChoiceError, active_checkpoint
from core.studio.jobs import JobError, check_run_id, list_runs
from core.studio.queue import visible_runs
from core.studio.roles import Visitor
from core.training.runfiles import RunFiles

RUN_CHECKPOINTS = ("best", "last")
BASELINES = ("lstm_lm", "cnn_gan")
"""The families the survey compares the GAN against (the others are this project's own models)."""


def shipped_checkpoints() -> dict[str, Path]:
    """The pretrained checkpoint folder of every family that ships one, by family."""
    return {kind: family.checkpoint for kind, family in FAMILIES.items() if family.checkpoint.is_dir()}


def checkpoint_choices(visitor: Visitor | None = None, first: Path | None = None) -> list[Path]:
    """``first`` (or the class's generator), the class's, the shipped ones, then the runs' checkpoints.

    A student (``visitor``) sees the class's runs and their own; the teacher, or no visitor, every run.
    """
    choices = [first or active_checkpoint(), active_checkpoint(), *shipped_checkpoints().values()]
    for run in visible_runs(visitor) if visitor else list_runs():
        choices += [path for path in (run.best_checkpoint, run.last_checkpoint) if path.exists()]
    return list(dict.fromkeys(choices))


def checkpoint_label(path: Path) -> str:
    """A checkpoint in words: "Shipped default: …", "Shipped model: …", "Shipped baseline: …" or
    "<run> · best"."""
    if path == DEFAULT_CHECKPOINT:
        return "Shipped default: LSTM-vs-LSTM GAN (Bach chorales)"
    for kind, folder in shipped_checkpoints().items():
        if path == folder:
            return f"Shipped {'baseline' if kind in BASELINES else 'model'}: {FAMILIES[kind].label}"
    return f"{path.parent.parent.name} · {path.stem}" if path.suffix == ".pt" else display_path(path)


def checkpoint_key(path: Path) -> str | None:
    """The checkpoint's key for links, or None for a folder the catalogue does not know."""
    for kind, folder in shipped_checkpoints().items():
        if Path(path) == folder:
            return kind
    path = Path(path)
    if path.suffix == ".pt" and path.stem in RUN_CHECKPOINTS and path.parent.name == "checkpoints":
        run = path.parent.parent
        if run.parent.resolve() == runs_root().resolve():
            return f"{run.name}.{path.stem}"
    return None


def checkpoint_from_key(key: str) -> Path:
    """The checkpoint a key names; :class:`ChoiceError` (meant for the user) when there is none."""
    shipped = shipped_checkpoints()
    if key in shipped:
        return shipped[key]
    run_id, _, which = str(key).rpartition(".")
    try:
        files = RunFiles(runs_root() / check_run_id(run_id))
    except JobError:
        raise ChoiceError(f"{key!r} names no model of this studio") from None
    path = {"best": files.best, "last": files.last}.get(which)
    if path is None or not path.exists():
        raise ChoiceError(f"the model {key!r} is not on this server (any more)")
    return path


def checkpoint_stamp(path: Path) -> float:
    """Latest modification time of a checkpoint file or of the files in a checkpoint folder (a cache key)."""
    files = [p for p in path.iterdir() if p.is_file()] if path.is_dir() else [path]
    return max((p.stat().st_mtime for p in files), default=0.0)


def corpus_label(folder: Path) -> str:
    """A corpus folder in words, the same on every page: "the bundled Bach chorales" or "an uploaded …"."""
    if Path(folder).resolve() == DEFAULT_CORPUS.resolve():
        return "the bundled Bach chorales"
    return f"an uploaded corpus ({Path(folder).name[:8]})"
