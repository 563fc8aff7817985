"""The parsed form of a MIDI file: plain numpy arrays, cheap to pickle, cache and send between processes.

A :class:`Score` is what :mod:`core.midi.parser` returns after it has parsed and validated a file. It holds no
PrettyMIDI object (those cost megabytes each), only the notes and the timing grid that the piano-roll codec
needs.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np

from core.budgets import BUDGETS

NOTE_DTYPE = np.dtype(
    [
        ("pitch", "u1"),
        ("velocity", "u1"),
        ("program", "u1"),
        ("is_drum", "?"),
        ("track", "i2"),
        ("start", "f8"),
        ("end", "f8"),
    ]
)
"""One row per note; ``start`` and ``end`` are in seconds; ``track`` indexes :attr:`Score.track_names`."""

MARKER_TYPES = ("marker", "text", "cue_marker")
"""The MIDI meta events kept as :attr:`Score.markers` (lyrics, copyright and names are not)."""
MAX_MARKERS = 10_000
"""Markers kept per file; later ones are dropped (a file could hold hundreds of thousands)."""
MAX_TEXT_CHARS = 200
"""Longest marker text or track name kept; longer ones are cut."""


class MidiRejected(Exception):
    """A MIDI file could not be used. ``str(error)`` is a sentence meant for the person who supplied it."""


@dataclass(frozen=True)
class MidiLimits:
    """Every limit applied to an untrusted MIDI file (see :mod:`core.midi.parser`); the budgets among them
    come from :data:`core.budgets.BUDGETS`."""

    max_bytes: int = BUDGETS.midi_file_bytes
    max_tracks: int = 128
    max_ticks_per_beat: int = 960
    """Files with a finer resolution are rescaled to at most this many ticks per beat before parsing."""
    max_ticks: int = 5_000_000
    """Latest event tick after rescaling (the parser allocates 8 bytes per tick)."""
    max_seconds: float = BUDGETS.midi_seconds
    max_notes: int = 50_000
    max_polyphony: int = 256
    max_beats: int = 20_000
    """Beats in the whole file (guards the beat grid against absurd tempos)."""
    timeout_s: float = BUDGETS.parse_seconds
    """Wall-clock (and CPU) seconds the worker may spend on one file."""
    worker_memory_mb: int = BUDGETS.parse_worker_mb
    """Address space the worker may add on top of its size after start-up."""


@dataclass
class Score:
    """A validated MIDI file as arrays. Times are in seconds."""

    name: str
    notes: np.ndarray
    beat_times: np.ndarray
    downbeat_times: np.ndarray
    tempo_bpm: float
    duration_s: float
    time_signatures: list[tuple[int, int, float]] = field(default_factory=list)
    key_signatures: list[tuple[int, float]] = field(default_factory=list)
    n_tracks: int = 1
    n_instruments: int = 1
    track_names: list[str] = field(default_factory=list)
    """One name per instrument (``""`` when the file names none); the ``track`` field of a note indexes it."""
    markers: list[tuple[str, float]] = field(default_factory=list)
    """Marker, text and cue-point events (:data:`MARKER_TYPES`) as ``(text, time in s)``, sorted by time."""

    def track_name(self, track: int) -> str:
        """The name of one instrument (``""`` when it has none or the index is unknown)."""
        return self.track_names[track] if 0 <= track < len(self.track_names) else ""

    @property
    def pitched_notes(self) -> np.ndarray:
        """The notes that are not percussion."""
        return self.notes[~self.notes["is_drum"]]

    @property
    def meter(self) -> tuple[int, int]:
        """The time signature in force longest (4/4 when the file states none).

        Not simply the first one: a pickup written as a short first bar (say 1/4 before a piece in 4/4)
        must not decide the meter of the whole piece.
        """
        if not self.time_signatures:
            return (4, 4)
        starts = [time for _, _, time in self.time_signatures]
        ends = [*starts[1:], max(self.duration_s, starts[-1])]
        spans: dict[tuple[int, int], float] = {}
        for (numerator, denominator, start), end in zip(self.time_signatures, ends, strict=True):
            spans[(numerator, denominator)] = spans.get((numerator, denominator), 0.0) + end - start
        return max(spans, key=lambda meter: (spans[meter], -list(spans).index(meter)))

    def summary(self) -> str:
        """One line a person can read: notes, duration, tempo and meter."""
        numerator, denominator = self.meter
        minutes, seconds = divmod(round(self.duration_s), 60)
        return (
            f"{len(self.pitched_notes)} notes, {minutes}:{seconds:02d} min, "
            f"{self.tempo_bpm:.0f} bpm, {numerator}/{denominator}, "
            f"{self.n_instruments} instrument{'s' if self.n_instruments != 1 else ''}"
        )

    def to_pretty_midi(self):  # -> pretty_midi.PrettyMIDI (imported lazily)
        """Rebuild a PrettyMIDI object: one instrument per (track, program, drum) group, named after its
        track; the markers become text events."""
        # pretty_midi (with mido) takes about 0.3 s to import; only this conversion needs it
        import pretty_midi

        pm = pretty_midi.PrettyMIDI(initial_tempo=float(self.tempo_bpm))
        keys = np.unique(self.notes[["track", "program", "is_drum"]]) if len(self.notes) else []
        for track, program, is_drum in keys:
            rows = self.notes[
                (self.notes["track"] == track)
                & (self.notes["program"] == program)
                & (self.notes["is_drum"] == is_drum)
            ]
            inst = pretty_midi.Instrument(
                program=int(program), is_drum=bool(is_drum), name=self.track_name(int(track))
            )
            inst.notes = [
                pretty_midi.Note(int(r["velocity"]), int(r["pitch"]), float(r["start"]), float(r["end"]))
                for r in rows
            ]
            pm.instruments.append(inst)
        for numerator, denominator, time in self.time_signatures:
            pm.time_signature_changes.append(pretty_midi.TimeSignature(numerator, denominator, time))
        pm.text_events = [pretty_midi.Text(text, time) for text, time in self.markers]
        return pm


def clean_text(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """Untrusted MIDI text made safe to keep: UTF-8 read back where the file used it (MIDI text is decoded
    as Latin-1), control characters dropped, surrounding spaces stripped, at most ``limit`` characters."""
    with contextlib.suppress(UnicodeError):
        text = text.encode("latin-1").decode("utf-8")
    text = "".join(ch for ch in text if ch.isprintable() or ch == " ").strip()
    return text[:limit]
