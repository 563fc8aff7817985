"""The sandboxed side of MIDI loading: a worker process that parses checked files into Scores.

Started by :class:`core.midi.parser.MidiParser` as ``python -m core.midi.worker --memory-mb N`` with resource
limits already set; speaks the protocol of :mod:`core.midi.protocol` on stdin/stdout.

Events are framed by :func:`core.midi.precheck.iter_track_events` (the framing the parent already
validated) and built as mido messages: channel messages directly, meta/sysex/system messages through
mido's own decoders. pretty_midi then reads the resulting ``mido.MidiFile``. This is about three times
faster than ``mido.MidiFile(file=...)``, which decodes every message through its generic checks.
"""

from __future__ import annotations

import argparse
import json
import resource
import struct
import sys
import warnings
from typing import BinaryIO

import mido
import numpy as np
import pretty_midi
from mido.midifiles.meta import build_meta_message, meta_charset

from core.midi.precheck import iter_track_events
from core.midi.protocol import encode_json, read_frame, score_to_frames, write_frames
from core.midi.score import (
    MARKER_TYPES,
    MAX_MARKERS,
    NOTE_DTYPE,
    MidiLimits,
    MidiRejected,
    Score,
    clean_text,
)

MAX_REASON_CHARS = 160
_CHANNEL_MESSAGES = {
    0x8: ("note_off", "note", "velocity"),
    0x9: ("note_on", "note", "velocity"),
    0xA: ("polytouch", "note", "value"),
    0xB: ("control_change", "control", "value"),
    0xC: ("program_change", "program"),
    0xD: ("aftertouch", "value"),
}


class _TrackMessage(mido.Message):
    """A mido message whose attributes can be reassigned without re-validation (pretty_midi rewrites
    ``time`` once per event); its values were validated when the bytes were framed."""

    __setattr__ = object.__setattr__


# --- parsing -------------------------------------------------------------------------------------------


def read_midi(data: bytes, ticks_per_beat: int) -> mido.MidiFile:
    """Build a ``mido.MidiFile`` from checked SMF bytes, rescaled to ``ticks_per_beat``."""
    file_format, n_tracks, old_ticks_per_beat = struct.unpack(">HHH", data[8:14])
    tracks, pos = [], 14
    with meta_charset("latin1"):
        for index in range(n_tracks):
            (size,) = struct.unpack(">I", data[pos + 4 : pos + 8])
            chunk = data[pos + 8 : pos + 8 + size]
            tracks.append(read_track(chunk, index + 1, ticks_per_beat, old_ticks_per_beat))
            pos += 8 + size
    return mido.MidiFile(type=file_format, ticks_per_beat=ticks_per_beat, charset="latin1", tracks=tracks)


