"""Voice leading, batched: parallel perfect intervals between voices, and the outer voices' melodic motion.

Voices are ``int[N, T, 4]`` MIDI pitches (-1 = rest, voice 0 = soprano), from
``core.music.voicing.split_voices`` or from a four-voice model. A *move* goes from one voiced step (all
four voices sound) to the next voiced step at most one beat later (``max_gap`` steps); steps without
voices in between are skipped. Beyond a beat without a four-voice step the voices have passed through
other sonorities (a unison, an added note) and cannot be followed, so no move is counted there (on the
training split's four-bar windows, following moves across any gap found 0.085 parallels per bar, most
of them between chords that other chords separate; one beat finds 0.051, and the chorales' own
four-part voices 0.018). Held chords do not move, so a chord held for several 16th steps is judged
once, where the notes change.

Sources:

- Kostka & Payne, *Tonal Harmony*, ch. 6 ("Root position part writing": objectionable parallels, i.e.
  two voices moving in parallel fifths, octaves or unisons, also across compound intervals).
- Aldwell & Schachter, *Harmony and Voice Leading*, 4th ed. 2011, ch. 5 (parallel fifths and octaves).
- Huron, "Tone and voice: a derivation of the rules of voice-leading from perceptual principles",
  Music Perception 19(1), 2001 (why parallel perfect intervals fuse two voices into one; pitch
  proximity: melodies move mostly by step).
"""

from __future__ import annotations

import numpy as np

from core.music.arrays import per_bar_counts, previous_index, ratio, take_steps
from core.music.voicing import voiced_steps

PERFECT_INTERVALS = (0, 7)
"""Perfect intervals mod 12 whose parallels are counted: unison/octave (0) and fifth (7)."""
VOICE_PAIRS = tuple((i, j) for i in range(4) for j in range(i + 1, 4))
MAX_GAP = 4
"""Most steps between two voiced steps joined by a move: one beat of 16th steps."""
STEP_SEMITONES = 2
BASS_LEAP_SEMITONES = 7


def _moves(voices: np.ndarray, max_gap: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(voices before each voiced step [N, T, 4], voices at it, bool[N, T]: a move into the step)."""
    voices = np.asarray(voices)
    voiced = voiced_steps(voices)
    previous = previous_index(voiced)
    moved = voiced & (previous >= 0) & (np.arange(voices.shape[1]) - previous <= max_gap)
    return take_steps(voices, previous).astype(np.int64), voices.astype(np.int64), moved


def parallel_perfect_events(
    voices: np.ndarray, intervals: tuple[int, ...] = PERFECT_INTERVALS, max_gap: int = MAX_GAP
) -> np.ndarray:
    """int[N, T]: at each voiced step, the voice pairs that arrive in parallel perfect intervals.

    A pair of voices moves in parallel when both move in the same direction from an interval to the
    same interval, compared mod 12 (a fifth to a twelfth counts; Kostka & Payne, ch. 6): with
    ``intervals`` (0, 7) these are parallel unisons/octaves and fifths. Counted at the voiced step the
    move arrives at, once per voice pair.
    """
    before, after, moved = _moves(voices, max_gap)
    events = np.zeros(moved.shape, dtype=np.int64)
    motion = np.sign(after - before)
    for upper, lower in VOICE_PAIRS:
        start = np.abs(before[..., upper] - before[..., lower]) % 12
        end = np.abs(after[..., upper] - after[..., lower]) % 12
        same_way = (motion[..., upper] == motion[..., lower]) & (motion[..., upper] != 0)
        events += moved & same_way & (start == end) & np.isin(start, intervals)
    return events


def parallel_perfects_per_bar(
    voices: np.ndarray,
    steps_per_bar: int = 16,
    intervals: tuple[int, ...] = PERFECT_INTERVALS,
    max_gap: int = MAX_GAP,
) -> np.ndarray:
    """float64[N]: parallel fifths, octaves and unisons per bar (``parallel_perfect_events``).

    Bars are ``steps_per_bar`` steps (a last partial bar counts as one). NaN for a roll without a
    single move between voiced steps: there is no voice leading to judge.
    """
    bars = per_bar_counts(parallel_perfect_events(voices, intervals, max_gap), steps_per_bar)
    return np.where(_has_moves(voices, max_gap), bars.mean(axis=1), np.nan)


def bars_with_parallels_share(
    voices: np.ndarray,
    steps_per_bar: int = 16,
    intervals: tuple[int, ...] = PERFECT_INTERVALS,
    max_gap: int = MAX_GAP,
) -> np.ndarray:
    """float64[N]: share of bars with at least one parallel fifth/octave/unison (NaN without moves)."""
    bars = per_bar_counts(parallel_perfect_events(voices, intervals, max_gap), steps_per_bar)
    return np.where(_has_moves(voices, max_gap), (bars > 0).mean(axis=1), np.nan)


def _has_moves(voices: np.ndarray, max_gap: int) -> np.ndarray:
    return _moves(voices, max_gap)[2].any(axis=1)


def outer_lines(active: np.ndarray, lowest_pitch: int = 36) -> tuple[np.ndarray, np.ndarray]:
    """(highest, lowest) sounding MIDI pitch of each step, int[N, T] each, -1 where silent.

    The soprano and the bass of a piano-roll: wherever ``split_voices`` finds four voices these are
    its soprano and bass, and they stay defined at the other sounding steps.
    """
    active = np.asarray(active, dtype=bool)
    n_pitches = active.shape[2]
    sounding = active.any(axis=2)
    top = n_pitches - 1 - active[..., ::-1].argmax(axis=2) + lowest_pitch
    bottom = active.argmax(axis=2) + lowest_pitch
    return np.where(sounding, top, -1), np.where(sounding, bottom, -1)


def melodic_moves(line: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(size in semitones int[N, T], bool[N, T]: a pitch change arrives here) of a line int[N, T].

    A line is one voice's MIDI pitch per step, -1 for a rest; a move goes from the last sounding step
    to the next one whose pitch differs (rests are skipped, repeated notes are not moves).
    """
    line = np.asarray(line, dtype=np.int64)
    sounding = line >= 0
    previous = previous_index(sounding)
    before = take_steps(line, previous)
    changed = sounding & (previous >= 0) & (line != before)
    return np.abs(line - before), changed


def stepwise_motion_share(line: np.ndarray) -> np.ndarray:
    """float64[N]: share of a line's pitch changes that are steps (1–2 semitones); NaN without a change.

    Melodies move mostly by step (Huron 2001, pitch proximity; Vos & Troost, "Ascending and
    descending melodic intervals: statistical findings", Music Perception 6(4), 1989).
    """
    size, changed = melodic_moves(line)
    return ratio((changed & (size <= STEP_SEMITONES)).sum(axis=1), changed.sum(axis=1))


def leap_share(line: np.ndarray, larger_than: int = BASS_LEAP_SEMITONES) -> np.ndarray:
    """float64[N]: share of a line's pitch changes larger than ``larger_than`` semitones (a fifth: 7).

    A chorale bass leaps between chord roots by fourths and fifths and rarely further (Kostka & Payne,
    ch. 6); NaN without a pitch change.
    """
    size, changed = melodic_moves(line)
    return ratio((changed & (size > larger_than)).sum(axis=1), changed.sum(axis=1))
