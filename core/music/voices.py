"""Four explicit voices (soprano, alto, tenor, bass) on a sixteenth-note grid, as plain numpy arrays.

A :class:`Voices` holds, for ``T`` steps of a sixteenth note each:

- ``pitch``: ``int16[T, 4]``, the MIDI pitch each voice sings, :data:`REST` (-1) where it is silent;
- ``onset``: ``bool[T, 4]``, a note starts at this step (so a repeated note differs from a held one);
- ``phrase_end``: ``bool[T]``, a phrase ends here: the step at which a fermata chord is reached;
- the metre (``steps_per_beat``, ``beats_per_bar`` and ``bar_offset``, the step of the first bar line),
  the key (``tonic`` 0–11 and ``mode``) and the tempo (quarter notes per minute).

Voice 0 is the soprano, 3 the bass. Voices may cross and may sing in unison; each sings one note at a time.

From a parsed MIDI file (:func:`voices_from_score`): the four parts are found by their track names
(Soprano/Alto/Tenor/Bass and the usual Latin, Italian and German names) or, in a file of exactly four parts
without such names, by their mean pitch; a part that holds two notes at once keeps its highest (soprano,
alto) or lowest (tenor, bass) note, or is refused (``chords="reject"``). Phrase ends come from marker or
text events reading "fermata" (the bundled chorales carry them, see ``data/chorales/README.md``). Every
refusal is a :class:`VoicesError` whose message says, in words, why the file cannot be used.

Out: a piano-roll (:meth:`Voices.to_roll`), a MIDI file with four named tracks on four channels and the
programs of an :data:`ENSEMBLES` entry (:func:`voices_to_midi`); MusicXML is :mod:`core.music.musicxml`.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from core.midi.score import Score
from core.music.pianoroll import (
    PianoRoll,
    RollSpec,
    beat_tempo_bpm,
    notes_to_roll,
    seconds_to_beats,
)
from core.music.theory import estimate_key, note_name

if TYPE_CHECKING:
    import mido

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

_VOICE_WORDS = (
    {"soprano", "sopran", "soprani", "sopranos", "canto", "cantus", "discantus", "superius", "treble"},
    {"alto", "alt", "altus", "alti", "altos", "contralto"},
    {"tenor", "tenore", "tenori", "tenors"},
    {"bass", "basso", "bassus", "bassi", "basses"},
)
_VOICE_LETTERS = ("s", "a", "t", "b")
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

    def to_midi(self, ensemble: str = "choir", velocity: int = 80, title: str | None = None) -> bytes:
        """MIDI bytes: see :func:`voices_to_midi`."""
        return voices_to_midi(self, ensemble, velocity=velocity, title=title)


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


# --- MIDI out ---------------------------------------------------------------------------------------------


def _pickup_signature(pickup_steps: int, denominator: int) -> tuple[int, int]:
    """A time signature exactly ``pickup_steps`` sixteenths long, in the piece's denominator if it can."""
    for candidate in (denominator, 8, 16):
        if (pickup_steps * candidate) % 16 == 0:
            return pickup_steps * candidate // 16, candidate
    raise AssertionError("unreachable: every length is a whole number of sixteenths")


def _midi_key(tonic: int, mode: str) -> str:
    """mido's key-signature name: "Bb", "F#m"."""
    name = key_name(tonic, mode).split()[0]
    return name + ("m" if mode == "minor" else "")


