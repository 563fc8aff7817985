"""Figures build from tiny inputs, carry titles and axis titles, and show what their inputs say."""

from __future__ import annotations

import numpy as np
import pytest

from core import plots
from core.data import Corpus, Piece, corpus_stats
from core.music.pianoroll import RollSpec, roll_from_arrays


def tiny_roll(steps: int = 32, beats_per_bar: int = 4):
    """A C major triad held for a bar, then E4 re-struck every beat."""
    spec = RollSpec()
    active = np.zeros((steps, spec.n_pitches), bool)
    onset = np.zeros_like(active)
    for pitch in (60, 64, 67):
        active[:16, pitch - spec.lowest_pitch] = True
        onset[0, pitch - spec.lowest_pitch] = True
    active[16:, 64 - spec.lowest_pitch] = True
    onset[16::4, 64 - spec.lowest_pitch] = True
    return roll_from_arrays(active, onset, spec=spec, beats_per_bar=beats_per_bar)


def tiny_stats():
    corpus = Corpus([Piece("a.mid", tiny_roll(), "upload"), Piece("b.mid", tiny_roll(48, 3), "upload")], [])
    return corpus_stats(corpus)


def assert_titled(fig) -> None:
    assert fig.layout.title.text
    assert fig.layout.xaxis.title.text
    assert fig.layout.yaxis.title.text


def test_note_name() -> None:
    assert [plots.note_name(p) for p in (60, 61, 36, 83)] == ["C4", "C#4", "C2", "B5"]


def test_piano_roll_heatmap_has_one_cell_per_step_and_shown_pitch() -> None:
    roll = tiny_roll()
    fig = plots.piano_roll_figure(roll, title="demo")
    assert_titled(fig)
    heatmap = fig.data[0]
    z = np.asarray(heatmap.z)
    # pitches 60..67 used, plus a margin; at least an octave and one note shown
    assert z.shape[1] == roll.n_steps
    assert z.shape[0] >= 13
    assert "C4" in heatmap.y and "G4" in heatmap.y and "C2" not in heatmap.y
    row = list(heatmap.y).index("E4")
    assert z[row, 0] == 2 and z[row, 1] == 1  # onset darker than a held cell
    assert z[row, 16] == 2 and z[row, 17] == 1 and z[row, 20] == 2
    assert z[list(heatmap.y).index("D4"), 0] == 0
    assert len(heatmap.x) == roll.n_steps and heatmap.x[4] == "bar 1, beat 2"


def test_piano_roll_marks_each_bar() -> None:
    fig = plots.piano_roll_figure(tiny_roll(steps=48, beats_per_bar=3))  # 12 steps a bar: 4 bars
    assert [shape.x0 for shape in fig.layout.shapes] == [11.5, 23.5, 35.5]  # between the cells
    assert all(shape.x1 == shape.x0 and shape.yref == "y domain" for shape in fig.layout.shapes)
    assert list(fig.layout.xaxis.ticktext) == ["1", "2", "3", "4"]


def test_piano_roll_of_silence_shows_the_whole_range() -> None:
    spec = RollSpec()
    silent = roll_from_arrays(np.zeros((16, spec.n_pitches), bool), spec=spec)
    assert np.asarray(plots.piano_roll_figure(silent).data[0].z).shape == (spec.n_pitches, 16)


@pytest.mark.parametrize(
    "builder",
    [
        plots.pitch_histogram_figure,
        plots.pitch_class_figure,
        plots.polyphony_figure,
        plots.note_length_figure,
        plots.key_figure,
        plots.length_figure,
    ],
)
def test_corpus_figures_have_titles(builder) -> None:
    assert_titled(builder(tiny_stats()))


def test_corpus_figures_show_the_statistics() -> None:
    stats = tiny_stats()
    pitch = plots.pitch_histogram_figure(stats).data[0]
    assert dict(zip(pitch.x, pitch.y, strict=True)) == stats.pitch_histogram
    classes = plots.pitch_class_figure(stats).data[0]
    assert sum(classes.y) == pytest.approx(100.0, abs=0.1)
    assert max(zip(classes.y, classes.x, strict=True))[1] == "E"
    poly = plots.polyphony_figure(stats).data[0]
    assert sum(poly.y) == pytest.approx(100.0)
    lengths = plots.note_length_figure(stats, steps_per_beat=4).data[0]
    assert list(lengths.x) == ["1", "4"]  # beat-long Es, a bar-long triad
    assert list(lengths.y) == [stats.note_length_histogram[4], stats.note_length_histogram[16]]
    assert list(plots.length_figure(stats).data[0].x) == [2.0, 4.0]


