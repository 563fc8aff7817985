"""Rhythm, batched: how often notes start on the weakest metrical positions, the 16th notes.

A beat of four 16th steps has metrical positions 0 (the beat), 2 (the eighth-note off-beat) and 1
and 3 (the 16th positions, the lowest level of the metrical grid). A chorale moves in quarter and
eighth notes; a note that starts on a 16th position makes the rhythm busier than the style allows.

Source: Lerdahl & Jackendoff, *A Generative Theory of Tonal Music*, MIT Press 1983, ch. 4 (metrical
structure: the levels of beats and their weights).
"""

from __future__ import annotations

import numpy as np

from core.music.arrays import note_start_cells, ratio


def sixteenth_positions(steps_per_beat: int = 4) -> np.ndarray:
    """int[2]: the steps within a beat on the 16th positions (1 and 3 of four 16ths)."""
    if steps_per_beat % 4:
        raise ValueError(f"16th positions need a multiple of 4 steps per beat, got {steps_per_beat}")
    sixteenth = steps_per_beat // 4
    return np.array([sixteenth, 3 * sixteenth])


def sixteenth_onset_beat_share(active: np.ndarray, onset: np.ndarray, steps_per_beat: int = 4) -> np.ndarray:
    """float64[N]: share of sounding beats in which some note starts on a 16th position (1 or 3).

    A note starts at an onset or where its pitch begins to sound (as in ``core.music.features.note_spans``).
    Beats count when a note sounds somewhere in them; a last partial beat counts too. NaN for a
    silent roll. Raises ValueError unless ``steps_per_beat`` is a multiple of 4.
    """
    positions = sixteenth_positions(steps_per_beat)
    active = np.asarray(active, dtype=bool)
    note_starts = note_start_cells(active, onset)
    n, t, _ = active.shape
    n_beats = -(-t // steps_per_beat)
    sounding = np.zeros((n, n_beats * steps_per_beat), dtype=bool)
    starts = np.zeros_like(sounding)
    sounding[:, :t] = active.any(axis=2)
    starts[:, :t] = note_starts.any(axis=2)
    beat_sounds = sounding.reshape(n, n_beats, steps_per_beat).any(axis=2)
    busy = starts.reshape(n, n_beats, steps_per_beat)[:, :, positions].any(axis=2)
    return ratio((busy & beat_sounds).sum(axis=1), beat_sounds.sum(axis=1))
