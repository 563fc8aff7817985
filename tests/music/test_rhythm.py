"""Notes starting on 16th positions, on hand-built rhythms."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.music.rhythm import sixteenth_onset_beat_share, sixteenth_positions
from tests.support.rolls import P, roll


def test_sixteenth_positions() -> None:
    assert sixteenth_positions(4).tolist() == [1, 3]
    assert sixteenth_positions(8).tolist() == [2, 6]
    with pytest.raises(ValueError):
        sixteenth_positions(3)


def test_only_notes_starting_on_16th_positions_count() -> None:
    notes = [
        (60, 0, 4),  # beat 0: a quarter note
        (62, 4, 1), (64, 5, 1), (65, 6, 1), (67, 7, 1),  # beat 1: four 16ths
        (69, 8, 2), (71, 10, 2),  # beat 2: two eighths (position 2 is no 16th position)
        (72, 12, 3), (71, 15, 1),  # beat 3: dotted eighth and a 16th on position 3
    ]  # fmt: skip
    active, onset = roll(notes, 16)
    assert sixteenth_onset_beat_share(active[None], onset[None])[0] == 0.5


def test_a_note_that_begins_without_an_onset_mark_still_starts() -> None:
    active = np.zeros((1, 8, P), dtype=bool)
    active[0, 0:5, 24] = True
    active[0, 5:8, 26] = True  # begins on step 5 (a 16th position) with no onset mark
    assert sixteenth_onset_beat_share(active, np.zeros_like(active))[0] == 0.5


def test_silent_beats_are_left_out_and_silence_gives_nan() -> None:
    active, onset = roll([(60, 0, 1), (62, 1, 1)], 16)  # one busy beat, three silent ones
    rolls = np.stack([active, np.zeros_like(active)])
    share = sixteenth_onset_beat_share(rolls, np.stack([onset, np.zeros_like(onset)]))
    assert share[0] == 1.0 and math.isnan(share[1])
