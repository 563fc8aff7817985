"""Beat chords, batched: the pitch-class set sounding at each beat and what kind of chord it is.

A *beat chord* is the set of pitch classes sounding at a beat's first step (steps that are multiples of
``steps_per_beat``), as a 12-bit mask (see ``core.music.chords``). Shares count the beats at which at
least one note sounds; a silent roll gives NaN. Passing and neighbour notes that fall on a beat are
part of its chord, as a listener hears them there.

Sources: Kostka & Payne, *Tonal Harmony*, ch. 3 (triads and seventh chords) and ch. 5 (the complete
triad of four-part writing); Forte, *The Structure of Atonal Music*, Yale 1973 (pitch-class sets).
"""

from __future__ import annotations

import numpy as np

from core.music.arrays import ratio
from core.music.chords import (
    CHORD_QUALITY,
    CHORD_ROOT,
    MAJOR,
    MINOR,
    QUALITIES,
    SEVENTH_CODES,
    TERTIAN_SUBSET,
)
from core.music.tonality import pitch_class_matrix

BITS = 1 << np.arange(12)


def beat_pitch_class_sets(active: np.ndarray, lowest_pitch: int = 36, steps_per_beat: int = 4) -> np.ndarray:
    """int[N, B]: the 12-bit pitch-class set sounding at the first step of each beat (0 = silence)."""
    beats = np.asarray(active, dtype=bool)[:, ::steps_per_beat]
    present = (beats.astype(np.float32) @ pitch_class_matrix(beats.shape[2], lowest_pitch)) > 0
    return present.astype(np.int64) @ BITS


def beat_bass_pitch_classes(
    active: np.ndarray, lowest_pitch: int = 36, steps_per_beat: int = 4
) -> np.ndarray:
    """int[N, B]: the pitch class of the lowest note at each beat's first step, -1 where silent."""
    beats = np.asarray(active, dtype=bool)[:, ::steps_per_beat]
    lowest = (beats.argmax(axis=2) + lowest_pitch) % 12
    return np.where(beats.any(axis=2), lowest, -1)


def _share_of_sounding_beats(hits: np.ndarray, pc_sets: np.ndarray) -> np.ndarray:
    sounding = np.asarray(pc_sets) > 0
    return ratio((hits & sounding).sum(axis=1), sounding.sum(axis=1))


def major_minor_triad_share(pc_sets: np.ndarray) -> np.ndarray:
    """float64[N]: share of sounding beats whose chord is a complete major or minor triad.

    Complete means root, third and fifth all sound, in any octave and doubling (Kostka & Payne,
    ch. 5); a bare third does not count, since it names no triad unambiguously.
    """
    return _share_of_sounding_beats(np.isin(CHORD_QUALITY[pc_sets], (MAJOR, MINOR)), pc_sets)


def seventh_chord_share(pc_sets: np.ndarray) -> np.ndarray:
    """float64[N]: share of sounding beats whose chord is a seventh chord (any of the seven qualities).

    Complete, or with its perfect fifth omitted as four-part writing often does (Kostka & Payne, ch. 13).
    """
    return _share_of_sounding_beats(np.isin(CHORD_QUALITY[pc_sets], SEVENTH_CODES), pc_sets)


def non_tertian_share(pc_sets: np.ndarray) -> np.ndarray:
    """float64[N]: share of sounding beats whose pitch-class set lies in no triad or seventh chord.

    Clusters (C–C#–D), suspensions and accented passing notes over a triad (C–E–F–G): sets that are
    not a subset of any stack of thirds (Kostka & Payne, ch. 3; Forte 1973 for the set view).
    """
    return _share_of_sounding_beats(~TERTIAN_SUBSET[pc_sets], pc_sets)


def chord_types_per_1000_beats(pc_sets: np.ndarray) -> np.ndarray:
    """float64[N]: distinct named chords (root and quality, e.g. "G dominant seventh") per 1,000 beats.

    The size of the harmonic vocabulary normalised by length: named chords are those of
    ``core.music.chords``; the count is divided by the sounding beats. NaN for a silent roll.
    """
    pc_sets = np.asarray(pc_sets)
    quality = CHORD_QUALITY[pc_sets].astype(np.int64)
    named = quality >= 0
    codes = np.where(named, quality * 12 + CHORD_ROOT[pc_sets], len(QUALITIES) * 12)
    used = np.zeros((len(pc_sets), len(QUALITIES) * 12 + 1), dtype=bool)
    used[np.arange(len(pc_sets))[:, None], codes] = True
    return 1000.0 * ratio(used[:, :-1].sum(axis=1), (pc_sets > 0).sum(axis=1))
