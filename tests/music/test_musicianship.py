"""The theory-metric catalogue and ``theory_metrics`` on hand-built chorales, empty rolls and real ones."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.music.musicianship import THEORY_METRIC_NAMES, THEORY_METRICS, theory_metrics
from tests.support.rolls import P, roll

TONIC, SUBDOMINANT, DOMINANT = (72, 64, 55, 48), (72, 65, 57, 53), (71, 62, 55, 43)
I_IV_V_I = [TONIC, SUBDOMINANT, DOMINANT, TONIC]
WITH_PARALLEL_FIFTH = [(72, 67, 64, 48), (69, 65, 60, 53), (74, 71, 62, 55), (72, 67, 64, 48)]


def four_part(chords: list[tuple[int, ...]], length: int = 8) -> tuple[np.ndarray, np.ndarray]:
    notes = [(pitch, i * length, length) for i, chord in enumerate(chords) for pitch in chord]
    active, onset = roll(notes, len(chords) * length)
    return active[None], onset[None]


def test_catalogue_entries_are_complete_and_unique() -> None:
    assert len(set(THEORY_METRIC_NAMES)) == len(THEORY_METRICS)
    for metric in THEORY_METRICS:
        assert metric.better in {"lower", "higher", "close to real"}, metric.name
        assert all([metric.label, metric.unit, metric.meaning, metric.source]), metric.name


def test_textbook_chorale() -> None:
    active, onset = four_part(I_IV_V_I * 2)  # four bars, two V→I
    values = theory_metrics(active, onset)
    assert set(values) == set(THEORY_METRIC_NAMES)
    assert all(v.shape == (1,) for v in values.values())
    assert values["four_voice_step_share"][0] == 1.0
    assert values["parallel_perfects_per_bar"][0] == 0.0
    assert values["triad_share"][0] == 1.0 and values["non_tertian_share"][0] == 0.0
    assert values["authentic_cadences_per_bar"][0] == 0.5
    assert values["out_of_range_share"][0] == 0.0
    assert values["sixteenth_onset_beat_share"][0] == 0.0
    assert values["soprano_step_share"][0] == 1.0
    assert math.isnan(values["voice_crossing_share"][0])  # no explicit voices
    assert math.isnan(values["phrase_end_authentic_share"][0])  # no phrase marks
    assert math.isnan(values["first_last_key_agreement"][0])  # four bars are too short


def test_parallel_fifth_written_in_is_counted_once() -> None:
    active, onset = four_part(I_IV_V_I + WITH_PARALLEL_FIFTH)
    values = theory_metrics(active, onset)
    assert values["parallel_perfects_per_bar"][0] == 0.25
    assert values["bars_with_parallels_share"][0] == 0.25


def test_phrase_end_and_explicit_voices() -> None:
    active, onset = four_part(I_IV_V_I)
    phrase_end = np.zeros((1, 32), dtype=bool)
    phrase_end[0, 24:] = True
    voices = np.tile(np.array(I_IV_V_I).repeat(8, axis=0)[None], (1, 1, 1))
    voices[0, 8:16, [0, 1]] = voices[0, 8:16, [1, 0]]  # the alto sings above the soprano under IV
    values = theory_metrics(active, onset, phrase_end=phrase_end, voices=voices)
    assert values["phrase_end_authentic_share"][0] == 1.0
    assert values["voice_crossing_share"][0] == 0.25


def test_sixteenths_and_bass_leaps_show() -> None:
    held = [(55, 0, 16), (64, 0, 16)]
    soprano = [(72, 0, 1), (74, 1, 1), (76, 2, 2), (72, 4, 12)]  # 16th, 16th, eighth on beat 1
    bass = [(48, 0, 8), (36, 8, 4), (43, 12, 4)]  # an octave down, then up a fifth
    active, onset = roll([*held, *soprano, *bass], 16)
    values = theory_metrics(active[None], onset[None])
    assert values["sixteenth_onset_beat_share"][0] == 0.25
    assert values["bass_leap_share"][0] == 0.5
    assert values["soprano_step_share"][0] == 2 / 3


def test_empty_rolls_give_nan_not_errors() -> None:
    empty = np.zeros((3, 64, P), dtype=bool)
    values = theory_metrics(empty, empty, phrase_end=np.zeros((3, 64), dtype=bool))
    for name, value in values.items():
        assert value.shape == (3,) and np.isnan(value).all(), name


def test_rolls_are_judged_independently() -> None:
    active, onset = four_part(I_IV_V_I * 2)
    both = theory_metrics(np.concatenate([active, np.zeros_like(active)]), np.concatenate([onset, onset * 0]))
    alone = theory_metrics(active, onset)
    for name in THEORY_METRIC_NAMES:
        np.testing.assert_allclose(both[name][:1], alone[name], rtol=1e-12, err_msg=name)
        assert math.isnan(both[name][1]), name


def test_rejects_rolls_that_are_not_three_dimensional() -> None:
    with pytest.raises(ValueError):
        theory_metrics(np.zeros((1, 2, 16, P), bool), np.zeros((1, 2, 16, P), bool))


def test_real_chorales_read_as_chorales() -> None:
    """The held-out chorales land in broad bands around the figures a musician would expect."""
    from core.data import load_folder, windows
    from core.paths import DEFAULT_CORPUS

    active, onset = windows(load_folder(DEFAULT_CORPUS).split("test"), bars=4, hop_bars=1, beats_per_bar=4)
    values = {
        name: np.nanmean(v) for name, v in theory_metrics(active, onset).items() if not np.isnan(v).all()
    }
    assert values["four_voice_step_share"] > 0.8
    assert values["parallel_perfects_per_bar"] < 0.15
    assert 0.6 < values["triad_share"] < 0.8
    assert values["non_tertian_share"] < 0.2
    assert 0.1 < values["authentic_cadences_per_bar"] < 0.5
    assert values["sixteenth_onset_beat_share"] < 0.15
    assert values["soprano_step_share"] > 0.7
    assert values["bass_leap_share"] < 0.15
    assert values["key_strength"] > 0.75
