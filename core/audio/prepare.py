"""MIDI rewritten so that a synthesiser can play it and stop.

FluidSynth renders until every voice is silent, so a stuck note can make it write for ever. Every MIDI is
therefore rewritten through pretty_midi before rendering: explicit note-offs, notes shorter than a few
milliseconds lengthened (a zero-length note would be written note-off first and stick), one channel per
instrument (at most 15 melodic ones, drums on channel 10), notes past ``max_seconds`` dropped or cut, and an
"all sound off" on every channel shortly after the end.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pretty_midi

MAX_MELODIC_INSTRUMENTS = 15
"""MIDI has 16 channels and channel 10 is reserved for drums."""
MIN_NOTE_S = 0.01
"""Shorter notes are lengthened: pretty_midi writes a zero-length note's note-off before its note-on."""
_ALL_SOUND_OFF = 120
_SUSTAIN_PEDAL = 64


@dataclass
class PreparedMidi:
    """MIDI rewritten so that a synthesiser can play it and stop: the object, its bytes and what changed."""

    pm: pretty_midi.PrettyMIDI
    data: bytes
    end_s: float
    changes: list[str] = field(default_factory=list)


def prepare_midi(pm: pretty_midi.PrettyMIDI, max_seconds: float, tail_s: float = 2.0) -> PreparedMidi:
    """Rewrite ``pm`` so it plays and stops: bounded notes, one channel per part, all sound off at the end."""
    counts: Counter = Counter()
    melodic = [_bounded_copy(inst, max_seconds, counts) for inst in pm.instruments if not inst.is_drum]
    drums = [_bounded_copy(inst, max_seconds, counts) for inst in pm.instruments if inst.is_drum]
    changes = _describe_bounds(counts, max_seconds, _end_time(pm))
    melodic = _fit_channels([inst for inst in melodic if inst.notes], changes)
    drums = [inst for inst in drums if inst.notes]
    if len(drums) > 1:
        changes.append(f"{len(drums)} drum parts were merged onto the drum channel")
    parts = melodic + ([_merge(drums, program=0, is_drum=True)] if drums else [])
    out = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=120.0)
    out.instruments = parts
    end_s = max((note.end for inst in parts for note in inst.notes), default=0.0)
    for inst in parts:
        inst.control_changes.append(pretty_midi.ControlChange(_SUSTAIN_PEDAL, 0, end_s))
        inst.control_changes.append(pretty_midi.ControlChange(_ALL_SOUND_OFF, 0, end_s + tail_s))
    buffer = io.BytesIO()
    out.write(buffer)
    return PreparedMidi(pm=out, data=buffer.getvalue(), end_s=end_s, changes=changes)


def _bounded_copy(
    inst: pretty_midi.Instrument, max_seconds: float, counts: Counter
) -> pretty_midi.Instrument:
    """Copy an instrument keeping notes inside [0, max_seconds], each at least MIN_NOTE_S long."""
    copy = pretty_midi.Instrument(program=inst.program, is_drum=inst.is_drum, name=inst.name)
    for note in inst.notes:
        start = max(0.0, note.start)
        if start > max_seconds - MIN_NOTE_S:
            counts["late"] += 1
            continue
        if note.end < start or not 0 <= note.pitch <= 127:
            counts["dropped"] += 1
            continue
        end = max(note.end, start + MIN_NOTE_S)
        if end > max_seconds:
            end = max_seconds
            counts["cut"] += 1
        velocity = int(np.clip(note.velocity, 1, 127))
        copy.notes.append(pretty_midi.Note(velocity, int(note.pitch), start, end))
    copy.control_changes = [cc for cc in inst.control_changes if 0 <= cc.time < max_seconds]
    copy.pitch_bends = [bend for bend in inst.pitch_bends if 0 <= bend.time < max_seconds]
    return copy


def _end_time(pm: pretty_midi.PrettyMIDI) -> float:
    return max((note.end for inst in pm.instruments for note in inst.notes), default=0.0)


def _describe_bounds(counts: Counter, max_seconds: float, end_s: float) -> list[str]:
    changes = []
    if counts["late"] or counts["cut"]:
        limit = _clock(max_seconds)
        changes.append(
            f"only the first {limit} of this {_clock(end_s)} piece {_were(2)} rendered "
            f"(audio is limited to {limit} per piece)"
        )
    if dropped := counts["dropped"]:
        impossible = "with an impossible time or pitch"
        changes.append(f"{_plural(dropped, 'note')} {impossible} {_were(dropped)} left out")
    return changes


def _clock(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}:{rest:02d}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _were(count: int) -> str:
    return "was" if count == 1 else "were"


def _fit_channels(melodic: list[pretty_midi.Instrument], changes: list[str]) -> list[pretty_midi.Instrument]:
    """At most 15 melodic parts: merge parts that share a program, then fold the smallest together."""
    if len(melodic) <= MAX_MELODIC_INSTRUMENTS:
        return melodic
    by_program: dict[int, list[pretty_midi.Instrument]] = {}
    for inst in melodic:
        by_program.setdefault(inst.program, []).append(inst)
    groups = sorted(by_program.values(), key=lambda group: -sum(len(inst.notes) for inst in group))
    merged = [_merge(group, program=group[0].program, is_drum=False) for group in groups]
    if len(merged) > MAX_MELODIC_INSTRUMENTS:
        rest = merged[MAX_MELODIC_INSTRUMENTS - 1 :]
        merged = [
            *merged[: MAX_MELODIC_INSTRUMENTS - 1],
            _merge(rest, program=rest[0].program, is_drum=False),
        ]
    changes.append(f"{len(melodic)} parts were merged into {len(merged)} to fit the MIDI channels")
    return merged


def _merge(parts: list[pretty_midi.Instrument], program: int, is_drum: bool) -> pretty_midi.Instrument:
    merged = pretty_midi.Instrument(program=program, is_drum=is_drum)
    for part in parts:
        merged.notes.extend(part.notes)
        merged.control_changes.extend(part.control_changes)
        merged.pitch_bends.extend(part.pitch_bends)
    merged.notes.sort(key=lambda note: note.start)
    return merged