def read_track(chunk: bytes, track: int, new_resolution: int, old_resolution: int) -> mido.MidiTrack:
    """One track's messages; delta times rescaled by rounding absolute times (no drift)."""
    messages = mido.MidiTrack()
    absolute, previous_scaled = 0, 0
    for delta, status, meta_type, start, end in iter_track_events(chunk, track):
        if new_resolution != old_resolution:
            absolute += delta
            scaled = (absolute * new_resolution + old_resolution // 2) // old_resolution
            delta, previous_scaled = scaled - previous_scaled, scaled
        messages.append(build_message(delta, status, meta_type, chunk[start:end]))
    return messages


def build_message(delta: int, status: int, meta_type: int, payload: bytes):
    """The mido message for one framed event."""
    kind = status >> 4
    if kind in _CHANNEL_MESSAGES:
        message = _TrackMessage.__new__(_TrackMessage)
        names = _CHANNEL_MESSAGES[kind]
        fields = vars(message)
        fields["type"], fields["time"], fields["channel"] = names[0], delta, status & 0x0F
        fields.update(zip(names[1:], payload, strict=True))
        return message
    if kind == 0xE:
        return _TrackMessage(
            "pitchwheel", channel=status & 0x0F, pitch=(payload[0] | payload[1] << 7) - 8192, time=delta
        )
    if status == 0xFF:
        return build_meta_message(meta_type, list(payload), delta)
    if status in (0xF0, 0xF7):
        return mido.Message("sysex", data=payload.removeprefix(b"\xf0").removesuffix(b"\xf7"), time=delta)
    return mido.Message.from_bytes([status, *payload], time=delta)


def parse_score(data: bytes, name: str, limits: MidiLimits, ticks_per_beat: int) -> Score:
    """Parse checked MIDI bytes into a validated :class:`Score` (raises on any problem)."""
    midi = read_midi(data, ticks_per_beat)
    midi.tracks = [track for track in midi.tracks if len(track)]
    if not midi.tracks:
        raise MidiRejected("the file has no notes")
    pm = pretty_midi.PrettyMIDI(mido_object=midi)
    duration = float(pm.get_end_time())
    if duration > limits.max_seconds:
        raise MidiRejected(
            f"the file lasts {duration / 60:.1f} min; the limit is {limits.max_seconds / 60:.0f} min"
        )
    notes = notes_array(pm)
    check_notes(notes, limits)
    check_beat_count(pm, duration, limits)
    return Score(
        name=name,
        notes=notes,
        beat_times=np.asarray(pm.get_beats(), dtype=np.float64),
        downbeat_times=np.asarray(pm.get_downbeats(), dtype=np.float64),
        tempo_bpm=first_tempo(pm),
        duration_s=duration,
        time_signatures=[(ts.numerator, ts.denominator, float(ts.time)) for ts in pm.time_signature_changes],
        key_signatures=[(ks.key_number, float(ks.time)) for ks in pm.key_signature_changes],
        n_tracks=len(midi.tracks),
        n_instruments=len(pm.instruments),
        track_names=[clean_text(inst.name) for inst in pm.instruments],
        markers=markers(midi, pm),
    )


def markers(midi: mido.MidiFile, pm) -> list[tuple[str, float]]:
    """Marker, text and cue-point events of every track as ``(text, seconds)``, sorted by time.

    Reads ``midi`` after pretty_midi has loaded it: pretty_midi rewrites every event's ``time`` to its
    absolute tick. At most :data:`MAX_MARKERS` are kept (the earliest).
    """
    found = [
        (int(event.time), clean_text(event.text))
        for track in midi.tracks
        for event in track
        if event.type in MARKER_TYPES
    ]
    found.sort(key=lambda item: item[0])
    return [(text, float(pm.tick_to_time(tick))) for tick, text in found[:MAX_MARKERS]]


def notes_array(pm) -> np.ndarray:
    """All notes of all instruments as ``NOTE_DTYPE`` rows sorted by start then pitch."""
    rows = [
        (note.pitch, note.velocity, inst.program, inst.is_drum, index, note.start, note.end)
        for index, inst in enumerate(pm.instruments)
        for note in inst.notes
    ]
    notes = np.array(rows, dtype=NOTE_DTYPE)
    return notes[np.lexsort((notes["pitch"], notes["start"]))]


def max_polyphony(starts: np.ndarray, ends: np.ndarray) -> int:
    """Most notes sounding at once; a note ending when another starts does not overlap it."""
    if len(starts) == 0:
        return 0
    times = np.concatenate([starts, ends])
    steps = np.concatenate([np.ones(len(starts), np.int64), -np.ones(len(ends), np.int64)])
    order = np.lexsort((steps, times))
    return int(np.cumsum(steps[order]).max())


def check_notes(notes: np.ndarray, limits: MidiLimits) -> None:
    """Apply the note-count, pitched-content and polyphony limits."""
    if len(notes) == 0:
        raise MidiRejected("the file has no notes")
    if len(notes) > limits.max_notes:
        raise MidiRejected(f"the file has {len(notes):,} notes; the limit is {limits.max_notes:,}")
    if notes["is_drum"].all():
        raise MidiRejected("the file only has drums (percussion); it needs at least one pitched note")
    polyphony = max_polyphony(notes["start"], notes["end"])
    if polyphony > limits.max_polyphony:
        raise MidiRejected(
            f"the file has {polyphony:,} notes sounding at once; the limit is {limits.max_polyphony}"
        )


def check_beat_count(pm, duration: float, limits: MidiLimits) -> None:
    """Reject tempos so fast that the beat grid would be enormous (before building it)."""
    times, tempi = pm.get_tempo_changes()
    ends = np.append(times[1:], max(duration, float(times[-1]) if len(times) else 0.0))
    beats = float(np.sum(np.clip(ends - times, 0, None) * tempi / 60.0)) if len(times) else 0.0
    if beats > limits.max_beats:
        raise MidiRejected(
            f"the file's tempo is implausibly fast ({beats:,.0f} beats in {duration:.0f} s); "
            f"the limit is {limits.max_beats:,} beats"
        )


def first_tempo(pm) -> float:
    _, tempi = pm.get_tempo_changes()
    return float(tempi[0]) if len(tempi) else 120.0


# --- the worker loop -------------------------------------------------------------------------------------


def virtual_memory_mb() -> float:
    """This process's virtual size (VmSize) in MB."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[0])
    return pages * resource.getpagesize() / 2**20


def tighten_memory_limit(extra_mb: int) -> float:
    """Lower RLIMIT_AS to the current size plus ``extra_mb``; return the current size in MB."""
    baseline = virtual_memory_mb()
    cap = int((baseline + extra_mb) * 2**20)
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or cap < hard:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    return baseline


def allow_cpu_seconds(seconds: float) -> None:
    """Let this request use ``seconds`` more CPU time; past that the kernel sends SIGXCPU (fatal)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    wanted = int(usage.ru_utime + usage.ru_stime + seconds) + 1
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (wanted, hard))


