"""Cheap structural checks of untrusted MIDI bytes, in pure Python, before any parser sees them.

:func:`check_structure` walks the chunks and every track's events without building messages. It rejects
what would make mido or pretty_midi slow, memory-hungry or silently wrong (over-long variable-length
numbers, events far in the future, SMPTE timing, format 2, truncated chunks) and returns a cleaned file:
the RIFF wrapper removed, unknown chunks dropped, only the declared tracks kept.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from core.midi.score import MidiLimits, MidiRejected

MAX_VLQ_BYTES = 4
"""The longest variable-length quantity the MIDI standard allows."""

DEFAULT_TEMPO_US = 500_000
"""Microseconds per beat when a file sets no tempo (120 bpm)."""

_FOREIGN_SIGNATURES = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive",
    b"ID3": "an MP3 file",
    b"OggS": "an Ogg audio file",
    b"fLaC": "a FLAC audio file",
    b"<": "a text or web page",
}

_SYSTEM_DATA_BYTES = {0xF1: 1, 0xF2: 2, 0xF3: 1, 0xF6: 0, 0xF8: 0, 0xFA: 0, 0xFB: 0, 0xFC: 0, 0xFE: 0}
"""Data bytes of the system messages mido accepts inside a track (0xF4, 0xF5, 0xF9, 0xFD are undefined)."""


@dataclass(frozen=True)
class MidiLayout:
    """What the structural scan learned about a file that passed it."""

    data: bytes
    """The cleaned Standard MIDI File: header plus the declared ``MTrk`` chunks."""
    format: int
    n_tracks: int
    ticks_per_beat: int
    target_ticks_per_beat: int
    """Resolution the worker rescales to (equal to ``ticks_per_beat`` when no rescaling is needed)."""
    last_tick: int
    seconds_estimate: float
    n_note_ons: int


@dataclass(frozen=True)
class _TrackScan:
    last_tick: int
    n_note_ons: int
    tempos: list[tuple[int, int]]
    """(tick, microseconds per beat) of the track's tempo events."""


