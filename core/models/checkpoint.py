"""Checkpoint files: written atomically, read safely, and found in either of the two shapes the studio uses.

A *checkpoint folder* (what ``checkpoints/<name>/`` ships) holds ``model.pt`` (the sampling network's
state_dict) and ``config.json`` (the training config, see :mod:`core.training.config`). A *run checkpoint*
(``runs/<id>/checkpoints/last.pt`` or ``best.pt``) is one plain dict with at least ``model`` (that
state_dict) and ``config``. Every file is read with ``torch.load(..., weights_only=True)``: no code in a file
ever runs, whoever wrote it.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from core.files import atomic_file, write_json_atomic

MODEL_FILE = "model.pt"
CONFIG_FILE = "config.json"


class CheckpointError(ValueError):
    """A checkpoint file cannot be used; the message says why, in words a user understands."""


def save_checkpoint(obj: dict, path: str | Path) -> Path:
    """``torch.save`` atomically; a failed write (a full disk) leaves the previous file untouched."""
    with atomic_file(path, "wb") as handle:
        torch.save(obj, handle)
    return Path(path)


def load_checkpoint(path: str | Path, device: str = "cpu") -> dict:
    """Load a checkpoint dict safely (``weights_only=True``).

    Raises FileNotFoundError for a missing file and :class:`CheckpointError` for anything else that is
    not a checkpoint dict (truncated, empty, text, a pickle of arbitrary objects).
    """
    path = Path(path)
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as error:  # torch raises many types on damaged or hostile files
        raise CheckpointError(
            f"{path.name} is not a readable checkpoint: it is damaged, truncated or not a PyTorch "
            f"checkpoint of this studio ({type(error).__name__})"
        ) from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path.name} is not a readable checkpoint (it holds no dictionary of weights)")
    return state


def read_checkpoint(path: str | Path, device: str = "cpu") -> tuple[dict, dict, dict]:
    """``(state_dict, config dict, extras)`` of a checkpoint folder or a run checkpoint, read once.

    ``extras`` holds what else a run checkpoint carries (``discriminator``, ``step``, ...) or, for a
    folder, the optional ``discriminator.pt`` beside ``model.pt``.
    """
    path = Path(path)
    if path.is_dir():
        state = load_checkpoint(path / MODEL_FILE, device)
        config = _read_config(path / CONFIG_FILE)
        extras = {}
        if (path / "discriminator.pt").is_file():
            extras["discriminator"] = load_checkpoint(path / "discriminator.pt", device)
        return state, config, extras
    saved = load_checkpoint(path, device)
    if "model" in saved and "config" in saved:
        extras = {key: value for key, value in saved.items() if key not in ("model", "config")}
        return saved["model"], saved["config"], extras
    return saved, _read_config(path.with_name(CONFIG_FILE)), {}


def _read_config(path: Path) -> dict:
    try:
        config = json.loads(path.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{path.parent.name} has no {CONFIG_FILE} beside its weights") from None
    except (OSError, ValueError) as error:
        raise CheckpointError(f"{path.name} is not readable JSON ({error})") from None
    if not isinstance(config, dict):
        raise CheckpointError(f"{path.name} does not hold a config")
    return config


def write_checkpoint_folder(
    out: str | Path, state_dict: dict, config: dict, extras: dict | None = None
) -> Path:
    """Write ``out/model.pt`` (state_dict), ``out/config.json`` and, when given, ``out/discriminator.pt``."""
    out = Path(out)
    save_checkpoint({k: v.detach().cpu() for k, v in state_dict.items()}, out / MODEL_FILE)
    if extras and extras.get("discriminator"):
        save_checkpoint(extras["discriminator"], out / "discriminator.pt")
    write_json_atomic(out / CONFIG_FILE, config)
    return out
