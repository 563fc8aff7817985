"""The wire format between :mod:`core.midi.parser` and its worker (:mod:`core.midi.worker`).

Every frame is a 4-byte big-endian length and a payload. Nothing is pickled: control messages are JSON,
arrays travel as ``np.save`` bytes and are loaded with ``allow_pickle=False``.

- The worker first sends ``{"ready": true, "vm_mb": ...}``.
- A request is two frames: JSON ``{"name", "limits", "ticks_per_beat"}`` and the checked MIDI bytes.
- A reply is JSON ``{"ok": true, "score": {...}, "arrays": [names]}`` followed by one frame per array, or
  ``{"ok": false, "kind": "rejected" | "damaged" | "memory", "message": ...}``.
"""

from __future__ import annotations

import io
import json
import struct
from typing import BinaryIO

import numpy as np

from core.midi.score import NOTE_DTYPE, Score

FRAME_HEADER = struct.Struct(">I")
SCORE_ARRAYS = ("notes", "beat_times", "downbeat_times")


def write_frames(stream: BinaryIO, *payloads: bytes) -> None:
    """Write length-prefixed frames and flush."""
    for payload in payloads:
        stream.write(FRAME_HEADER.pack(len(payload)))
        stream.write(payload)
    stream.flush()


def read_frame(stream: BinaryIO) -> bytes | None:
    """Read one frame from a blocking stream; ``None`` at a clean end of input."""
    header = stream.read(FRAME_HEADER.size)
    if not header:
        return None
    if len(header) < FRAME_HEADER.size:
        raise EOFError("truncated frame header")
    (size,) = FRAME_HEADER.unpack(header)
    payload = stream.read(size)
    if len(payload) < size:
        raise EOFError("truncated frame")
    return payload


def encode_json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def encode_array(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def decode_array(payload: bytes) -> np.ndarray:
    return np.load(io.BytesIO(payload), allow_pickle=False)


def score_to_frames(score: Score) -> list[bytes]:
    """The reply frames for a parsed score: JSON of the scalars, then the arrays."""
    scalars = {
        "name": score.name,
        "tempo_bpm": score.tempo_bpm,
        "duration_s": score.duration_s,
        "time_signatures": score.time_signatures,
        "key_signatures": score.key_signatures,
        "n_tracks": score.n_tracks,
        "n_instruments": score.n_instruments,
        "track_names": score.track_names,
        "markers": score.markers,
    }
    header = encode_json({"ok": True, "score": scalars, "arrays": list(SCORE_ARRAYS)})
    return [header] + [encode_array(getattr(score, name)) for name in SCORE_ARRAYS]


def score_from_frames(scalars: dict, arrays: dict[str, np.ndarray]) -> Score:
    """Rebuild a :class:`Score` from a reply; raises ``ValueError`` (or ``TypeError``) if it is malformed."""
    if arrays["notes"].dtype != NOTE_DTYPE:
        raise ValueError("unexpected notes dtype from the worker")
    return Score(
        name=str(scalars["name"]),
        notes=arrays["notes"],
        beat_times=arrays["beat_times"].astype(np.float64, copy=False),
        downbeat_times=arrays["downbeat_times"].astype(np.float64, copy=False),
        tempo_bpm=float(scalars["tempo_bpm"]),
        duration_s=float(scalars["duration_s"]),
        time_signatures=[(int(n), int(d), float(t)) for n, d, t in scalars["time_signatures"]],
        key_signatures=[(int(k), float(t)) for k, t in scalars["key_signatures"]],
        n_tracks=int(scalars["n_tracks"]),
        n_instruments=int(scalars["n_instruments"]),
        track_names=[str(name) for name in scalars.get("track_names", [])],
        markers=[(str(text), float(time)) for text, time in scalars.get("markers", [])],
    )