def voices_to_midi(
    voices: Voices, ensemble: str = "choir", *, velocity: int = 80, title: str | None = None
) -> bytes:
    """A format-1 MIDI file: a conductor track (tempo, time and key signature, a "fermata" marker at each
    phrase end), then tracks "Soprano", "Alto", "Tenor", "Bass" on channels 1–4 with the GM programs of
    ``ensemble`` (a key of :data:`ENSEMBLES`). A pickup (``bar_offset``) is written as a short first bar."""
    import mido

    if ensemble not in ENSEMBLES:
        raise VoicesError(f"unknown ensemble {ensemble!r}; choose one of {', '.join(ENSEMBLES)}")
    ticks = MIDI_TICKS_PER_QUARTER // STEPS_PER_QUARTER
    numerator, denominator = voices.time_signature
    conductor: list[tuple[int, mido.MetaMessage]] = []
    if title:  # MIDI text is bytes; write UTF-8 (mido writes str as Latin-1, which cannot hold every title)
        conductor.append((0, mido.MetaMessage("track_name", name=title.encode().decode("latin-1"))))
    conductor.append((0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(voices.tempo_bpm))))
    if voices.bar_offset:
        pickup = _pickup_signature(voices.bar_offset, denominator)
        conductor.append((0, _time_signature(*pickup)))
    conductor.append((voices.bar_offset * ticks, _time_signature(numerator, denominator)))
    conductor.append((0, mido.MetaMessage("key_signature", key=_midi_key(voices.tonic, voices.mode))))
    for step in np.flatnonzero(voices.phrase_end):
        conductor.append((int(step) * ticks, mido.MetaMessage("marker", text=FERMATA_TEXT)))
    tracks = [_midi_track(conductor)]
    notes = voices.notes()
    for voice, program in enumerate(ENSEMBLES[ensemble]):
        events: list[tuple[int, mido.Message]] = [
            (0, mido.MetaMessage("track_name", name=VOICE_NAMES[voice])),
            (0, mido.Message("program_change", channel=voice, program=program)),
        ]
        for row in notes[notes["voice"] == voice]:
            pitch = int(row["pitch"])
            events.append((int(row["end"]) * ticks, mido.Message("note_off", channel=voice, note=pitch)))
            events.append(
                (
                    int(row["start"]) * ticks,
                    mido.Message("note_on", channel=voice, note=pitch, velocity=velocity),
                )
            )
        tracks.append(_midi_track(events))
    midi = mido.MidiFile(type=1, ticks_per_beat=MIDI_TICKS_PER_QUARTER, tracks=tracks)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def _time_signature(numerator: int, denominator: int) -> mido.MetaMessage:
    import mido

    return mido.MetaMessage("time_signature", numerator=numerator, denominator=denominator)


def _midi_track(events: list[tuple[int, mido.Message | mido.MetaMessage]]) -> mido.MidiTrack:
    """Absolute-tick events as a track: sorted by tick, note-offs before note-ons at the same tick (the
    order they were listed in), then an end-of-track event."""
    import mido

    track, previous = mido.MidiTrack(), 0
    ordered = sorted(
        range(len(events)), key=lambda index: (events[index][0], events[index][1].type == "note_on")
    )
    for index in ordered:
        tick, message = events[index]
        track.append(message.copy(time=tick - previous))
        previous = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


# --- from a parsed MIDI file -----------------------------------------------------------------------------


@dataclass
class Conversion:
    """The result of :func:`convert_score`: the voices, the instrument index each came from, and remarks
    (sentences) about what was changed or left out on the way."""

    voices: Voices
    tracks: tuple[int, int, int, int]
    remarks: list[str] = field(default_factory=list)


def voices_from_score(score: Score, **options: object) -> Voices:
    """The four voices of a parsed file; raises :class:`VoicesError`. Options: see :func:`convert_score`."""
    return convert_score(score, **options).voices


