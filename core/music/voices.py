"""Four explicit voices (soprano, alto, tenor, bass) on a sixteenth-note grid, as plain numpy arrays.

A :class:`Voices` holds, for ``T`` steps of a sixteenth note each:

- ``pitch``: ``int16[T, 4]``, the MIDI pitch each voice sings, :data:`REST` (-1) where it is silent;
- ``onset``: ``bool[T, 4]``, a note starts at this step (so a repeated note differs from a held one);
- ``phrase_end``: ``bool[T]``, a phrase ends here: the step at which a fermata chord is reached;
- the metre (``steps_per_beat``, ``beats_per_bar`` and ``bar_offset``, the step of the first bar line),
  the key (``tonic`` 0–11 and ``mode``) and the tempo (quarter notes per minute).

Voice 0 is the soprano, 3 the bass. Voices may cross and may sing in unison; each sings one note at a time.

From a parsed MIDI file (:func:`core.music.voice_parts.voices_from_score`): the four parts are found by
their track names (Soprano/Alto/Tenor/Bass and the usual Latin, Italian and German names) or, in a file of
exactly four parts without such names, by their mean pitch; a part that holds two notes at once keeps its
highest (soprano, alto) or lowest (tenor, bass) note, or is refused (``chords="reject"``). Phrase ends come
from marker or text events reading "fermata" (the bundled chorales carry them, see
``data/chorales/README.md``). Every refusal is a :class:`VoicesError` whose message says, in words, why the
file cannot be used.

Out: a piano-roll (:meth:`Voices.to_roll`), a MIDI file with four named tracks on four channels and the
programs of an :data:`ENSEMBLES` entry (:func:`core.music.voices_midi.voices_to_midi`); MusicXML is
:mod:`core.music.musicxml`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from core.music.pianoroll import (
    PianoRoll,
    RollSpec,
    beat_tempo_bpm,
    notes_to_roll,
)
from core.music.theory import note_name

N_VOICES = 4
VOICE_NAMES = ("Soprano", "Alto", "Tenor", "Bass")
REST = -1
STEPS_PER_QUARTER = 4
"""The grid: sixteenth notes."""
MODES = ("major", "minor")
PITCH_RANGES: tuple[tuple[int, int], ...] = ((54, 84), (49, 77), (43, 72), (33, 69))
"""Lowest and highest MIDI pitch of each voice's vocabulary (S F#3–C6, A C#3–F5, T G2–C5, B A1–A4).

The range each voice covers in the bundled chorales and the JSB split together (S 57–81, A 52–74,
T 46–69, B 36–66), widened by a minor third each way so that transposed copies fit."""
ENSEMBLES: dict[str, tuple[int, int, int, int]] = {
    "choir": (52, 52, 52, 52),
    "strings": (40, 40, 41, 42),
    "organ": (19, 19, 19, 19),
    "piano": (0, 0, 0, 0),
}
"""General MIDI programs (0-based, as written in a file) of the four voices: Choir Aahs; violin, violin,
viola, cello; Church Organ; Acoustic Grand Piano."""
FERMATA_TEXT = "fermata"
"""Marker or text event that marks a phrase end (compared without case and surrounding spaces)."""
METRE_FEATURES = (
    "bar_start",
    "beat_start",
    "eighth_start",
    "bar_phase_sin",
    "bar_phase_cos",
    "beat_phase_sin",
    "beat_phase_cos",
)
"""Columns of :func:`metre_features`: 1.0 on a bar line, a beat, an eighth note; the position within
the bar and within the beat as a point on the unit circle."""
STEPS_PER_BEAT_ALLOWED = (1, 2, 3, 4, 6, 8, 12, 16, 24)
"""Beats the grid can hold: a 16th, 8th, quarter, half or whole note, or a dotted 8th, quarter or half."""
MIDI_TICKS_PER_QUARTER = 480
DEFAULT_TEMPO_BPM = 100.0

_MAJOR_KEYS = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_MINOR_KEYS = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")


class VoicesError(ValueError):
    """A piece cannot become four voices (or a voice operation is impossible); ``str()`` says why in words."""


# --- metre and key helpers ----------------------------------------------------------------------------


def meter_grid(numerator: int, denominator: int) -> tuple[int, int]:
    """``(steps_per_beat, beats_per_bar)`` of a time signature on the sixteenth grid.

    The beat is pretty_midi's (and :mod:`core.music.pianoroll`'s): the denominator note, or three of them
    in compound metres (numerator a multiple of 3 above 3). 4/4 → (4, 4), 3/2 → (8, 3), 12/8 → (6, 4).
    """
    if denominator not in (1, 2, 4, 8, 16) or numerator < 1:
        raise VoicesError(f"the metre {numerator}/{denominator} does not fit a grid of sixteenth notes")
    per_note = 16 // denominator
    if numerator > 3 and numerator % 3 == 0:
        return 3 * per_note, numerator // 3
    return per_note, numerator


def time_signature_of(steps_per_beat: int, beats_per_bar: int) -> tuple[int, int]:
    """The time signature of a grid (inverse of :func:`meter_grid`): (6, 4) → 12/8, (8, 3) → 3/2."""
    if steps_per_beat % 3 == 0:
        return 3 * beats_per_bar, 48 // steps_per_beat
    return beats_per_bar, 16 // steps_per_beat


def key_fifths(tonic: int, mode: str) -> int:
    """Sharps (positive) or flats (negative) of the key signature, -6..5 (Gb major rather than F#)."""
    major_tonic = (tonic + 3) % 12 if mode == "minor" else tonic % 12
    fifths = (major_tonic * 7) % 12
    return fifths - 12 if fifths > 5 else fifths


def key_name(tonic: int, mode: str) -> str:
    """The key in words, spelled as its key signature suggests: ``key_name(10, "major")`` → "Bb major"."""
    names = _MINOR_KEYS if mode == "minor" else _MAJOR_KEYS
    return f"{names[tonic % 12]} {mode}"


def tonic_from_name(name: str) -> int:
    """Pitch class of a tonic name such as "Bb", "F#", "E-" or "c": 10, 6, 3, 0."""
    match = re.fullmatch(r"\s*([A-Ga-g])([#b\-]*)\s*", name)
    if match is None:
        raise VoicesError(f"{name!r} is not a key name")
    base = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}[match.group(1).upper()]
    accidentals = match.group(2)
    return (base + accidentals.count("#") - accidentals.count("b") - accidentals.count("-")) % 12


