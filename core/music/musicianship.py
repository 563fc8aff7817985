"""Music-theory metrics that judge four-part chorales as a musician would, all in one call.

``theory_metrics(active, onset)`` returns one float per roll for every entry of ``THEORY_METRICS``
(NaN where a metric is undefined for that roll: no voiced steps, a silent roll, no phrase marks). Each
entry says in plain words what it counts, its unit, which direction is better and where the
definition comes from; the definitions live in the modules named below, one concept each:

- ``core.music.voicing``: the S/A/T/B voice split, voice crossing, vocal ranges;
- ``core.music.voice_leading``: parallel fifths and octaves, melodic steps and leaps;
- ``core.music.harmony`` (with ``core.music.chords``): chords on the beats;
- ``core.music.cadences``: V→I and the other cadences in the local key;
- ``core.music.rhythm``: notes starting on 16th positions;
- ``core.music.tonality``: Krumhansl–Kessler key strength and tonal closure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.music import cadences, harmony, rhythm, tonality, voice_leading, voicing
from core.music.arrays import note_start_cells, ratio
from core.music.metric_catalog import THEORY_METRIC_NAMES, THEORY_METRICS, TheoryMetric

__all__ = ["THEORY_METRICS", "THEORY_METRIC_NAMES", "TheoryMetric", "theory_metrics"]

KEY_SPAN_BARS = 4
"""Bars at each end of a piece whose keys are compared (``first_last_key_agreement``)."""


@dataclass(frozen=True)
class _Layout:
    """Where the pitches and the beats are in the rolls."""

    lowest_pitch: int
    steps_per_beat: int
    beats_per_bar: int

    @property
    def steps_per_bar(self) -> int:
        return self.steps_per_beat * self.beats_per_bar


def _rolls(active: np.ndarray, onset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    active = np.asarray(active, dtype=bool)
    if active.ndim == 2:
        active = active[None]
    if active.ndim != 3:
        raise ValueError(f"expected bool[N, T, P] rolls, got shape {active.shape}")
    onset = np.asarray(onset, dtype=bool).reshape(active.shape) & active
    return active, onset


def _voice_lines(
    active: np.ndarray, voices: np.ndarray | None, lowest_pitch: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(voices [N, T, 4], four-voice step share, soprano line, bass line)."""
    if voices is None:
        soprano, bass = voice_leading.outer_lines(active, lowest_pitch)
        four = voicing.four_voice_step_share(active)
        return voicing.split_voices(active, lowest_pitch), four, soprano, bass
    voices = np.asarray(voices, dtype=np.int64).reshape(len(active), active.shape[1], voicing.N_VOICES)
    voices = np.where(voices >= 0, voices, voicing.REST)
    sounding = active.any(axis=2)
    four = ratio((voicing.voiced_steps(voices) & sounding).sum(axis=1), sounding.sum(axis=1))
    return voices, four, voices[..., 0], voices[..., -1]


def _voice_metrics(
    active: np.ndarray, onset: np.ndarray, given: np.ndarray | None, layout: _Layout
) -> dict[str, np.ndarray]:
    voices, four, soprano, bass = _voice_lines(active, given, layout.lowest_pitch)
    bar, beat = layout.steps_per_bar, layout.steps_per_beat
    outside, notes = voicing.range_violation_counts(voices, onset, layout.lowest_pitch)
    per_voice = ratio(outside, notes)
    crossings = np.full(len(active), np.nan) if given is None else voicing.voice_crossing_share(voices)
    return {
        "four_voice_step_share": four,
        "parallel_perfects_per_bar": voice_leading.parallel_perfects_per_bar(voices, bar, max_gap=beat),
        "bars_with_parallels_share": voice_leading.bars_with_parallels_share(voices, bar, max_gap=beat),
        "voice_crossing_share": crossings,
        "out_of_range_share": ratio(outside.sum(axis=1), notes.sum(axis=1)),
        **{f"{name}_out_of_range_share": per_voice[:, i] for i, name in enumerate(voicing.VOICE_NAMES)},
        "soprano_step_share": voice_leading.stepwise_motion_share(soprano),
        "bass_leap_share": voice_leading.leap_share(bass),
    }