def test_training_curves_mark_the_phase_change() -> None:
    records = [{"step": s, "phase": "mle" if s < 30 else "gan", "loss": 1.0 / s} for s in range(1, 60)]
    records[5]["loss"] = float("nan")
    fig = plots.training_curves_figure(records, ["loss", "missing"], "Losses", "loss (nats)")
    assert_titled(fig)
    assert len(fig.data) == 2
    assert len(fig.data[0].x) == 58 and len(fig.data[1].x) == 0
    assert len(fig.layout.shapes) == 1 and fig.layout.shapes[0].x0 == 30
    assert fig.layout.shapes[0].line.dash == "dash"
    assert "adversarial" in fig.layout.annotations[0].text


def test_training_curves_without_phase_have_no_marker() -> None:
    fig = plots.training_curves_figure([{"step": 1, "d": 0.5}], ["d"], "D", "accuracy")
    assert not fig.layout.shapes


def test_scores_bar_highlights_the_best() -> None:
    fig = plots.scores_bar_figure(["a", "b", "c"], [0.1, 0.7, -0.2], best_index=1)
    assert_titled(fig)
    colors = list(fig.data[0].marker.color)
    assert colors[1] != colors[0] and colors[0] == colors[2]


def test_distribution_comparison_overlays_two_shares() -> None:
    rng = np.random.default_rng(0)
    real, generated = rng.normal(4, 0.5, 200), np.r_[rng.normal(3, 1, 100), np.nan]
    fig = plots.distribution_comparison_figure(real, generated, "polyphony", "notes")
    assert_titled(fig)
    assert fig.layout.xaxis.title.text == "polyphony (notes)"
    assert [trace.name.split()[0] for trace in fig.data] == ["real", "generated"]
    for trace in fig.data:
        assert sum(trace.y) == pytest.approx(100.0)
    assert list(fig.data[0].x) == list(fig.data[1].x)  # the same bins
    assert fig.layout.barmode == "overlay"


def test_distribution_comparison_of_nothing_still_builds() -> None:
    fig = plots.distribution_comparison_figure(np.array([]), np.array([np.nan]), "pitch range")
    assert len(fig.data) == 2


def test_markup_in_an_uploaded_name_is_shown_as_text_not_rendered() -> None:
    from core.music.pianoroll import roll_from_arrays

    active = np.zeros((16, 48), dtype=bool)
    active[:4, 24] = True
    figure = plots.piano_roll_figure(
        roll_from_arrays(active), title='<a href="https://x.example">evil</a>.mid'
    )
    assert "<a" not in figure.layout.title.text
    assert "&lt;a" in figure.layout.title.text


def test_training_curves_name_series_in_words_and_show_a_lone_point() -> None:
    records = [{"step": 10, "d_real": 0.7}]
    fig = plots.training_curves_figure(records, ["d_real"], "D", "probability", {"d_real": "D(x): real"})
    assert fig.data[0].name == "D(x): real"
    assert "markers" in fig.data[0].mode, "a single point must be visible"


def test_four_voices_are_coloured_lines_with_phrase_ends_marked() -> None:
    from core.music.voices import Voices

    pitch = np.array([[72, 67, 64, 48]] * 8 + [[72, 65, 62, 47]] * 8)
    onset = np.zeros_like(pitch, bool)
    onset[[0, 8]] = True
    onset[4, 0] = True  # the soprano repeats its note
    marks = np.zeros(16, bool)
    marks[8] = True
    fig = plots.voices_figure(Voices(pitch, onset, marks, tonic=7))
    assert [trace.name for trace in fig.data] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert len({trace.line.color for trace in fig.data}) == 4
    soprano = np.asarray(fig.data[0].y, dtype=float)
    assert np.count_nonzero(~np.isnan(soprano)) == 6  # three notes: 2 points each, gaps between
    assert fig.layout.xaxis.title.text == "time (bars)" and "G major" in fig.layout.title.text
    assert len(fig.layout.shapes) == 1  # one phrase end


def test_four_voices_mark_every_phrase_end_where_it_falls_after_a_pickup() -> None:
    from core.music.voices import Voices

    pitch = np.array([[72, 67, 64, 48]] * 68)  # a one-beat pickup and four bars of 16 steps
    marks = np.zeros(68, bool)
    marks[[20, 36, 52, 67]] = True
    fig = plots.voices_figure(Voices(pitch, phrase_end=marks, bar_offset=4))
    assert [shape.x0 for shape in fig.layout.shapes] == [2.0, 3.0, 4.0, 4.9375]  # in bars, bar 1 at x = 1
    assert {shape.line.dash for shape in fig.layout.shapes} == {"dot"}
    assert {(shape.xref, shape.yref, shape.y0, shape.y1) for shape in fig.layout.shapes} == {
        ("x", "y domain", 0, 1)
    }