def convert_score(
    score: Score,
    *,
    key: tuple[int, str] | None = None,
    chords: str = "outer",
    ranges: tuple[tuple[int, int], ...] | None = PITCH_RANGES,
    fermata_text: str = FERMATA_TEXT,
) -> Conversion:
    """Four voices from a :class:`~core.midi.score.Score`, with remarks; raises :class:`VoicesError`.

    - Parts: the instruments with pitched notes (drums are left out); see :func:`choose_voice_parts`.
    - Grid: note times become sixteenth-note steps through the file's beats (tempo changes and metre
      changes included); a step is ``round(quarter notes × 4)``, halves up, as in the piano-roll codec.
    - ``chords``: a part holding two notes at once keeps its highest (soprano, alto) or lowest (tenor,
      bass) note with ``"outer"``; ``"reject"`` refuses the file.
    - Metre: the one in force longest; a short first bar in another metre is a pickup; any other metre
      change before the last bar is refused (bar lines would no longer fall where the model expects).
    - Key: ``key`` (tonic 0–11, mode) when given, else the file's first key signature, else the
      Krumhansl–Kessler estimate of the voices' pitch-class durations.
    - ``ranges``: each voice must stay within its range (``None``: no check).
    - Phrase ends: marker and text events reading ``fermata_text``, at the step of their time.
    """
    if chords not in ("outer", "reject"):
        raise ValueError(f"chords must be 'outer' or 'reject', not {chords!r}")
    parts, remarks = choose_voice_parts(score)
    notes = score.pitched_notes
    grid = _Grid(score)
    lines = []
    for track in parts:
        rows = notes[notes["track"] == track]
        starts = grid.steps(rows["start"])
        lines.append(
            (rows["pitch"].astype(np.int64), starts, np.maximum(grid.steps(rows["end"]), starts + 1))
        )
    n_steps = max(int(line_ends.max()) for _, _, line_ends in lines)
    steps_per_beat, beats_per_bar, bar_offset = grid.metre(n_steps)
    pitch = np.full((n_steps, N_VOICES), REST, np.int16)
    onset = np.zeros((n_steps, N_VOICES), bool)
    for voice, (pitches, starts, ends) in enumerate(lines):
        line = _voice_line(pitches, starts, ends, n_steps, prefer_high=voice < 2)
        pitch[:, voice], onset[:, voice] = line[0], line[1]
        if line[2]:
            bar = grid.bar_number(line[3], bar_offset)
            remarks.append(_chord_remark(voice, line[2], bar, chords))
    tonic, mode = key if key is not None else _score_key(score, pitch)
    phrase_end = np.zeros(n_steps, bool)
    times = [time for text, time in score.markers if text.strip().lower() == fermata_text.lower()]
    if times:
        phrase_end[np.clip(grid.steps(np.asarray(times)), 0, n_steps - 1)] = True
    voices = Voices(
        pitch, onset, phrase_end, steps_per_beat, beats_per_bar, tonic, mode, _tempo(score), bar_offset
    )
    problem = voices.range_problem(ranges) if ranges is not None else None
    if problem:
        raise VoicesError(problem)
    return Conversion(voices, parts, remarks)


def _tempo(score: Score) -> float:
    return float(score.tempo_bpm) if score.tempo_bpm > 0 else DEFAULT_TEMPO_BPM


def _chord_remark(voice: int, n_steps: int, bar: int, chords: str) -> str:
    name = VOICE_NAMES[voice]
    where = f"bar {bar}"
    if chords == "reject":
        raise VoicesError(
            f"the {name} part sings two notes at once (first in {where}); each part must sing one note "
            "at a time"
        )
    kept = "highest" if voice < 2 else "lowest"
    return (
        f"the {name} part holds two notes at once in {n_steps} sixteenth{'s' if n_steps != 1 else ''} "
        f"(first in {where}); its {kept} note was kept"
    )


