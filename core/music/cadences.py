"""Cadences, batched: progressions between consecutive chords, read in the local key.

Chords are read on an eighth-note grid (every half beat), so that a dominant reached after a
suspension or an accented passing note on the beat still counts. A ``ChordGrid`` holds, per grid
position, the pitch-class set sounding there (``core.music.chords`` names it), the pitch class of its
lowest note, and the local key: the Krumhansl–Kessler key (``core.music.tonality.local_keys``) of the
notes from two bars before the position to one bar after it. Chorale phrases cadence in the keys
they pass through (the dominant, the relative major), so one key for a whole four-bar window misses
many cadences. At the fermatas of the training split's chorales V→I was found at 0.38 of the phrase
ends with one key per four bars, 0.44 with this span and 0.51 with a span of one bar before to half a
bar after; spans that short flip between neighbouring keys and read I→V as IV→I in the key of the
dominant, so the three-bar span was kept (chosen on the training split).

A progression X→Y is counted where the named chord Y follows the previous named chord X; positions
whose set names no chord (a suspension, a passing sonority, silence) are skipped and a repeated chord
is no new arrival. Both chords are read in the key of Y. Chords, in a key with tonic ``k``:

- V: a major triad or dominant seventh (complete or without fifth) on ``k + 7``;
- I: the tonic triad, major in a major key, minor or major (Picardy third) in a minor key; in root
  position its fifth may be missing (``core.music.chords.chord_names``);
- IV: a major or minor triad on ``k + 5``;
- vi: the minor triad on ``k + 9`` in a major key, the major triad on ``k + 8`` (VI) in a minor one;

all in root position (the chord's root is its lowest note) unless ``inversions=True``.

Sources: Kostka & Payne, *Tonal Harmony*, ch. 10 ("Cadences, phrases, and periods": authentic,
plagal, deceptive and half cadences); Caplin, *Classical Form*, Oxford 1998, ch. 3.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from core.music.arrays import previous_index, ratio, take_steps
from core.music.chords import DOMINANT_SEVENTH, MAJOR, MINOR, chord_names
from core.music.harmony import beat_bass_pitch_classes, beat_pitch_class_sets
from core.music.tonality import NO_KEY, local_keys

KEY_SPAN_BARS = (2.0, 1.0)
"""Bars before and after a chord whose notes decide its local key."""


@dataclass(frozen=True)
class ChordGrid:
    """Chords of rolls ``[N, T, P]`` on a grid of positions ``steps_per_position`` steps apart."""

    pc_sets: np.ndarray  # int[N, C]: 12-bit pitch-class set at each position, 0 = silence
    bass: np.ndarray  # int[N, C]: pitch class of the lowest note, -1 = silence
    keys: np.ndarray  # int[N, C]: local key 0–23 around each position, -1 = none
    keys_before: np.ndarray  # int[N, C]: key of the two bars before each position, -1 = none
    steps_per_position: int
    positions_per_bar: float

    @property
    def n_bars(self) -> float:
        return self.pc_sets.shape[1] / self.positions_per_bar


def chord_grid(
    active: np.ndarray,
    lowest_pitch: int = 36,
    steps_per_beat: int = 4,
    beats_per_bar: int = 4,
    key_span_bars: tuple[float, float] = KEY_SPAN_BARS,
) -> ChordGrid:
    """The chords of rolls ``active`` bool[N, T, P] every eighth note (half a beat), with local keys.

    ``key_span_bars``: bars before and after each position whose notes decide its local key.
    """
    active = np.asarray(active, dtype=bool)
    step = max(steps_per_beat // 2, 1)
    steps_per_bar = beats_per_bar * steps_per_beat
    pc_sets = beat_pitch_class_sets(active, lowest_pitch, step)
    steps = np.arange(pc_sets.shape[1]) * step
    before, after = key_span_bars
    return ChordGrid(
        pc_sets=pc_sets,
        bass=beat_bass_pitch_classes(active, lowest_pitch, step),
        keys=local_keys(active, steps, int(before * steps_per_bar), int(after * steps_per_bar), lowest_pitch),
        keys_before=local_keys(active, steps, 2 * steps_per_bar, 0, lowest_pitch),
        steps_per_position=step,
        positions_per_bar=beats_per_bar * steps_per_beat / step,
    )


def chord_functions(
    pc_sets: np.ndarray, bass: np.ndarray, keys: np.ndarray, inversions: bool = False
) -> dict[str, np.ndarray]:
    """bool masks ``"V"``, ``"I"``, ``"IV"``, ``"vi"``: the chords that have that function in ``keys``."""
    quality, root = chord_names(pc_sets, bass)
    known = (keys != NO_KEY) & (quality >= 0) & (inversions | (bass == root))
    degree = (root - keys % 12) % 12
    minor_key = keys >= 12
    major_or_minor = (quality == MAJOR) | (quality == MINOR)
    submediant = np.where(minor_key, (degree == 8) & (quality == MAJOR), (degree == 9) & (quality == MINOR))
    return {
        "V": known & (degree == 7) & ((quality == MAJOR) | (quality == DOMINANT_SEVENTH)),
        "I": known & (degree == 0) & ((quality == MAJOR) | (minor_key & (quality == MINOR))),
        "IV": known & (degree == 5) & major_or_minor,
        "vi": known & submediant,
    }


def progressions(grid: ChordGrid, first: str, then: str, inversions: bool = False) -> np.ndarray:
    """bool[N, C]: positions where chord ``then`` arrives right after chord ``first`` (names as above)."""
    named = chord_names(grid.pc_sets, grid.bass)[0] >= 0
    previous = previous_index(named)
    before_sets = np.where(previous >= 0, take_steps(grid.pc_sets, previous), 0)
    before_bass = take_steps(grid.bass, previous)
    earlier = chord_functions(before_sets, before_bass, grid.keys, inversions)[first]
    return earlier & chord_functions(grid.pc_sets, grid.bass, grid.keys, inversions)[then]


def _per_bar(events: np.ndarray, grid: ChordGrid) -> np.ndarray:
    """Events per bar; NaN for a silent roll."""
    return np.where((grid.pc_sets > 0).any(axis=1), events.sum(axis=1) / grid.n_bars, np.nan)


def authentic_cadences_per_bar(grid: ChordGrid) -> np.ndarray:
    """float64[N]: V→I per bar, both in root position (the perfect authentic cadence's progression).

    Kostka & Payne, ch. 10: an authentic cadence is V(7)→I; with both chords in root position it is
    perfect (the soprano's arrival on the tonic, the other condition, is not checked).
    """
    return _per_bar(progressions(grid, "V", "I"), grid)


def dominant_tonic_progressions_per_bar(grid: ChordGrid) -> np.ndarray:
    """float64[N]: V→I per bar with either chord in any inversion (V6→I, V→I6 included).

    The broader authentic progression of Kostka & Payne, ch. 10 (imperfect authentic cadences too).
    """
    return _per_bar(progressions(grid, "V", "I", inversions=True), grid)


def plagal_cadences_per_bar(grid: ChordGrid) -> np.ndarray:
    """float64[N]: IV→I per bar, root position (the plagal cadence; Kostka & Payne, ch. 10)."""
    return _per_bar(progressions(grid, "IV", "I"), grid)


def deceptive_cadences_per_bar(grid: ChordGrid) -> np.ndarray:
    """float64[N]: V→vi (V→VI in minor) per bar, root position (the deceptive cadence; ch. 10)."""
    return _per_bar(progressions(grid, "V", "vi"), grid)


def half_cadence_positions(grid: ChordGrid, note_starts: np.ndarray, steps_per_beat: int = 4) -> np.ndarray:
    """bool[N, C]: positions where a root-position V arrives and then rests, as a phrase ending on V does.

    The half cadence (Kostka & Payne, ch. 10) ends a phrase on V. Without phrase marks, a V counts as
    an ending when it arrives (the previous named chord is not V) and no note starts during the beat
    after its arrival step (``note_starts``: bool[N, T, P], e.g. ``core.music.arrays.note_start_cells``).
    A V too close to the end of the roll to tell is not counted. V is read in
    the key of the two bars before it (``ChordGrid.keys_before``): a span that includes a long V
    would hear it as a new tonic.
    """
    before = replace(grid, keys=grid.keys_before)
    dominant = chord_functions(grid.pc_sets, grid.bass, grid.keys_before)["V"]
    arrives = dominant & ~progressions(before, "V", "V")
    starts = np.asarray(note_starts, dtype=bool).any(axis=2)
    n, t = starts.shape
    later_starts = np.cumsum(starts[:, ::-1], axis=1)[:, ::-1]  # note starts from each step to the end
    later_starts = np.concatenate([later_starts, np.zeros((n, steps_per_beat + 1), dtype=np.int64)], axis=1)
    first = np.arange(grid.pc_sets.shape[1]) * grid.steps_per_position + 1
    quiet = later_starts[:, first] == later_starts[:, first + steps_per_beat]
    judged = first + steps_per_beat <= t
    return arrives & quiet & judged


def half_cadences_per_bar(grid: ChordGrid, note_starts: np.ndarray, steps_per_beat: int = 4) -> np.ndarray:
    """float64[N]: half cadences per bar (``half_cadence_positions``)."""
    return _per_bar(half_cadence_positions(grid, note_starts, steps_per_beat), grid)


def phrase_ends_with_authentic_cadence_share(grid: ChordGrid, phrase_end: np.ndarray) -> np.ndarray:
    """float64[N]: share of phrase ends that carry an authentic cadence; NaN for a roll without any.

    ``phrase_end`` is bool[N, T] (e.g. the steps under a fermata); each run of marked steps is one
    phrase end, at the grid position of its first step. It carries an authentic cadence when I arrives
    there right after V, both in root position (``authentic_cadences_per_bar``).
    """
    marks = np.asarray(phrase_end, dtype=bool)
    run_starts = marks & ~np.pad(marks, ((0, 0), (1, 0)))[:, :-1]
    roll_idx, step_idx = np.nonzero(run_starts)
    cadences = progressions(grid, "V", "I")
    position = np.minimum(step_idx // grid.steps_per_position, cadences.shape[1] - 1)
    hits = cadences[roll_idx, position].astype(np.float64)
    n = len(marks)
    return ratio(np.bincount(roll_idx, weights=hits, minlength=n), np.bincount(roll_idx, minlength=n))
