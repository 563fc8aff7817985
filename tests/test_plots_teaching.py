"""The teaching figures: the critic under a piano-roll, D's dots, the players' history, shares correct."""

from __future__ import annotations

import numpy as np

from core.music.pianoroll import roll_from_arrays
from core.plots import critic_figure, discriminator_dots_figure, lab_history_figure, share_correct_figure


def test_critic_figure_draws_the_roll_over_one_bar_per_step_coloured_by_sign() -> None:
    active = np.zeros((32, 48), bool)
    active[:, [12, 16, 19]] = True
    per_step = np.linspace(-1, 1, 32)
    fig = critic_figure(roll_from_arrays(active), per_step, probability=0.73)
    heatmap, bars = fig.data
    assert heatmap.type == "heatmap" and bars.type == "bar"
    assert len(bars.y) == 32 and bars.marker.color[0] != bars.marker.color[-1]
    assert "D(x) = 0.73" in fig.layout.title.text
    assert fig.layout.xaxis2.title.text == "time (bars)" and fig.layout.yaxis2.title.text


def test_critic_figure_draws_each_bar_line_across_the_roll_and_the_bars() -> None:
    active = np.zeros((80, 48), bool)  # five bars of 16 steps
    active[:, 12] = True
    fig = critic_figure(roll_from_arrays(active), np.zeros(80), probability=0.5)
    for axis in ("x", "x2"):
        lines = [shape for shape in fig.layout.shapes if shape.xref == axis]
        assert [shape.x0 for shape in lines] == [15.5, 31.5, 47.5, 63.5]
        assert all(shape.x1 == shape.x0 and shape.line.width == 1 for shape in lines)
    assert len(fig.layout.shapes) == 8


def test_dots_put_every_sample_on_a_zero_to_one_axis_with_its_mean() -> None:
    fig = discriminator_dots_figure([0.9, 0.8, 0.7], [0.1, 0.3])
    points = [trace for trace in fig.data if len(trace.x) > 1]
    means = [trace.x[0] for trace in fig.data if len(trace.x) == 1]
    assert [len(trace.x) for trace in points] == [3, 2]
    assert np.allclose(means, [0.8, 0.2])
    assert list(fig.layout.xaxis.range) == [-0.02, 1.02] and fig.layout.xaxis.title.text


def test_history_and_share_figures_have_labelled_axes() -> None:
    history = lab_history_figure(["start", "step D"], [0.5, 0.6], [0.5, 0.4])
    assert [trace.name for trace in history.data] == ["mean D(x)", "mean D(G(z))"]
    shares = share_correct_figure([("everyone", 6, 8, 0.41, 0.93), ("pair 1", 0, 0, 0.0, 1.0)], "Results")
    (points,) = shares.data
    assert list(points.y) == ["pair 1", "everyone"] and points.x[1] == 75.0 and points.x[0] is None
    assert "%" in shares.layout.xaxis.title.text and history.layout.yaxis.title.text == "probability"