def failure_reply(error: BaseException) -> tuple[dict, bool]:
    """The reply for a failed parse and whether the worker should exit afterwards."""
    if isinstance(error, MidiRejected):
        return {"ok": False, "kind": "rejected", "message": str(error)}, False
    if isinstance(error, MemoryError):
        return {"ok": False, "kind": "memory", "message": "out of memory"}, True
    if isinstance(error, RecursionError):
        return {"ok": False, "kind": "damaged", "message": "nested too deeply"}, True
    reason = " ".join(str(error).split())[:MAX_REASON_CHARS] or type(error).__name__
    if isinstance(error, KeyError):  # str() of a KeyError is only the missing key
        reason = f"an event holds an unknown value: {reason}"
    return {"ok": False, "kind": "damaged", "message": reason}, False


def handle_request(request: dict, data: bytes) -> tuple[list[bytes], bool]:
    """Parse one file; return the reply frames and whether the worker should exit."""
    limits = MidiLimits(**request["limits"])
    allow_cpu_seconds(limits.timeout_s)
    try:
        score = parse_score(data, str(request["name"]), limits, int(request["ticks_per_beat"]))
        return score_to_frames(score), False
    except BaseException as error:  # every failure becomes a reply, never a crash
        if isinstance(error, KeyboardInterrupt | SystemExit):
            raise
        reply, fatal = failure_reply(error)
        return [encode_json(reply)], fatal


def serve(stdin: BinaryIO, stdout: BinaryIO) -> None:
    """Answer requests until the parent closes stdin."""
    while True:
        header = read_frame(stdin)
        if header is None:
            return
        data = read_frame(stdin)
        if data is None:
            return
        frames, fatal = handle_request(json.loads(header), data)
        write_frames(stdout, *frames)
        if fatal:
            return


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="MIDI parsing worker (started by core.midi.parser).")
    parser.add_argument("--memory-mb", type=int, default=MidiLimits().worker_memory_mb)
    args = parser.parse_args(argv)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # stray prints must not corrupt the protocol
    warnings.simplefilter("ignore")
    baseline = tighten_memory_limit(args.memory_mb)
    write_frames(stdout, encode_json({"ready": True, "vm_mb": round(baseline, 1)}))
    serve(stdin, stdout)


if __name__ == "__main__":
    main()
