"""Training windows: fixed-length slices of a corpus's piano-rolls, with optional transpositions.

At most :attr:`core.budgets.Budgets.training_windows` windows (transpositions included) are built: past
that, windows are taken evenly across the corpus before any array is filled, and a warning says so.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable

import numpy as np

from core.budgets import BUDGETS
from core.data.corpus import Corpus
from core.music.pianoroll import PianoRoll

log = logging.getLogger(__name__)


def windows(
    corpus: Corpus,
    bars: int = 4,
    hop_bars: int = 1,
    beats_per_bar: int = 4,
    transpose: Iterable[int] = (),
    max_windows: int = BUDGETS.training_windows,
) -> tuple[np.ndarray, np.ndarray]:
    """Windows of ``bars`` bars every ``hop_bars`` bars from the pieces with ``beats_per_bar`` beats a bar.

    Returns ``active, onset`` as ``bool[N, T, P]`` with ``T = bars * beats_per_bar * steps_per_beat``; a
    note held into a window gets an onset at its first step. ``transpose`` adds copies shifted by those
    semitones (the originals are always kept); a window whose notes a shift would push out of the pitch
    range is left out of that shift. When there would be more than ``max_windows`` windows with the
    transpositions, evenly spaced windows are taken so that there are at most ``max_windows``.
    """
    steps = bars * beats_per_bar * corpus.spec.steps_per_beat
    hop = hop_bars * beats_per_bar * corpus.spec.steps_per_beat
    if steps < 1 or hop < 1 or max_windows < 1:
        raise ValueError("bars, hop_bars, beats_per_bar and max_windows must be at least 1")
    rolls = [roll for roll in _rolls_in_meter(corpus, beats_per_bar) if roll.n_steps >= steps]
    counts = [(roll.n_steps - steps) // hop + 1 for roll in rolls]
    shifts = sorted({int(shift) for shift in transpose})
    chosen = _evenly_chosen(counts, max(max_windows // len(set(shifts) | {0}), 1))
    parts = [_piece_windows(roll, steps, hop, keep) for roll, keep in zip(rolls, chosen, strict=True)]
    shape = (0, steps, corpus.spec.n_pitches)
    active = np.concatenate([a for a, _ in parts]) if parts else np.zeros(shape, bool)
    onset = np.concatenate([o for _, o in parts]) if parts else np.zeros(shape, bool)
    return _augment(active, onset, shifts)


def window_count(corpus: Corpus, bars: int = 4, hop_bars: int = 1, beats_per_bar: int = 4) -> int:
    """How many windows (without transpositions, before the budget) :func:`windows` would cut."""
    steps = bars * beats_per_bar * corpus.spec.steps_per_beat
    hop = hop_bars * beats_per_bar * corpus.spec.steps_per_beat
    rolls = _rolls_in_meter(corpus, beats_per_bar)
    return sum((roll.n_steps - steps) // hop + 1 for roll in rolls if roll.n_steps >= steps)


def _rolls_in_meter(corpus: Corpus, beats_per_bar: int) -> list[PianoRoll]:
    return [piece.roll for piece in corpus.pieces if piece.roll.beats_per_bar == beats_per_bar]


def _evenly_chosen(counts: list[int], budget: int) -> list[np.ndarray]:
    """For each piece, which of its windows to keep: all of them, or evenly spaced ones across the whole
    corpus when there are more than ``budget``."""
    total = sum(counts)
    if total <= budget:
        return [np.arange(count) for count in counts]
    log.warning(
        "the corpus gives %s training windows; the budget is %s, so evenly spaced ones are kept",
        f"{total:,}",
        f"{budget:,}",
    )
    picks = np.unique(np.linspace(0, total - 1, budget).round().astype(np.int64))
    starts = np.cumsum([0, *counts])
    return [picks[(picks >= start) & (picks < end)] - start for start, end in itertools.pairwise(starts)]


def _piece_windows(roll: PianoRoll, steps: int, hop: int, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The windows ``keep`` (indices among the piece's windows every ``hop`` steps), copied out."""
    view = np.lib.stride_tricks.sliding_window_view
    active = view(roll.active, steps, axis=0)[::hop][keep].transpose(0, 2, 1).copy()
    onset = view(roll.onset, steps, axis=0)[::hop][keep].transpose(0, 2, 1).copy()
    onset[:, 0] |= active[:, 0]
    return active, onset


def _augment(active: np.ndarray, onset: np.ndarray, shifts: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
    """The windows plus their transpositions, written once into preallocated arrays."""
    extra = sorted({int(shift) for shift in shifts} - {0})
    if not extra:
        return active, onset
    lowest, highest = _pitch_span(active)
    n_pitches = active.shape[2]
    chosen = [(0, np.ones(len(active), bool))]
    chosen += [(shift, (lowest + shift >= 0) & (highest + shift < n_pitches)) for shift in extra]
    total = sum(int(mask.sum()) for _, mask in chosen)
    out_active = np.zeros((total, *active.shape[1:]), bool)
    out_onset = np.zeros_like(out_active)
    position = 0
    for shift, mask in chosen:
        rows = slice(position, position + int(mask.sum()))
        for source, target in ((active, out_active), (onset, out_onset)):
            kept = source[mask]
            if shift >= 0:
                target[rows, :, shift:] = kept[:, :, : n_pitches - shift]
            else:
                target[rows, :, :shift] = kept[:, :, -shift:]
        position = rows.stop
    return out_active, out_onset


def _pitch_span(active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lowest and highest sounding pitch column of each window (0 and P - 1 for silent windows)."""
    sounding = active.any(axis=1)
    n_pitches = active.shape[2]
    anything = sounding.any(axis=1)
    lowest = np.where(anything, sounding.argmax(axis=1), 0)
    highest = np.where(anything, n_pitches - 1 - sounding[:, ::-1].argmax(axis=1), n_pitches - 1)
    return lowest, highest