def _score_key(score: Score, pitch: np.ndarray) -> tuple[int, str]:
    if score.key_signatures:
        number = int(score.key_signatures[0][0])
        return number % 12, MODES[number // 12]
    sung = pitch[pitch >= 0]
    estimate = estimate_key(np.bincount(sung % 12, minlength=12)) if sung.size else None
    return (estimate.tonic, estimate.mode) if estimate else (0, "major")


def _voice_line(
    pitches: np.ndarray, starts: np.ndarray, ends: np.ndarray, n_steps: int, prefer_high: bool
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """One voice's pitch and onset per step from its notes (in steps), the highest (or lowest) of any that
    overlap; also the number of steps with more than one note and the first of them (-1 if none)."""
    rank_bits = 20  # notes are fewer than MidiLimits.max_notes (50,000) < 2**20
    order = np.lexsort((pitches, starts))
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    preference = pitches if prefer_high else 127 - pitches
    keys = (preference << rank_bits) | rank
    lengths = ends - starts
    rows = np.repeat(np.arange(len(starts)), lengths)
    cells = starts[rows] + np.arange(rows.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    best = np.full(n_steps, -1, np.int64)
    np.maximum.at(best, cells, keys[rows])
    count = np.bincount(cells, minlength=n_steps)
    sounding = best >= 0
    chosen = np.where(sounding, best & ((1 << rank_bits) - 1), -1)
    preferred = best >> rank_bits
    pitch = np.where(sounding, preferred if prefer_high else 127 - preferred, REST)
    previous = np.concatenate([[-1], chosen[:-1]])
    onset = sounding & (chosen != previous)
    crowded = np.flatnonzero(count > 1)
    return pitch, onset, int(crowded.size), int(crowded[0]) if crowded.size else -1


def _change_allowed(
    step: int, grid: tuple[int, int], dominant: tuple[int, int], bar_offset: int, n_steps: int
) -> bool:
    """Whether a time signature at ``step`` keeps the bar lines of the dominant metre: it restates that
    metre at the start or on a bar line, or it sets a different last bar, or the music is over."""
    on_bar_line = (step - bar_offset) % (dominant[0] * dominant[1]) == 0
    if step >= n_steps:
        return True
    if grid == dominant:
        return step <= 0 or on_bar_line
    return step > 0 and on_bar_line and n_steps - step <= grid[0] * grid[1]


class _Grid:
    """Seconds → sixteenth steps for one score, through its beats (tempo and metre changes included),
    and the metre the voices get."""

    def __init__(self, score: Score) -> None:
        self.score = score
        numerator, denominator = score.meter
        self.steps_per_beat, self.beats_per_bar = meter_grid(numerator, denominator)
        self.beat_times = np.asarray(score.beat_times, dtype=np.float64)
        self.beat_quarters = self._quarters_per_beat()
        self.beat_positions = np.concatenate([[0.0], np.cumsum(self.beat_quarters[:-1])])
        self.tempo = beat_tempo_bpm(_tempo(score), numerator, denominator)

    def _quarters_per_beat(self) -> np.ndarray:
        """Quarter notes in each beat of ``beat_times``, from the time signature in force there."""
        times = self.beat_times if len(self.beat_times) else np.zeros(1)
        quarters = np.ones(len(times))
        for numerator, denominator, time in self.score.time_signatures:
            per_beat = 4.0 / denominator * (3 if numerator > 3 and numerator % 3 == 0 else 1)
            quarters[times >= time - 1e-6] = per_beat
        return quarters

    def quarters(self, times: np.ndarray) -> np.ndarray:
        """Quarter-note positions of times in seconds."""
        beats = seconds_to_beats(times, self.beat_times, 60.0 / self.tempo)
        if len(self.beat_times) < 2:
            return beats * self.beat_quarters[0]
        index = np.arange(len(self.beat_times), dtype=np.float64)
        inside = np.interp(beats, index, self.beat_positions)
        before = beats * self.beat_quarters[0]
        after = self.beat_positions[-1] + (beats - index[-1]) * self.beat_quarters[-1]
        return np.where(beats < 0, before, np.where(beats > index[-1], after, inside))

    def steps(self, times: np.ndarray) -> np.ndarray:
        """Sixteenth steps of times in seconds (halves round up)."""
        return np.floor(self.quarters(np.asarray(times, dtype=np.float64)) * STEPS_PER_QUARTER + 0.5).astype(
            np.int64
        )

    def metre(self, n_steps: int) -> tuple[int, int, int]:
        """``(steps_per_beat, beats_per_bar, bar_offset)``; raises :class:`VoicesError` on a metre change
        inside the piece (a short first bar is a pickup, a different last bar is allowed)."""
        bar = self.steps_per_beat * self.beats_per_bar
        changes = []
        for numerator, denominator, time in self.score.time_signatures:
            grid = meter_grid(numerator, denominator)
            if changes and changes[-1][1] == grid:
                continue
            changes.append((int(self.steps(np.array([time]))[0]), grid, f"{numerator}/{denominator}"))
        dominant = (self.steps_per_beat, self.beats_per_bar)
        bar_offset = 0
        pickup = len(changes) > 1 and changes[0][0] <= 0 and 0 < changes[1][0] < bar
        if pickup and changes[0][1] != dominant and changes[1][1] == dominant:
            bar_offset = changes[1][0]
            changes = changes[1:]
        for step, grid, _ in changes:
            if not _change_allowed(step, grid, dominant, bar_offset, n_steps):
                sequence = ", then ".join(
                    f"{name} in bar {self.bar_number(max(at, 0), bar_offset)}" for at, _, name in changes
                )
                raise VoicesError(f"the metre changes ({sequence}); this model needs one metre throughout")
        return self.steps_per_beat, self.beats_per_bar, bar_offset

    def bar_number(self, step: int, bar_offset: int = 0) -> int:
        """1-based bar of a step in the dominant metre (a pickup is bar 0)."""
        bar = self.steps_per_beat * self.beats_per_bar
        return (step - bar_offset) // bar + 1


# --- which parts are the voices ---------------------------------------------------------------------------


def voice_of_name(name: str) -> tuple[int, int] | None:
    """``(voice, strength)`` a track name suggests, or None: strength 2 when the name is only the voice
    (and numbers: "Bass", "Tenor 1", "S."), 1 when it contains it among other words ("Bass Continuo")."""
    words = re.findall(r"[^\W\d_]+", name.lower())
    if not words:
        return None
    if len(words) == 1 and words[0] in _VOICE_LETTERS:
        return _VOICE_LETTERS.index(words[0]), 2
    matches = {voice for voice, names in enumerate(_VOICE_WORDS) for word in words if word in names}
    if len(matches) != 1:
        return None
    voice = matches.pop()
    return voice, 2 if all(word in _VOICE_WORDS[voice] for word in words) else 1


def choose_voice_parts(score: Score) -> tuple[tuple[int, int, int, int], list[str]]:
    """The instrument index of the soprano, alto, tenor and bass, and remarks; raises :class:`VoicesError`.

    The parts are the instruments with pitched notes. Four voices named in the track names (see
    :func:`voice_of_name`; the strongest match wins, a tie refuses the file) are taken, whatever else the
    file holds. Without four such names a file of exactly four parts is read from the highest part (by
    mean pitch) down; any other file is refused.
    """
    notes = score.pitched_notes
    parts = sorted({int(track) for track in notes["track"]})
    if not parts:
        raise VoicesError("the file has no pitched notes (only drums)")
    names = {track: score.track_name(track) for track in parts}
    by_name = _parts_by_name(names)
    if isinstance(by_name, tuple):
        ignored = [names[track] or f"part {track + 1}" for track in parts if track not in by_name]
        remarks = [f"left out {len(ignored)} other part{'s' * (len(ignored) != 1)}: {', '.join(ignored)}"]
        return by_name, remarks if ignored else []
    if len(parts) == N_VOICES:
        means = {track: float(notes["pitch"][notes["track"] == track].mean()) for track in parts}
        ordered = tuple(sorted(parts, key=lambda track: (-means[track], track)))
        return ordered, [
            "the parts are not named Soprano, Alto, Tenor and Bass; they were taken from the highest down"
        ]
    if len(parts) < N_VOICES:
        count = "one part" if len(parts) == 1 else f"{len(parts)} parts"
        raise VoicesError(
            f"the file has {count}; this model needs four separate parts (soprano, alto, tenor and bass), "
            "one per track or channel"
        )
    listed = ", ".join(names[track] or f"part {track + 1}" for track in parts[:8])
    more = "" if len(parts) <= 8 else ", …"
    detail = f"; {by_name}" if by_name else ""
    raise VoicesError(
        f"the file has {len(parts)} parts ({listed}{more}) and their names do not say which four are the "
        f"soprano, alto, tenor and bass{detail}; name those tracks Soprano, Alto, Tenor and Bass"
    )


def _parts_by_name(names: dict[int, str]) -> tuple[int, int, int, int] | str | None:
    """The four voices' instruments by name; else a sentence about a tie, or None."""
    candidates: list[list[tuple[int, int]]] = [[] for _ in range(N_VOICES)]
    for track, name in names.items():
        match = voice_of_name(name)
        if match is not None:
            candidates[match[0]].append((match[1], track))
    chosen = []
    for voice, found in enumerate(candidates):
        if not found:
            return None
        best = max(strength for strength, _ in found)
        tracks = [track for strength, track in found if strength == best]
        if len(tracks) > 1:
            listed = " and ".join(names[track] for track in tracks)
            return f"{listed} could both be the {VOICE_NAMES[voice].lower()}"
        chosen.append(tracks[0])
    return tuple(chosen)


__all__ = [
    "ENSEMBLES",
    "FERMATA_TEXT",
    "METRE_FEATURES",
    "MODES",
    "N_VOICES",
    "PITCH_RANGES",
    "REST",
    "STEPS_PER_QUARTER",
    "VOICE_NAMES",
    "VOICE_NOTE_DTYPE",
    "Conversion",
    "Voices",
    "VoicesError",
    "choose_voice_parts",
    "convert_score",
    "key_fifths",
    "key_name",
    "meter_grid",
    "metre_features",
    "onsets_from_pitch",
    "step_in_bar",
    "time_signature_of",
    "tonic_from_name",
    "voice_of_name",
    "voices_from_score",
    "voices_to_midi",
]
