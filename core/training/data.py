"""Training data as arrays: the windows a model learns from and the validation windows its samples are
measured against, read from a corpus folder or from a ready ``.npz`` of windows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.data import Corpus, load_folder, windows
from core.data.config import DataConfig
from core.music.pianoroll import RollSpec


@dataclass(frozen=True)
class WindowSet:
    """Training windows, validation (reference) windows, both bool [N, T, P]."""

    train_active: np.ndarray
    train_onset: np.ndarray
    valid_active: np.ndarray
    valid_onset: np.ndarray


class NotEnoughData(ValueError):
    """The corpus has no piece long enough for one training window."""


def load_corpus(data: DataConfig, spec: RollSpec) -> Corpus:
    """The corpus folder of a data config, as piano-rolls on ``spec``."""
    return load_folder(data.folder, spec=spec)


def window_set(data: DataConfig, spec: RollSpec, bars: int | None = None) -> WindowSet:
    """Training windows (with the transpositions) and validation windows of ``bars`` bars (default: the
    config's); without a train/valid split every piece trains and the training windows are the reference."""
    if data.is_window_file:
        return _window_file(data.data_dir)
    corpus = load_corpus(data, spec)
    options = {"bars": bars or data.bars, "hop_bars": data.hop_bars, "beats_per_bar": data.beats_per_bar}
    train_part = corpus.split("train") if corpus.split("train").pieces else corpus
    train = windows(train_part, transpose=data.transpose, **options)
    if len(train[0]) == 0:
        raise NotEnoughData(
            f"no training windows: no piece of the corpus lasts {options['bars']} bars of "
            f"{data.beats_per_bar} beats; add longer pieces or train on shorter windows"
        )
    valid_part = corpus.split("valid")
    valid = windows(valid_part, **options) if valid_part.pieces else train
    if len(valid[0]) == 0:
        valid = train
    return WindowSet(*train, *valid)


def _window_file(path: str) -> WindowSet:
    with np.load(path, allow_pickle=False) as stored:
        train = stored["train_active"], stored["train_onset"]
        valid = (stored["valid_active"], stored["valid_onset"]) if "valid_active" in stored else train
    return WindowSet(*(np.asarray(a, dtype=bool) for a in (*train, *valid)))


def frames_from(active: np.ndarray, onset: np.ndarray) -> torch.Tensor:
    """Bool rolls [N, T, P] → float frames [N, T, 2P] (active then onset)."""
    onset = onset & active
    return torch.from_numpy(np.concatenate([active, onset], axis=-1).astype(np.float32))