def _harmony_metrics(
    active: np.ndarray, onset: np.ndarray, phrase_end: np.ndarray | None, layout: _Layout
) -> dict[str, np.ndarray]:
    grid = cadences.chord_grid(active, layout.lowest_pitch, layout.steps_per_beat, layout.beats_per_bar)
    beats = grid.pc_sets[:, :: max(layout.steps_per_beat // grid.steps_per_position, 1)]
    phrase_share = np.full(len(active), np.nan)
    if phrase_end is not None:
        marks = np.reshape(phrase_end, active.shape[:2])
        phrase_share = cadences.phrase_ends_with_authentic_cadence_share(grid, marks)
    starts = note_start_cells(active, onset)
    return {
        "triad_share": harmony.major_minor_triad_share(beats),
        "seventh_chord_share": harmony.seventh_chord_share(beats),
        "non_tertian_share": harmony.non_tertian_share(beats),
        "chord_types_per_1000_beats": harmony.chord_types_per_1000_beats(beats),
        "authentic_cadences_per_bar": cadences.authentic_cadences_per_bar(grid),
        "dominant_tonic_per_bar": cadences.dominant_tonic_progressions_per_bar(grid),
        "plagal_cadences_per_bar": cadences.plagal_cadences_per_bar(grid),
        "deceptive_cadences_per_bar": cadences.deceptive_cadences_per_bar(grid),
        "half_cadences_per_bar": cadences.half_cadences_per_bar(grid, starts, layout.steps_per_beat),
        "phrase_end_authentic_share": phrase_share,
    }


def _rhythm_and_key_metrics(active: np.ndarray, onset: np.ndarray, layout: _Layout) -> dict[str, np.ndarray]:
    sixteenths = np.full(len(active), np.nan)
    if layout.steps_per_beat % 4 == 0:
        sixteenths = rhythm.sixteenth_onset_beat_share(active, onset, layout.steps_per_beat)
    low, bar = layout.lowest_pitch, layout.steps_per_bar
    return {
        "sixteenth_onset_beat_share": sixteenths,
        "key_strength": tonality.key_strength(active, low),
        "first_last_key_agreement": tonality.first_last_key_agreement(active, low, bar, KEY_SPAN_BARS),
    }


def theory_metrics(
    active: np.ndarray,
    onset: np.ndarray,
    *,
    lowest_pitch: int = 36,
    steps_per_beat: int = 4,
    beats_per_bar: int = 4,
    phrase_end: np.ndarray | None = None,
    voices: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Every metric of ``THEORY_METRICS`` for rolls ``active``/``onset`` bool[N, T, P]: name -> float64[N].

    Pitch index 0 is ``lowest_pitch``; a step is ``1 / steps_per_beat`` of a beat. ``phrase_end``
    (bool[N, T], e.g. the steps where a fermata chord is reached) enables the phrase-end cadence share.
    ``voices`` (int[N, T, 4], MIDI pitch or -1 for a rest, voice 0 = soprano) from a four-voice model
    replaces the voice split: voiced steps are then those where all four sing, the soprano and bass
    lines are voices 0 and 3, and voice crossings become measurable. Without it the voices are the
    sorted pitches of the steps with exactly four notes (``core.music.voicing``), the soprano and bass
    lines are the highest and lowest sounding notes, and crossings are NaN (0 by construction).
    Metrics that need 16th positions are NaN unless ``steps_per_beat`` is a multiple of 4.
    """
    active, onset = _rolls(active, onset)
    layout = _Layout(lowest_pitch, steps_per_beat, beats_per_bar)
    results = {
        **_voice_metrics(active, onset, voices, layout),
        **_harmony_metrics(active, onset, phrase_end, layout),
        **_rhythm_and_key_metrics(active, onset, layout),
    }
    return {name: np.asarray(results[name], dtype=np.float64) for name in THEORY_METRIC_NAMES}
