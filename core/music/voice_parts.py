"""A parsed MIDI file as four voices: which parts are the soprano, alto, tenor and bass (by name, or four
monophonic parts), each part as a line on the sixteenth-note grid, phrase ends from fermata markers, and
the key; or a sentence saying why the file cannot be four voices."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from core.midi.score import Score
from core.music.pianoroll import beat_tempo_bpm, seconds_to_beats
from core.music.theory import estimate_key
from core.music.voices import (
    DEFAULT_TEMPO_BPM,
    FERMATA_TEXT,
    MODES,
    N_VOICES,
    PITCH_RANGES,
    REST,
    STEPS_PER_QUARTER,
    VOICE_NAMES,
    Voices,
    VoicesError,
    meter_grid,
)

_VOICE_WORDS = (
    {"soprano", "sopran", "soprani", "sopranos", "canto", "cantus", "discantus", "superius", "treble"},
    {"alto", "alt", "altus", "alti", "altos", "contralto"},
    {"tenor", "tenore", "tenori", "tenors"},
    {"bass", "basso", "bassus", "bassi", "basses"},
)
_VOICE_LETTERS = ("s", "a", "t", "b")


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
