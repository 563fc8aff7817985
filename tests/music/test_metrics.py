"""Metrics on hand-built rolls with known answers, and against MusPy where the definitions coincide."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.music import metrics
from core.music.features import note_spans
from tests.support.midi_files import make_midi
from tests.support.rolls import LOW, P, chorale_like_windows, roll


def batch(notes: list[tuple[int, int, int]], steps: int = 64) -> tuple[np.ndarray, np.ndarray]:
    active, onset = roll(notes, steps)
    return active[None], onset[None]


C_MAJOR_RUN = [(60 + d, 4 * i, 4) for i, d in enumerate([0, 2, 4, 5, 7, 9, 11, 12])]


def test_pitch_range_tone_span_and_pitches_used() -> None:
    active, _ = batch([(48, 0, 4), (60, 4, 4), (67, 8, 4)])
    assert metrics.pitch_range(active)[0] == 19
    assert metrics.tone_span(active)[0] == 19
    assert metrics.n_pitches_used(active)[0] == 3
    assert metrics.n_pitch_classes_used(active)[0] == 2  # C and G
    assert metrics.pitch_range(np.zeros((1, 8, P), bool))[0] == 0


def test_polyphony_and_polyphony_rate() -> None:
    active, _ = batch([(60, 0, 8), (64, 0, 8), (67, 0, 4), (72, 0, 2)], steps=16)
    # steps 0-1: 4 notes, 2-3: 3 notes, 4-7: 2 notes, 8-15 silent
    assert metrics.polyphony(active)[0] == pytest.approx((4 * 2 + 3 * 2 + 2 * 4) / 8)
    assert metrics.polyphony_rate(active, threshold=2)[0] == pytest.approx(4 / 16)
    assert math.isnan(metrics.polyphony(np.zeros((1, 4, P), bool))[0])


def test_scale_consistency_counts_notes_not_steps() -> None:
    active, onset = batch([*C_MAJOR_RUN, (66, 32, 32)])  # a long F# outside C major
    assert metrics.scale_consistency(active, onset)[0] == pytest.approx(8 / 9)


def test_entropies() -> None:
    active, onset = batch([(60, 0, 4), (67, 4, 4), (60, 8, 4), (67, 12, 4)])
    assert metrics.pitch_class_entropy(active, onset)[0] == pytest.approx(1.0)
    assert metrics.pitch_entropy(active, onset)[0] == pytest.approx(1.0)
    active, onset = batch([(60, 0, 4), (72, 4, 4)])
    assert metrics.pitch_class_entropy(active, onset)[0] == pytest.approx(0.0)
    assert metrics.pitch_entropy(active, onset)[0] == pytest.approx(1.0)


def test_empty_beats_and_bars() -> None:
    active, _ = batch([(60, 0, 4), (60, 32, 2)])  # beats 0 and 8 of 16 sound; bars 0 and 2 of 4
    assert metrics.empty_beat_rate(active)[0] == pytest.approx(14 / 16)
    assert metrics.empty_bar_rate(active)[0] == pytest.approx(2 / 4)


def test_groove_consistency() -> None:
    same = [(60, 16 * b + s, 2) for b in range(4) for s in (0, 4, 8, 12)]
    assert metrics.groove_consistency(batch(same)[1])[0] == 1.0
    moved = [*same, (64, 16 + 2, 1)]  # one extra onset position in bar 1: differs from bars 0 and 2
    assert metrics.groove_consistency(batch(moved)[1])[0] == pytest.approx(1 - 2 / (3 * 16))
    one_bar = [(60, s, 2) for s in (0, 4, 8, 12)]
    assert math.isnan(metrics.groove_consistency(batch(one_bar, steps=16)[1])[0])


def test_used_pitch_classes_per_bar_and_qualified_notes() -> None:
    active, onset = batch([(60, 0, 4), (64, 4, 1), (67, 16, 8), (72, 20, 1)], steps=32)
    assert metrics.used_pitch_classes_per_bar(active)[0] == pytest.approx((2 + 2) / 2)
    assert metrics.qualified_note_rate(active, onset, min_steps=2)[0] == pytest.approx(2 / 4)


def test_simultaneous_onset_rate() -> None:
    _, onset = batch([(60, 0, 4), (64, 0, 4), (67, 4, 4), (60, 8, 4), (64, 8, 4), (65, 12, 4)])
    assert metrics.simultaneous_onset_rate(onset)[0] == pytest.approx(2 / 4)


def test_repetition_rate() -> None:
    motif = [0, 2, 4, 2, 0]
    notes = [(60 + d, 2 * i, 2) for i, d in enumerate(motif + motif)]
    active, _ = batch(notes)
    # melody 0 2 4 2 0 0 2 4 2 0 -> 0 2 4 2 0 2 4 2 0 after merging repeats: 8 intervals, 5 four-grams,
    # of which (+2,+2,-2,-2) and (+2,-2,-2,+2)... : unique grams 4 -> 1 repeated
    intervals = np.diff([0, 2, 4, 2, 0, 2, 4, 2, 0])
    grams = {tuple(intervals[i : i + 4]) for i in range(len(intervals) - 3)}
    expected = 1 - len(grams) / (len(intervals) - 3)
    assert metrics.repetition_rate(active)[0] == pytest.approx(expected)
    assert expected > 0


def test_mgeval_identical_sets_overlap_and_shifted_sets_do_not() -> None:
    active, onset = chorale_like_windows(60, seed=2)
    real = metrics.mgeval_features(active, onset)
    same = metrics.mgeval_compare(real, real)
    assert all(v["overlap"] > 0.8 and v["kl"] < 0.2 for v in same.values())
    noise = np.random.default_rng(0).random(active.shape) < 0.3
    other = metrics.mgeval_features(noise, noise)
    far = metrics.mgeval_compare(real, other)
    assert far["pitch_count"]["overlap"] < 0.1
    assert far["pitch_count"]["kl"] > 1.0


def test_set_distances_count_pairs() -> None:
    x = np.arange(10.0).reshape(5, 2)
    assert len(metrics.intra_set_distances(x)) == 10
    assert len(metrics.inter_set_distances(x, x[:3])) == 15
    assert metrics.intra_set_distances(x)[0] == pytest.approx(np.sqrt(8))


def test_two_sample_test_tells_different_sets_apart_only() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(200, 5)), rng.normal(size=(200, 5))
    accuracy, p_value = metrics.classifier_two_sample_test(a, b)
    assert 0.35 < accuracy < 0.65 and p_value > 0.001
    accuracy, p_value = metrics.classifier_two_sample_test(a, b + 3.0)
    assert accuracy > 0.95 and p_value < 1e-10


def test_nearest_train_distance() -> None:
    train, _ = chorale_like_windows(20, seed=4)
    elsewhere = np.zeros_like(train[:1])
    elsewhere[0, :, 0] = True  # the lowest pitch, which no training roll uses
    samples = np.concatenate([train[:2], elsewhere])
    distance = metrics.nearest_train_distance(samples, train, chunk=7)
    assert distance[0] == 0.0 and distance[1] == 0.0
    assert distance[2] == pytest.approx(1.0)


# --- MusPy cross-check (dev-only dependency) -------------------------------------------------------------


def _to_muspy(active: np.ndarray, onset: np.ndarray):
    muspy = pytest.importorskip("muspy")
    _, pitch_idx, lengths = note_spans(active[None], onset[None])
    starts = np.nonzero(np.swapaxes(active & (onset | ~np.r_[np.zeros((1, P), bool), active[:-1]]), 0, 1))[1]
    notes = [
        muspy.Note(time=int(t), pitch=int(p + LOW), duration=int(d), velocity=64)
        for t, p, d in zip(starts, pitch_idx, lengths, strict=True)
    ]
    return muspy.Music(resolution=4, tracks=[muspy.Track(notes=notes)])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_muspy_on_generated_rolls(seed: int) -> None:
    muspy = pytest.importorskip("muspy")
    active, onset = chorale_like_windows(1, seed=seed)
    active[0, 60:] = (
        False  # the last note ends before the last bar line (MusPy counts one bar more otherwise)
    )
    onset &= active
    music = _to_muspy(active[0], onset[0])
    checks = {
        "pitch_range": (metrics.pitch_range(active), muspy.pitch_range(music)),
        "n_pitches_used": (metrics.n_pitches_used(active), muspy.n_pitches_used(music)),
        "n_pitch_classes_used": (metrics.n_pitch_classes_used(active), muspy.n_pitch_classes_used(music)),
        "polyphony": (metrics.polyphony(active), muspy.polyphony(music)),
        "polyphony_rate": (metrics.polyphony_rate(active[:, :60]), muspy.polyphony_rate(music)),
        "scale_consistency": (metrics.scale_consistency(active, onset), muspy.scale_consistency(music)),
        "pitch_entropy": (metrics.pitch_entropy(active, onset), muspy.pitch_entropy(music)),
        "pitch_class_entropy": (metrics.pitch_class_entropy(active, onset), muspy.pitch_class_entropy(music)),
        "groove_consistency": (metrics.groove_consistency(onset), muspy.groove_consistency(music, 16)),
    }
    for name, (ours, theirs) in checks.items():
        assert ours[0] == pytest.approx(theirs), name


def test_matches_muspy_on_a_midi_file(tmp_path) -> None:
    muspy = pytest.importorskip("muspy")
    from core.midi.parser import load_midi
    from core.music.pianoroll import score_to_roll

    beat = 0.5  # 120 bpm
    # no note ends on a beat line (MusPy then also marks the next beat as sounding)
    notes = [(60, 0, 1.75 * beat), (64, 0, 1.5 * beat), (67, beat, 2.75 * beat), (71, 2 * beat, 2.25 * beat)]
    notes += [(48 + i, (4 + i) * beat, (5 + i) * beat - 0.125) for i in range(6)]
    notes += [(62, 12 * beat, 12.5 * beat)]  # after two empty beats
    data = make_midi([(p, s, e) for p, s, e in notes])
    path = tmp_path / "piece.mid"
    path.write_bytes(data)
    music = muspy.read_midi(path)
    piece = score_to_roll(load_midi(data, name="piece.mid"))
    active, onset = piece.active[None], piece.onset[None]
    assert metrics.pitch_range(active)[0] == muspy.pitch_range(music)
    assert metrics.n_pitch_classes_used(active)[0] == muspy.n_pitch_classes_used(music)
    assert metrics.polyphony(active)[0] == pytest.approx(muspy.polyphony(music))
    assert metrics.scale_consistency(active, onset)[0] == pytest.approx(muspy.scale_consistency(music))
    assert metrics.pitch_class_entropy(active, onset)[0] == pytest.approx(muspy.pitch_class_entropy(music))
    assert metrics.empty_beat_rate(active)[0] == pytest.approx(muspy.empty_beat_rate(music))
