"""Training data of the four-voice model: windows of the chorales as tokens plus what conditions them.

Windows come from :func:`core.data.voices.voice_windows` (whole bars, transposed copies whose key moves
with the notes). The phrase-end count-downs are measured on the whole piece before it is cut, so a window
that ends just before a fermata still knows the fermata is coming.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from core.data.config import DataConfig
from core.data.voices import VoiceCorpus, VoiceWindows, load_chorale_voices, voice_windows
from core.models.satb_tokens import conditioning, encode, metre_table, phrase_distances
from core.music.voices import Voices
from core.training.data import NotEnoughData

STEPS_PER_BEAT = 4


@dataclass(frozen=True)
class VoiceData:
    """``N`` windows as tensors: ``tokens`` int8 [N, T, 4], ``step_in_bar`` int16 [N, T], ``tonic`` and
    ``mode`` int8 [N], ``phrase_end`` bool [N, T], ``to_next`` and ``since`` int16 [N, T] (steps to the next
    and since the last phrase end in the whole piece, −1 for none), and the window's ``pitch``/``onset``."""

    tokens: torch.Tensor
    step_in_bar: torch.Tensor
    tonic: torch.Tensor
    mode: torch.Tensor
    phrase_end: torch.Tensor
    to_next: torch.Tensor
    since: torch.Tensor
    beats_per_bar: int = 4

    def __len__(self) -> int:
        return int(self.tokens.shape[0])

    def take(
        self, index: torch.Tensor, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(tokens long [B, T, 4], conditioning float [B, T, C]) of the windows at ``index``."""
        cond = conditioning(
            self.step_in_bar[index],
            self.tonic[index],
            self.mode[index],
            self.phrase_end[index],
            self.to_next[index],
            self.since[index],
            metre_table(STEPS_PER_BEAT, self.beats_per_bar),
        )
        return self.tokens[index].long().to(device), cond.to(device)


def corpus_pieces(data: DataConfig) -> VoiceCorpus:
    """The data config's corpus as four-voice pieces (the bundled chorales when none is set)."""
    return load_chorale_voices(data.folder)


def window_data(
    pieces: Sequence[Voices], bars: int, beats_per_bar: int = 4, transpose: Sequence[int] = ()
) -> VoiceData:
    """Windows of ``bars`` bars (hop one bar) of the pieces in ``beats_per_bar`` (others left out)."""
    steps_per_bar = STEPS_PER_BEAT * beats_per_bar
    windows = voice_windows(pieces, bars, 1, steps_per_bar, transpose)
    distances = [phrase_distances(voices.phrase_end) for voices in pieces]
    to_next, since = (_along_windows([d[which] for d in distances], windows) for which in (0, 1))
    return VoiceData(
        torch.from_numpy(encode(windows.pitch, windows.onset)),
        torch.from_numpy(windows.step_in_bar.astype(np.int64)),
        torch.from_numpy(windows.tonic.astype(np.int64)),
        torch.from_numpy(windows.mode.astype(np.int64)),
        torch.from_numpy(windows.phrase_end),
        torch.from_numpy(to_next.astype(np.int64)),
        torch.from_numpy(since.astype(np.int64)),
        beats_per_bar,
    )


def _along_windows(per_piece: list[np.ndarray], windows: VoiceWindows) -> np.ndarray:
    """A per-step array of each piece, cut like the windows: ``[N, T]``."""
    span = np.arange(windows.n_steps)
    rows = [per_piece[piece][start + span] for piece, start in zip(windows.piece, windows.start, strict=True)]
    return np.stack(rows) if rows else np.zeros((0, windows.n_steps), np.int16)


def train_and_valid(data: DataConfig, transpose: Sequence[int]) -> tuple[VoiceData, VoiceData]:
    """Training windows (with the transposed copies) and validation windows of a data config; without a
    train/valid split every piece trains and the training windows are the reference."""
    if data.steps_per_beat != STEPS_PER_BEAT:
        raise ValueError("the four-voice model works on a grid of four steps per beat (sixteenth notes)")
    corpus = corpus_pieces(data)
    train_part = corpus.split("train") if corpus.split("train").pieces else corpus
    train = window_data(train_part.voices, data.bars, data.beats_per_bar, transpose)
    if len(train) == 0:
        raise NotEnoughData(
            f"no four-voice piece of the corpus lasts {data.bars} bars of {data.beats_per_bar} beats; "
            "add longer four-part pieces or train on shorter windows"
        )
    valid_part = corpus.split("valid")
    valid = window_data(valid_part.voices, data.bars, data.beats_per_bar) if valid_part.pieces else train
    return train, (valid if len(valid) else train)
