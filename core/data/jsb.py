"""The JSB Chorales benchmark split (Boulanger-Lewandowski et al. 2012) as frame tensors.

``data/jsb/`` holds the JSON files: ``{"train": [...], "valid": [...], "test": [...]}``, a piece is a
list of frames and a frame a list of MIDI pitches. The benchmark's frames are quarter notes over the
88 piano keys (MIDI 21–108), so a uniform model scores 88·ln 2 ≈ 61.0 nats per frame.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.music.theory import estimate_key
from core.music.voices import N_VOICES, Voices
from core.paths import JSB_DIR

JSB_FILES = {"quarter": "jsb-chorales-quarter.json", "16th": "jsb-chorales-16th.json"}
JSB_SEPARATED = "Jsb16thSeparated.json"
"""16th notes, exactly four voices per frame (soprano first, -1 silent): the voices split."""
JSB_METER = (4, 4)
"""The JSB files carry no metre: every piece is read as 4/4 with a bar line at its first step."""
SPLITS = ("train", "valid", "test")
PIANO_LOWEST = 21
PIANO_KEYS = 88


def piece_to_frames(
    piece: Sequence[Sequence[int]], lowest: int = PIANO_LOWEST, n_pitches: int = PIANO_KEYS
) -> np.ndarray:
    """A list of frames (lists of MIDI pitches) as ``bool[T, n_pitches]``; pitches outside are an error."""
    frames = np.zeros((len(piece), n_pitches), dtype=bool)
    for t, chord in enumerate(piece):
        columns = np.asarray(chord, dtype=int) - lowest
        if columns.size and (columns.min() < 0 or columns.max() >= n_pitches):
            raise ValueError(f"frame {t} has a pitch outside MIDI {lowest}–{lowest + n_pitches - 1}")
        frames[t, columns] = True
    return frames


def load_jsb(
    resolution: str = "quarter",
    folder: Path = JSB_DIR,
    lowest: int = PIANO_LOWEST,
    n_pitches: int = PIANO_KEYS,
) -> dict[str, list[np.ndarray]]:
    """Every split as a list of ``bool[T, n_pitches]`` pieces."""
    if resolution not in JSB_FILES:
        raise ValueError(f"resolution must be one of {', '.join(JSB_FILES)}, not {resolution!r}")
    data = json.loads((Path(folder) / JSB_FILES[resolution]).read_text())
    return {split: [piece_to_frames(p, lowest, n_pitches) for p in data[split]] for split in SPLITS}


def random_transpositions(
    pieces: Sequence[np.ndarray], rng: np.random.Generator, low: int, high: int
) -> list[np.ndarray]:
    """Each piece shifted by a random ``low``..``high`` semitones; a shift that pushes a note off the
    keyboard is dropped (that piece stays as it is)."""
    shifted = []
    for piece, shift in zip(pieces, rng.integers(low, high + 1, size=len(pieces)), strict=True):
        used = np.flatnonzero(piece.any(axis=0))
        shift = int(shift)
        if shift == 0 or not used.size or used.min() + shift < 0 or used.max() + shift >= piece.shape[1]:
            shifted.append(piece)
            continue
        moved = np.zeros_like(piece)
        if shift > 0:
            moved[:, shift:] = piece[:, :-shift]
        else:
            moved[:, :shift] = piece[:, -shift:]
        shifted.append(moved)
    return shifted


def uniform_nll_per_frame(n_pitches: int = PIANO_KEYS) -> float:
    """The NLL of a model that turns every key on with probability ½."""
    return float(n_pitches * np.log(2.0))


def jsb_piece_voices(frames: Sequence[Sequence[int]], tempo_bpm: float = 100.0) -> Voices:
    """One JSB piece (frames of four MIDI pitches, soprano first, -1 silent) as voices.

    The format has no onsets: a note starts wherever a voice changes pitch or starts after a rest, so a
    repeated note merges with the one before. It has no metre (read as 4/4 from the first step), no
    fermatas and no key: the key is the Krumhansl–Kessler estimate of the pitch classes' durations.
    """
    pitch = np.asarray(frames, dtype=np.int64).reshape(-1, N_VOICES)
    sung = pitch[pitch >= 0]
    estimate = estimate_key(np.bincount(sung % 12, minlength=12)) if sung.size else None
    tonic, mode = (estimate.tonic, estimate.mode) if estimate else (0, "major")
    numerator, _ = JSB_METER
    return Voices(pitch, None, None, 4, numerator, tonic, mode, tempo_bpm, 0)


def load_jsb_voices(folder: str | os.PathLike = JSB_DIR) -> dict[str, list[Voices]]:
    """The JSB Chorales split (Boulanger-Lewandowski et al. 2012) at sixteenth notes with separated voices:
    ``{"train": [...], "valid": [...], "test": [...]}`` (229, 76 and 77 pieces); see :func:`jsb_piece_voices`.
    """
    data = json.loads((Path(folder) / JSB_SEPARATED).read_text())
    return {split: [jsb_piece_voices(frames) for frames in data[split]] for split in SPLITS}