def check_structure(data: bytes, limits: MidiLimits) -> MidiLayout:
    """Validate the container and every event's framing; raise :class:`MidiRejected` on the first problem."""
    if len(data) == 0:
        raise MidiRejected("the file is empty")
    if len(data) > limits.max_bytes:
        raise MidiRejected(too_large_message(len(data), limits.max_bytes))
    data = unwrap_riff(data)
    file_format, declared_tracks, division = _read_header(data, limits)
    tracks = _track_chunks(data, declared_tracks)
    scans = [_scan_track(data, start, end, index) for index, (start, end) in enumerate(tracks)]
    target = rescaled_resolution(division, limits.max_ticks_per_beat)
    last_tick = max(scan.last_tick for scan in scans)
    seconds = estimate_seconds(last_tick, division, scans[0].tempos)
    _check_extent(last_tick * target // division, seconds, limits)
    n_note_ons = sum(scan.n_note_ons for scan in scans)
    if n_note_ons > limits.max_notes:
        raise MidiRejected(f"the file has {n_note_ons:,} notes; the limit is {limits.max_notes:,}")
    header = b"MThd" + struct.pack(">IHHH", 6, file_format, len(tracks), division)
    body = b"".join(data[start - 8 : end] for start, end in tracks)
    return MidiLayout(
        header + body, file_format, len(tracks), division, target, last_tick, seconds, n_note_ons
    )


def unwrap_riff(data: bytes) -> bytes:
    """Return the MIDI data inside a RIFF ``RMID`` wrapper, or ``data`` unchanged when it has none."""
    if not data.startswith(b"RIFF"):
        return data
    if data[8:12] != b"RMID":
        raise MidiRejected("this is a RIFF file (such as a WAV recording), not a MIDI file")
    pos = 12
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if chunk_id == b"data":
            return data[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size & 1)
    raise MidiRejected("this RMID file has no MIDI data inside")


def rescaled_resolution(ticks_per_beat: int, max_ticks_per_beat: int) -> int:
    """The resolution to parse at: unchanged when allowed, else an exact divisor when one is close."""
    if ticks_per_beat <= max_ticks_per_beat:
        return ticks_per_beat
    smallest_factor = -(-ticks_per_beat // max_ticks_per_beat)
    for factor in range(smallest_factor, 2 * smallest_factor + 1):
        if ticks_per_beat % factor == 0:
            return ticks_per_beat // factor
    return max_ticks_per_beat


def estimate_seconds(last_tick: int, ticks_per_beat: int, tempos: list[tuple[int, int]]) -> float:
    """Seconds from tick 0 to ``last_tick`` under the given tempo map (as pretty_midi reads it)."""
    seconds, tick, tempo = 0.0, 0, DEFAULT_TEMPO_US
    for change_tick, change_tempo in tempos:
        if change_tick >= last_tick:
            break
        seconds += (change_tick - tick) * tempo / 1e6 / ticks_per_beat
        tick, tempo = change_tick, change_tempo
    return seconds + (last_tick - tick) * tempo / 1e6 / ticks_per_beat


def format_size(n_bytes: int) -> str:
    """``1536`` → ``"1.5 KB"``, ``3355443`` → ``"3.2 MB"``."""
    if n_bytes >= 1 << 20:
        return f"{n_bytes / (1 << 20):.1f} MB".replace(".0 MB", " MB")
    if n_bytes >= 1 << 10:
        return f"{n_bytes / (1 << 10):.1f} KB".replace(".0 KB", " KB")
    return f"{n_bytes} bytes"


def too_large_message(n_bytes: int, limit: int) -> str:
    """``"the file is 3.2 MB; the limit is 1 MB"``; in bytes where both sizes would read the same."""
    size, limit_text = format_size(n_bytes), format_size(limit)
    if size == limit_text:
        size, limit_text = f"{n_bytes:,} bytes", f"{limit_text} ({limit:,} bytes)"
    return f"the file is {size}; the limit is {limit_text}"


def format_duration(seconds: float) -> str:
    """A duration in the largest unit that reads naturally (``"12 min"``, ``"3.1 years"``)."""
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("hours", 3600)):
        if seconds >= 2 * size:
            return f"{seconds / size:,.1f} {unit}"
    if seconds >= 120:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def _read_header(data: bytes, limits: MidiLimits) -> tuple[int, int, int]:
    if not data.startswith(b"MThd"):
        raise MidiRejected(_not_midi_message(data))
    if len(data) < 14:
        raise MidiRejected("the file is truncated: its MIDI header is incomplete")
    header_size, file_format, n_tracks, division = struct.unpack(">IHHH", data[4:14])
    if header_size < 6:
        raise MidiRejected("the file is damaged: its MIDI header is too short")
    if file_format == 2:
        raise MidiRejected(
            "the file is MIDI format 2 (independent patterns), which cannot be played as one piece; "
            "save it as format 0 or 1"
        )
    if file_format > 2:
        raise MidiRejected(f"the file declares MIDI format {file_format}, which does not exist")
    if n_tracks == 0:
        raise MidiRejected("the file contains no tracks")
    if n_tracks > limits.max_tracks:
        raise MidiRejected(f"the file declares {n_tracks:,} tracks; the limit is {limits.max_tracks}")
    if division & 0x8000:
        raise MidiRejected(
            "the file uses SMPTE time-code timing, which is not supported; use beat-based timing"
        )
    if division == 0:
        raise MidiRejected("the file is damaged: it declares 0 ticks per beat")
    return file_format, n_tracks, division


def _not_midi_message(data: bytes) -> str:
    for signature, what in _FOREIGN_SIGNATURES.items():
        if data.startswith(signature):
            return f"this is not a MIDI file (it looks like {what})"
    return "this is not a MIDI file (it does not start with a MIDI header)"


def _track_chunks(data: bytes, declared_tracks: int) -> list[tuple[int, int]]:
    """(start, end) of the first ``declared_tracks`` ``MTrk`` chunks' payloads; other chunks are skipped."""
    header_size = struct.unpack(">I", data[4:8])[0]
    pos, tracks = 8 + header_size, []
    while len(tracks) < declared_tracks and pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], struct.unpack(">I", data[pos + 4 : pos + 8])[0]
        if pos + 8 + size > len(data):
            raise MidiRejected(f"the file is truncated: track {len(tracks) + 1} is cut off")
        if chunk_id == b"MTrk":
            tracks.append((pos + 8, pos + 8 + size))
        pos += 8 + size
    if len(tracks) < declared_tracks:
        raise MidiRejected(
            f"the file is truncated: it declares {_tracks(declared_tracks)} but contains {len(tracks)}"
        )
    return tracks


