"""What the ranker measures in a window: the roll features and the music-theory metrics, from the first
bar line where music sounds.

The columns are the 44 roll features of :mod:`core.music.features` followed by the music-theory metrics
of ``THEORY_FEATURES`` (definitions in :mod:`core.music.metric_catalog`). The voices are always the
sorted split of the steps where exactly four notes sound, never a model's own voices, so every
generator is measured the same way. A theory metric that is undefined for a window (no four-note
step, no melodic move, silence) enters as 0; the roll features that say why (four-voice share,
silence) are there beside it.

*Trimming.* Real chorales with a pickup begin with silence padded to the bar line; a window that opens
with that silence is not what a listener hears as the start of a piece. The ranker therefore
measures every window, real or generated, from its first bar whose downbeat sounds (see
:func:`music_start_bars`), and its real examples are the windows that already start there
(:func:`starts_with_music`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.music.features import FEATURE_LABELS, FEATURE_MEANINGS, FEATURE_NAMES, features_batch
from core.music.metric_catalog import THEORY_METRICS
from core.music.musicianship import theory_metrics

THEORY_FEATURES: tuple[str, ...] = (
    "four_voice_step_share",
    "parallel_perfects_per_bar",
    "bars_with_parallels_share",
    "out_of_range_share",
    "triad_share",
    "seventh_chord_share",
    "non_tertian_share",
    "chord_types_per_1000_beats",
    "authentic_cadences_per_bar",
    "dominant_tonic_per_bar",
    "plagal_cadences_per_bar",
    "deceptive_cadences_per_bar",
    "half_cadences_per_bar",
    "sixteenth_onset_beat_share",
    "soprano_step_share",
    "bass_leap_share",
    "key_strength",
)
"""The theory metrics that join the ranker's features: those defined on any 4-bar window of a roll
(voice crossings need a model's own voices, phrase-end cadences need phrase marks, key agreement
needs 8 bars or more)."""

RANKER_FEATURE_NAMES: tuple[str, ...] = (*FEATURE_NAMES, *THEORY_FEATURES)
_CATALOG = {metric.name: metric for metric in THEORY_METRICS}
RANKER_FEATURE_LABELS: dict[str, str] = {
    **FEATURE_LABELS,
    **{name: _CATALOG[name].label for name in THEORY_FEATURES},
}
"""How a feature reads inside a sentence ("the pitch range", "parallel fifths and octaves per bar")."""
RANKER_FEATURE_MEANINGS: dict[str, str] = {
    **FEATURE_MEANINGS,
    **{name: _CATALOG[name].meaning for name in THEORY_FEATURES},
}
BETTER: dict[str, str] = {name: _CATALOG[name].better for name in THEORY_FEATURES}
"""Direction of the theory features ("lower", "higher", "close to real"); roll features are all
"close to real"."""


@dataclass(frozen=True)
class RollLayout:
    """Where pitches and beats are in a roll: pitch index 0 is ``lowest_pitch``."""

    lowest_pitch: int = 36
    steps_per_beat: int = 4
    beats_per_bar: int = 4

    @property
    def steps_per_bar(self) -> int:
        return self.steps_per_beat * self.beats_per_bar


DEFAULT_LAYOUT = RollLayout()


def starts_with_music(active: np.ndarray) -> np.ndarray:
    """bool[N]: windows whose first step sounds (a window cut at a bar line: music on the downbeat)."""
    return np.asarray(active, dtype=bool)[:, 0].any(axis=1)


def music_start_bars(active: np.ndarray, steps_per_bar: int) -> np.ndarray:
    """int[N]: index of the first bar whose downbeat sounds; 0 when none does (silence stays silence)."""
    active = np.asarray(active, dtype=bool)
    downbeats = active[:, ::steps_per_bar].any(axis=2)
    return np.where(downbeats.any(axis=1), downbeats.argmax(axis=1), 0)


def _columns(active: np.ndarray, onset: np.ndarray, layout: RollLayout) -> np.ndarray:
    """Roll features and theory metrics of windows that need no trimming, NaN as 0."""
    grid = (layout.lowest_pitch, layout.steps_per_beat, layout.beats_per_bar)
    base = features_batch(active, onset, *grid)
    theory = theory_metrics(
        active,
        onset,
        lowest_pitch=layout.lowest_pitch,
        steps_per_beat=layout.steps_per_beat,
        beats_per_bar=layout.beats_per_bar,
    )
    extra = np.stack([theory[name] for name in THEORY_FEATURES], axis=1)
    return np.concatenate([base, np.nan_to_num(extra, nan=0.0)], axis=1)


def ranker_features(active: np.ndarray, onset: np.ndarray, layout: RollLayout = DEFAULT_LAYOUT) -> np.ndarray:
    """float64[N, len(RANKER_FEATURE_NAMES)] of rolls bool[N, T, P], each measured from its first bar
    line with music (windows that start with silence are cut there; equal cuts are measured together)."""
    active = np.asarray(active, dtype=bool)
    onset = np.asarray(onset, dtype=bool)
    if active.ndim != 3 or active.shape != onset.shape:
        raise ValueError(f"expected two bool[N, T, P] arrays, got {active.shape} and {onset.shape}")
    bar = layout.steps_per_bar
    starts = music_start_bars(active, bar) if active.shape[1] > bar else np.zeros(len(active), int)
    out = np.empty((len(active), len(RANKER_FEATURE_NAMES)))
    for start in np.unique(starts):
        rows = np.flatnonzero(starts == start)
        cut = int(start) * bar
        window, starts_here = active[rows, cut:], onset[rows, cut:] & active[rows, cut:]
        starts_here[:, 0] |= window[:, 0]  # a note held into the window starts at its first step
        out[rows] = _columns(window, starts_here, layout)
    return out
