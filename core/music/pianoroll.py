"""Piano-roll codec: :class:`~core.midi.score.Score` → :class:`PianoRoll` → MIDI, all vectorised numpy.

A roll is a beat-synchronous grid of ``T`` steps × ``P`` pitches. Three arrays describe it:

- ``active``: a note sounds in this cell;
- ``onset``: a note starts in this cell (always a subset of ``active``), so a re-struck note differs from a
  held one;
- ``velocity``: the loudest note covering the cell (1–127 where active, 0 elsewhere).

A *note* of a roll is a run of active cells in one pitch column that starts at an onset or at an
inactive → active change and ends before the next inactive cell or the next onset.

Meters: the beat is the one pretty_midi's ``get_beats`` uses, so a roll's steps follow ``score.beat_times``.
That is the denominator note, except in compound meters (numerator a multiple of 3 above 3: 6/8, 9/8,
12/8, 6/4, ...), where the beat is three denominator notes (a dotted quarter in 6/8). ``beats_per_bar`` is
therefore the numerator for simple meters and numerator / 3 for compound ones (6/8 → 2, 12/8 → 4), and
``tempo_bpm`` counts those beats per minute. A roll is written back to MIDI as ``beats_per_bar``/4 at that
tempo (see :func:`time_signature_for`), which sounds the same; in compound meters the eighth notes fall
between steps unless ``steps_per_beat`` is a multiple of 3.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from core.midi.score import Score

if TYPE_CHECKING:  # for type hints only
    import pretty_midi

CODEC_VERSION = "roll-1"
"""Changes whenever :func:`score_to_roll` would give a different roll for the same file (cache key)."""

DEFAULT_VELOCITY = 80
"""Velocity of a note whose cell velocity is 0, and of notes in rolls built without velocities."""

MIDI_RESOLUTION = 480
"""Ticks per beat of the MIDI files this module writes."""

RUN_DTYPE = np.dtype([("pitch", "u1"), ("start", "i8"), ("end", "i8"), ("velocity", "u1")])
"""One row per note of a roll: MIDI pitch, first step, one past the last step, velocity."""


@dataclass(frozen=True)
class RollSpec:
    """The grid: ``steps_per_beat`` steps per beat and ``n_pitches`` pitches from ``lowest_pitch`` up."""

    steps_per_beat: int = 4
    lowest_pitch: int = 36
    n_pitches: int = 48

    def __post_init__(self) -> None:
        if self.steps_per_beat < 1:
            raise ValueError(f"steps_per_beat must be at least 1, not {self.steps_per_beat}")
        if self.n_pitches < 12:
            raise ValueError(f"n_pitches must cover an octave (12) to fold pitches, not {self.n_pitches}")
        if self.lowest_pitch < 0 or self.highest_pitch > 127:
            raise ValueError(f"pitches {self.lowest_pitch}–{self.highest_pitch} leave the MIDI range 0–127")

    @property
    def highest_pitch(self) -> int:
        """The highest MIDI pitch of the grid (inclusive)."""
        return self.lowest_pitch + self.n_pitches - 1


DEFAULT_SPEC = RollSpec()
"""C2–B5 on a 16th-note grid: the grid of the bundled chorales and the shipped models."""


@dataclass
class PianoRoll:
    """A piece on the grid of ``spec``: ``active``, ``onset`` and ``velocity`` are ``[T, P]`` arrays."""

    active: np.ndarray
    onset: np.ndarray
    velocity: np.ndarray
    spec: RollSpec = DEFAULT_SPEC
    tempo_bpm: float = 100.0
    beats_per_bar: int = 4

    def __post_init__(self) -> None:
        self.active = np.asarray(self.active, dtype=bool)
        self.onset = np.asarray(self.onset, dtype=bool)
        self.velocity = np.asarray(self.velocity, dtype=np.uint8)
        shape = self.active.shape
        if len(shape) != 2 or shape[1] != self.spec.n_pitches:
            raise ValueError(f"active must be [T, {self.spec.n_pitches}], not {list(shape)}")
        if self.onset.shape != shape or self.velocity.shape != shape:
            raise ValueError("active, onset and velocity must have the same shape")

    @property
    def n_steps(self) -> int:
        """Number of time steps ``T``."""
        return int(self.active.shape[0])

    @property
    def steps_per_bar(self) -> int:
        """Steps in one bar: ``beats_per_bar * spec.steps_per_beat``."""
        return self.beats_per_bar * self.spec.steps_per_beat

    @property
    def step_seconds(self) -> float:
        """Duration of one step at ``tempo_bpm``."""
        return 60.0 / self.tempo_bpm / self.spec.steps_per_beat


def beats_per_bar_for_meter(numerator: int, denominator: int) -> int:
    """Beats in a bar as pretty_midi counts them: numerator / 3 for compound meters, else the numerator."""
    if numerator > 3 and numerator % 3 == 0:
        return numerator // 3
    return max(int(numerator), 1)


def beat_tempo_bpm(quarter_bpm: float, numerator: int, denominator: int) -> float:
    """Beats per minute of the beat pretty_midi uses for a meter, from a quarter-note tempo."""
    per_quarter = denominator / 4.0
    if numerator > 3 and numerator % 3 == 0:
        per_quarter /= 3.0
    return float(quarter_bpm) * per_quarter


def time_signature_for(beats_per_bar: int, tempo_bpm: float) -> tuple[int, int, float]:
    """The MIDI meter and quarter-note tempo whose pretty_midi beats are ``beats_per_bar`` per bar.

    ``beats_per_bar``/4 at ``tempo_bpm``, except where pretty_midi would read that as compound (6/4,
    9/4, ...): then ``3 * beats_per_bar``/8 with dotted-quarter beats, at 1.5 × the tempo in quarters.
    """
    if beats_per_bar > 3 and beats_per_bar % 3 == 0:
        return 3 * beats_per_bar, 8, 1.5 * float(tempo_bpm)
    return int(beats_per_bar), 4, float(tempo_bpm)


def fold_pitches(pitches: np.ndarray, spec: RollSpec) -> np.ndarray:
    """MIDI pitches moved by whole octaves into ``spec``'s range (those inside stay put)."""
    pitches = np.asarray(pitches, dtype=np.int64)
    below = np.maximum(spec.lowest_pitch - pitches, 0)
    above = np.maximum(pitches - spec.highest_pitch, 0)
    return pitches + 12 * ((below + 11) // 12) - 12 * ((above + 11) // 12)


def seconds_to_beats(times: np.ndarray, beat_times: np.ndarray, beat_seconds: float) -> np.ndarray:
    """Fractional beat positions of ``times`` on the beat grid ``beat_times``.

    Linear between beats; before the first and after the last beat the first and last beat lengths
    continue the grid. With fewer than two beats, beats ``beat_seconds`` long start at the first beat (or 0).
    """
    times = np.asarray(times, dtype=np.float64)
    beats = np.asarray(beat_times, dtype=np.float64)
    if beats.size < 2:
        origin = float(beats[0]) if beats.size else 0.0
        return (times - origin) / beat_seconds
    index = np.arange(beats.size, dtype=np.float64)
    first_len = _positive(beats[1] - beats[0], beat_seconds)
    last_len = _positive(beats[-1] - beats[-2], beat_seconds)
    positions = np.interp(times, beats, index)
    positions = np.where(times > beats[-1], index[-1] + (times - beats[-1]) / last_len, positions)
    return np.where(times < beats[0], (times - beats[0]) / first_len, positions)


def _positive(value: float, fallback: float) -> float:
    return float(value) if value > 0 else float(fallback)


def _round_half_up(values: np.ndarray) -> np.ndarray:
    return np.floor(np.asarray(values, dtype=np.float64) + 0.5).astype(np.int64)


def notes_to_roll(
    pitches: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    velocities: np.ndarray,
    spec: RollSpec = DEFAULT_SPEC,
    n_steps: int | None = None,
    *,
    tempo_bpm: float = 100.0,
    beats_per_bar: int = 4,
) -> PianoRoll:
    """Build a roll from notes given in steps (``ends`` exclusive); pitches are folded into range.

    A note shorter than one step gets one step; notes starting before step 0 start at 0; notes past
    ``n_steps`` are cut. Overlapping notes of one pitch merge into one active run whose velocity is the
    maximum; every note start stays an onset.
    """
    starts = np.maximum(np.asarray(starts, dtype=np.int64), 0)
    ends = np.maximum(np.asarray(ends, dtype=np.int64), starts + 1)
    columns = fold_pitches(pitches, spec) - spec.lowest_pitch
    velocities = np.clip(np.asarray(velocities, dtype=np.int64), 1, 127).astype(np.uint8)
    if n_steps is None:
        n_steps = int(ends.max()) if ends.size else 0
    ends = np.minimum(ends, n_steps)
    keep = starts < ends
    starts, ends, columns, velocities = starts[keep], ends[keep], columns[keep], velocities[keep]
    velocity = np.zeros((n_steps, spec.n_pitches), dtype=np.uint8)
    lengths = ends - starts
    rows = np.repeat(np.arange(starts.size), lengths)
    offsets = np.arange(rows.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    np.maximum.at(velocity, (starts[rows] + offsets, columns[rows]), velocities[rows])
    onset = np.zeros_like(velocity, dtype=bool)
    onset[starts, columns] = True
    return PianoRoll(velocity > 0, onset, velocity, spec, float(tempo_bpm), int(beats_per_bar))


def score_to_roll(score: Score, spec: RollSpec = DEFAULT_SPEC) -> PianoRoll:
    """The beat-synchronous roll of a score: drums dropped, out-of-range pitches folded by octaves.

    Note times become beat positions through ``score.beat_times``; a step is ``round(beat *
    steps_per_beat)`` (halves round up). The roll lasts until the last note ends or the file ends,
    whichever is later.
    """
    numerator, denominator = score.meter
    tempo = beat_tempo_bpm(score.tempo_bpm, numerator, denominator)
    notes = score.pitched_notes

    def to_steps(times: np.ndarray) -> np.ndarray:
        beats = seconds_to_beats(times, score.beat_times, 60.0 / tempo)
        return _round_half_up(beats * spec.steps_per_beat)

    starts = to_steps(notes["start"])
    ends = np.maximum(to_steps(notes["end"]), starts + 1)
    file_end = int(to_steps(np.array([score.duration_s]))[0])
    n_steps = max(int(ends.max()) if ends.size else 0, file_end, 0)
    return notes_to_roll(
        notes["pitch"],
        starts,
        ends,
        notes["velocity"],
        spec,
        n_steps,
        tempo_bpm=tempo,
        beats_per_bar=beats_per_bar_for_meter(numerator, denominator),
    )


def note_starts(active: np.ndarray, onset: np.ndarray) -> np.ndarray:
    """Cells where a note starts: an onset, or an active cell after an inactive one (or at step 0)."""
    active = np.asarray(active, dtype=bool)
    previous = np.zeros_like(active)
    previous[1:] = active[:-1]
    return active & (np.asarray(onset, dtype=bool) | ~previous)


def roll_notes(roll: PianoRoll) -> np.ndarray:
    """The notes of a roll as a :data:`RUN_DTYPE` array sorted by start, then pitch."""
    starts = note_starts(roll.active, roll.onset)
    continues = np.zeros_like(roll.active)
    continues[:-1] = roll.active[1:] & ~starts[1:]
    ends = roll.active & ~continues
    start_cols, start_steps = np.nonzero(starts.T)
    _, end_steps = np.nonzero(ends.T)
    runs = np.empty(start_steps.size, dtype=RUN_DTYPE)
    runs["pitch"] = start_cols + roll.spec.lowest_pitch
    runs["start"] = start_steps
    runs["end"] = end_steps + 1
    runs["velocity"] = roll.velocity[start_steps, start_cols]
    return runs[np.lexsort((runs["pitch"], runs["start"]))]


def roll_to_pretty_midi(
    roll: PianoRoll, program: int = 0, tempo_bpm: float | None = None
) -> pretty_midi.PrettyMIDI:
    """One instrument (GM ``program``), one note per run, at ``tempo_bpm`` (the roll's tempo by default).

    A note takes the velocity of its first cell (:data:`DEFAULT_VELOCITY` where that is 0). Silent steps
    at the end are kept by a text event ("end") at the end of the roll.
    """
    # pretty_midi (with mido) takes about 0.3 s to import; reading rolls never needs it
    import pretty_midi

    tempo = float(tempo_bpm or roll.tempo_bpm)
    step_seconds = 60.0 / tempo / roll.spec.steps_per_beat
    numerator, denominator, quarter_bpm = time_signature_for(roll.beats_per_bar, tempo)
    pm = pretty_midi.PrettyMIDI(initial_tempo=quarter_bpm, resolution=MIDI_RESOLUTION)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(numerator, denominator, 0.0))
    instrument = pretty_midi.Instrument(program=int(program))
    runs = roll_notes(roll)
    velocities = np.where(runs["velocity"] > 0, runs["velocity"], DEFAULT_VELOCITY)
    instrument.notes = [
        pretty_midi.Note(int(velocity), int(pitch), start * step_seconds, end * step_seconds)
        for pitch, start, end, velocity in zip(
            runs["pitch"].tolist(),
            runs["start"].tolist(),
            runs["end"].tolist(),
            velocities.tolist(),
            strict=True,
        )
    ]
    last_end = int(runs["end"].max()) if runs.size else 0
    if roll.n_steps > last_end:
        pm.text_events.append(pretty_midi.Text("end", roll.n_steps * step_seconds))
    pm.instruments.append(instrument)
    return pm


def roll_to_midi_bytes(roll: PianoRoll, program: int = 0, tempo_bpm: float | None = None) -> bytes:
    """The bytes of a standard MIDI file of the roll (see :func:`roll_to_pretty_midi`)."""
    buffer = io.BytesIO()
    roll_to_pretty_midi(roll, program=program, tempo_bpm=tempo_bpm).write(buffer)
    return buffer.getvalue()


def roll_from_arrays(
    active: np.ndarray,
    onset: np.ndarray | None = None,
    velocity: np.ndarray | None = None,
    spec: RollSpec = DEFAULT_SPEC,
    tempo_bpm: float = 100.0,
    beats_per_bar: int = 4,
) -> PianoRoll:
    """A valid roll from ``[T, P]`` arrays, e.g. a generator's output.

    Without ``onset``, notes start where a cell turns active; onsets outside ``active`` are dropped.
    Without ``velocity``, active cells get :data:`DEFAULT_VELOCITY`; inactive cells always get 0.
    """
    active = np.asarray(active).astype(bool, copy=False)
    onset = note_starts(active, np.zeros_like(active) if onset is None else onset)
    if velocity is None:
        velocity = np.full(active.shape, DEFAULT_VELOCITY, dtype=np.uint8)
    velocity = np.where(active, np.clip(velocity, 0, 127), 0).astype(np.uint8)
    return PianoRoll(active, onset, velocity, spec, float(tempo_bpm), int(beats_per_bar))


def transpose(roll: PianoRoll, semitones: int) -> PianoRoll:
    """The roll moved by ``semitones``; cells pushed past either end of the range are dropped."""
    shifted = [_shift_columns(array, int(semitones)) for array in (roll.active, roll.onset, roll.velocity)]
    return replace(roll, active=shifted[0], onset=shifted[1], velocity=shifted[2])


def _shift_columns(array: np.ndarray, shift: int) -> np.ndarray:
    out = np.zeros_like(array)
    width = array.shape[-1]
    if abs(shift) >= width:
        return out
    if shift >= 0:
        out[..., shift:] = array[..., : width - shift]
    else:
        out[..., :shift] = array[..., -shift:]
    return out


def window(roll: PianoRoll, start: int, n_steps: int) -> PianoRoll:
    """Steps ``start .. start + n_steps`` of the roll, padded with silence past its end.

    A note held into the window gets an onset at the window's first step, so the window is a valid roll.
    """
    if start < 0 or n_steps < 0:
        raise ValueError(f"window needs start >= 0 and n_steps >= 0, not {start} and {n_steps}")
    arrays = [_take_steps(array, start, n_steps) for array in (roll.active, roll.onset, roll.velocity)]
    arrays[1][:1] |= arrays[0][:1]
    return replace(roll, active=arrays[0], onset=arrays[1], velocity=arrays[2])


def _take_steps(array: np.ndarray, start: int, n_steps: int) -> np.ndarray:
    out = np.zeros((n_steps, *array.shape[1:]), dtype=array.dtype)
    part = array[start : start + n_steps]
    out[: part.shape[0]] = part
    return out