def _tracks(count: int) -> str:
    return f"{count} track" if count == 1 else f"{count} tracks"


def _check_extent(last_tick: int, seconds: float, limits: MidiLimits) -> None:
    if seconds > limits.max_seconds:
        limit = format_duration(limits.max_seconds)
        raise MidiRejected(f"the file lasts about {format_duration(seconds)}; the limit is {limit}")
    if last_tick > limits.max_ticks:
        raise MidiRejected(
            f"the file's timing is implausible: its last event is at tick {last_tick:,} "
            f"(the limit is {limits.max_ticks:,}); it is probably damaged"
        )


def _read_vlq(chunk: bytes, pos: int, track: int) -> tuple[int, int]:
    """Read a variable-length quantity of at most 4 bytes; return (value, next position)."""
    value = 0
    for _ in range(MAX_VLQ_BYTES):
        byte = chunk[pos]
        pos += 1
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, pos
    raise MidiRejected(
        f"the file is damaged: track {track} has a time or length field longer than the 4 bytes MIDI allows"
    )


def _scan_track(data: bytes, start: int, end: int, index: int) -> _TrackScan:
    """Count ticks, note-ons and tempo events of one track."""
    chunk, track = data[start:end], index + 1
    tick, n_note_ons, tempos = 0, 0, []
    try:
        for delta, status, meta_type, first, last in iter_track_events(chunk, track):
            tick += delta
            if status >> 4 == 0x9 and chunk[last - 1] > 0:
                n_note_ons += 1
            elif status == 0xFF and meta_type == 0x51 and last - first == 3:
                tempos.append((tick, _read_tempo(chunk[first:last], track)))
    except IndexError:
        raise MidiRejected(f"the file is damaged: track {track} ends in the middle of an event") from None
    return _TrackScan(tick, n_note_ons, tempos)


def iter_track_events(chunk: bytes, track: int) -> Iterator[tuple[int, int, int, int, int]]:
    """Frame one track's events exactly as mido does, without decoding them.

    Yields ``(delta, status, meta_type, start, end)``: ``chunk[start:end]`` is the event's data (channel
    message data bytes, or a meta/sysex payload); ``meta_type`` is 0 for non-meta events. Running status
    is resolved. Raises :class:`MidiRejected` for invalid framing and ``IndexError`` for a cut-off event.
    """
    pos, running, size = 0, 0, len(chunk)
    while pos < size:
        delta, pos = _read_vlq(chunk, pos, track)
        status, meta_type = chunk[pos], 0
        if status < 0x80:
            if not running:
                raise MidiRejected(f"the file is damaged: track {track} has data without a status byte")
            status = running
            if status in (0xF0, 0xF7):
                pos += 1  # mido consumes the byte it peeked, then reads the sysex length
        else:
            pos += 1
            if status != 0xFF:
                running = status
        if status == 0xFF:
            meta_type = chunk[pos]
            length, pos = _read_vlq(chunk, pos + 1, track)
            end = pos + length
        elif status in (0xF0, 0xF7):
            length, pos = _read_vlq(chunk, pos, track)
            end = pos + length
        elif status < 0xF0:
            end = pos + (1 if 0xC0 <= status < 0xE0 else 2)
            if chunk[pos] > 0x7F or chunk[end - 1] > 0x7F:  # one or two data bytes: first and last
                raise _invalid_data_byte(track)
        else:
            end = pos + _system_data_bytes(status, track)
            if max(chunk[pos:end], default=0) > 0x7F:
                raise _invalid_data_byte(track)
        if end > size:
            raise IndexError("event runs past the end of the track")
        yield delta, status, meta_type, pos, end
        pos = end


def _invalid_data_byte(track: int) -> MidiRejected:
    return MidiRejected(f"the file is damaged: track {track} has a message with an invalid data byte")


def _system_data_bytes(status: int, track: int) -> int:
    if status not in _SYSTEM_DATA_BYTES:
        raise MidiRejected(f"the file is damaged: track {track} has an undefined status byte 0x{status:02X}")
    return _SYSTEM_DATA_BYTES[status]


def _read_tempo(value: bytes, track: int) -> int:
    tempo = int.from_bytes(value, "big")
    if tempo == 0:
        raise MidiRejected(f"the file is damaged: track {track} sets a tempo of zero")
    return tempo