def key_from_name(text: str) -> tuple[int, str]:
    """(tonic, mode) of a key in words: "D minor" → (2, "minor"), "Bb major" → (10, "major"); a bare
    tonic is major. The inverse of :func:`key_name`."""
    words = text.split()
    mode = words[1].lower() if len(words) > 1 else "major"
    if not words or len(words) > 2 or mode not in MODES:
        raise VoicesError(f'a key is a tonic and major or minor, e.g. "D minor", not {text!r}')
    return tonic_from_name(words[0]), mode


def step_in_bar(n_steps: int, steps_per_bar: int, bar_offset: int = 0) -> np.ndarray:
    """``int16[T]``: each step's position within its bar (0 on a bar line)."""
    return ((np.arange(n_steps) - bar_offset) % steps_per_bar).astype(np.int16)


def metre_features(n_steps: int, steps_per_beat: int, beats_per_bar: int, bar_offset: int = 0) -> np.ndarray:
    """``float32[T, 7]``, the :data:`METRE_FEATURES` of every step (the same width for every metre)."""
    steps_per_bar = steps_per_beat * beats_per_bar
    in_bar = step_in_bar(n_steps, steps_per_bar, bar_offset).astype(np.float64)
    in_beat = in_bar % steps_per_beat
    bar_angle = 2 * np.pi * in_bar / steps_per_bar
    beat_angle = 2 * np.pi * in_beat / steps_per_beat
    columns = [
        in_bar == 0,
        in_beat == 0,
        in_bar % 2 == 0,
        np.sin(bar_angle),
        np.cos(bar_angle),
        np.sin(beat_angle),
        np.cos(beat_angle),
    ]
    return np.stack(columns, axis=1).astype(np.float32)


def onsets_from_pitch(pitch: np.ndarray, onset: np.ndarray | None = None) -> np.ndarray:
    """``bool[..., T, 4]``: the given onsets where a voice sounds, plus every step where a voice starts to
    sound or changes pitch (a note must start there)."""
    pitch = np.asarray(pitch)
    sounding = pitch >= 0
    previous = np.full_like(pitch, REST)
    previous[..., 1:, :] = pitch[..., :-1, :]
    given = np.zeros_like(sounding) if onset is None else np.asarray(onset, dtype=bool)
    return sounding & (given | (pitch != previous))


# --- the Voices container ---------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Voices:
    """Four voices on a sixteenth-note grid; see the module docstring. Arrays are normalised on creation:
    ``onset`` is kept only where a voice sounds and added where a voice starts or changes pitch."""

    pitch: np.ndarray
    onset: np.ndarray | None = None
    phrase_end: np.ndarray | None = None
    steps_per_beat: int = 4
    beats_per_bar: int = 4
    tonic: int = 0
    mode: str = "major"
    tempo_bpm: float = DEFAULT_TEMPO_BPM
    """Quarter notes per minute."""
    bar_offset: int = 0
    """The step of the first bar line, 0 ≤ bar_offset < steps_per_bar (steps before it: a pickup)."""

    def __post_init__(self) -> None:
        pitch = np.asarray(self.pitch)
        if pitch.ndim != 2 or pitch.shape[1] != N_VOICES:
            raise VoicesError(f"pitch must be [T, 4], not {list(pitch.shape)}")
        if pitch.size and (pitch.min() < REST or pitch.max() > 127):
            raise VoicesError("pitches must be MIDI numbers 0–127 or -1 for a rest")
        pitch = pitch.astype(np.int16)
        given = None if self.onset is None else np.asarray(self.onset, dtype=bool)
        phrase_end = np.zeros(len(pitch), bool) if self.phrase_end is None else np.asarray(self.phrase_end)
        if (given is not None and given.shape != pitch.shape) or phrase_end.shape != (len(pitch),):
            raise VoicesError("onset must be [T, 4] and phrase_end [T], like pitch")
        onset = onsets_from_pitch(pitch, given)
        if self.steps_per_beat not in STEPS_PER_BEAT_ALLOWED or self.beats_per_bar < 1:
            raise VoicesError(f"no metre has {self.beats_per_bar} beats of {self.steps_per_beat} steps")
        if self.mode not in MODES or not 0 <= int(self.tonic) < 12:
            raise VoicesError(
                f"the key must be a tonic 0–11 and major or minor, not {self.tonic} {self.mode}"
            )
        if not 0 <= self.bar_offset < self.steps_per_beat * self.beats_per_bar:
            raise VoicesError(f"bar_offset must lie within one bar, not {self.bar_offset}")
        if not self.tempo_bpm > 0:
            raise VoicesError(f"the tempo must be positive, not {self.tempo_bpm}")
        object.__setattr__(self, "pitch", pitch)
        object.__setattr__(self, "onset", onset)
        object.__setattr__(self, "phrase_end", phrase_end.astype(bool))
        object.__setattr__(self, "tonic", int(self.tonic))

    # --- properties

    @property
    def n_steps(self) -> int:
        return int(self.pitch.shape[0])

    @property
    def steps_per_bar(self) -> int:
        return self.steps_per_beat * self.beats_per_bar

    @property
    def time_signature(self) -> tuple[int, int]:
        """Numerator and denominator, e.g. (4, 4) or (12, 8)."""
        return time_signature_of(self.steps_per_beat, self.beats_per_bar)

    @property
    def key_index(self) -> int:
        """The key as 0–23: major keys 0–11 by tonic, minor keys 12–23."""
        return self.tonic + 12 * MODES.index(self.mode)

    @property
    def key_name(self) -> str:
        return key_name(self.tonic, self.mode)

    @property
    def seconds(self) -> float:
        return self.n_steps * 60.0 / self.tempo_bpm / STEPS_PER_QUARTER

    # --- views

    def notes(self) -> np.ndarray:
        """Every note as a :data:`VOICE_NOTE_DTYPE` row (voice, pitch, start step, end step exclusive),
        sorted by start, then voice."""
        rows = [_voice_notes(self.pitch[:, voice], self.onset[:, voice], voice) for voice in range(N_VOICES)]
        notes = np.concatenate(rows) if rows else np.zeros(0, VOICE_NOTE_DTYPE)
        return notes[np.lexsort((notes["voice"], notes["start"]))]

    def voice_ranges(self) -> list[tuple[int, int] | None]:
        """Lowest and highest pitch each voice sings (None for a voice that only rests)."""
        ranges = []
        for voice in range(N_VOICES):
            sung = self.pitch[:, voice][self.pitch[:, voice] >= 0]
            ranges.append((int(sung.min()), int(sung.max())) if sung.size else None)
        return ranges

    def range_problem(self, ranges: tuple[tuple[int, int], ...] = PITCH_RANGES) -> str | None:
        """Why a voice leaves its range, in words, or None when all four fit."""
        for voice, (used, (low, high)) in enumerate(zip(self.voice_ranges(), ranges, strict=True)):
            if used is None:
                continue
            name = VOICE_NAMES[voice]
            if used[0] < low:
                return (
                    f"the {name} part goes down to {note_name(used[0])} (MIDI {used[0]}), below the "
                    f"{name.lower()} range of this model, {note_name(low)}–{note_name(high)}"
                )
            if used[1] > high:
                return (
                    f"the {name} part goes up to {note_name(used[1])} (MIDI {used[1]}), above the "
                    f"{name.lower()} range of this model, {note_name(low)}–{note_name(high)}"
                )
        return None

    def step_in_bar(self) -> np.ndarray:
        """``int16[T]``: each step's position in its bar."""
        return step_in_bar(self.n_steps, self.steps_per_bar, self.bar_offset)

    def metre_features(self) -> np.ndarray:
        """``float32[T, 7]``: see :func:`metre_features`."""
        return metre_features(self.n_steps, self.steps_per_beat, self.beats_per_bar, self.bar_offset)

    # --- transformations

    def transpose(self, semitones: int, ranges: tuple[tuple[int, int], ...] | None = PITCH_RANGES) -> Voices:
        """The voices moved by ``semitones``, the key with them; raises :class:`VoicesError` when a voice
        would leave its range (``ranges=None``: only the MIDI range 0–127 is checked)."""
        semitones = int(semitones)
        sounding = self.pitch >= 0
        moved_pitch = self.pitch.astype(np.int64) + semitones
        if sounding.any() and (moved_pitch[sounding].min() < 0 or moved_pitch[sounding].max() > 127):
            raise VoicesError(f"moved by {semitones:+d} semitones, the voices leave the MIDI range 0–127")
        pitch = np.where(sounding, moved_pitch, REST)
        moved = replace(self, pitch=pitch, onset=self.onset, tonic=(self.tonic + semitones) % 12)
        problem = moved.range_problem(ranges) if ranges is not None else None
        if problem:
            raise VoicesError(f"moved by {semitones:+d} semitones, {problem}")
        return moved

    def window(self, start: int, n_steps: int) -> Voices:
        """Steps ``start .. start + n_steps``, padded with rests past the end; a note held into the window
        starts at its first step."""
        if start < 0 or n_steps < 0:
            raise VoicesError(f"a window needs start >= 0 and n_steps >= 0, not {start} and {n_steps}")
        pitch = np.full((n_steps, N_VOICES), REST, np.int16)
        onset = np.zeros((n_steps, N_VOICES), bool)
        phrase_end = np.zeros(n_steps, bool)
        part = slice(start, start + n_steps)
        taken = len(self.pitch[part])
        pitch[:taken], onset[:taken], phrase_end[:taken] = (
            self.pitch[part],
            self.onset[part],
            self.phrase_end[part],
        )
        onset[:1] |= pitch[:1] >= 0
        offset = (self.bar_offset - start) % self.steps_per_bar
        return replace(self, pitch=pitch, onset=onset, phrase_end=phrase_end, bar_offset=offset)

    # --- output

    def to_roll(self, spec: RollSpec | None = None, velocity: int = 80) -> PianoRoll:
        """The piano-roll (``active``, ``onset`` ``[T, P]``) of the four voices; voices in unison share a
        cell. ``spec`` defaults to :class:`RollSpec` on this grid; pitches outside it fold by octaves."""
        spec = spec or RollSpec(steps_per_beat=self.steps_per_beat)
        if spec.steps_per_beat != self.steps_per_beat:
            raise VoicesError(
                f"the roll has {spec.steps_per_beat} steps per beat; these voices have {self.steps_per_beat}"
            )
        notes = self.notes()
        numerator, denominator = self.time_signature
        return notes_to_roll(
            notes["pitch"],
            notes["start"],
            notes["end"],
            np.full(len(notes), velocity),
            spec,
            self.n_steps,
            tempo_bpm=beat_tempo_bpm(self.tempo_bpm, numerator, denominator),
            beats_per_bar=self.beats_per_bar,
        )


VOICE_NOTE_DTYPE = np.dtype([("voice", "i1"), ("pitch", "i2"), ("start", "i4"), ("end", "i4")])
"""One note of a :class:`Voices`: its voice (0 = soprano), MIDI pitch, first step and one past its last."""


def _voice_notes(pitch: np.ndarray, onset: np.ndarray, voice: int) -> np.ndarray:
    """The notes of one voice: a note runs from an onset to the next onset or rest."""
    starts = np.flatnonzero(onset)
    boundary = onset | (pitch < 0)
    # the first boundary after each step (T when there is none), found from the end
    following = np.where(boundary, np.arange(len(pitch)), len(pitch))
    next_boundary = np.minimum.accumulate(np.append(following, len(pitch))[::-1])[::-1]
    notes = np.empty(len(starts), VOICE_NOTE_DTYPE)
    notes["voice"], notes["pitch"], notes["start"] = voice, pitch[starts], starts
    notes["end"] = next_boundary[starts + 1]
    return notes
