"""The roll cache: accepted files' piano-rolls stored by content hash, so a second load starts no parser.

A cached roll is one ``.npz`` in ``.cache/rolls/`` (or ``$GMS_CACHE_DIR/rolls``): a uint8 array of velocities
(1–127 where active) with :data:`ONSET_BIT` set where a note starts, plus the file's summary as JSON. The key
hashes the file's bytes with everything that changes the roll (grid, codec version, limits). The folder is
kept within :attr:`core.budgets.Budgets.disk_rolls_bytes` (least recently read rolls deleted first).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import zipfile
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path

import numpy as np

from core.budgets import BUDGETS
from core.eviction import budget_for, touch
from core.files import write_npz_atomic
from core.midi.score import MidiLimits
from core.music.pianoroll import CODEC_VERSION, PianoRoll, RollSpec
from core.paths import cache_subdir

ONSET_BIT = np.uint8(0x80)
"""A cached roll is one uint8 array: velocity (1–127 where active), plus this bit where a note starts."""


def cache_dir() -> Path:
    """Where cached rolls live: ``rolls`` in the cache folder (see :mod:`core.paths`)."""
    return cache_subdir("rolls")


def cache_key(data: bytes, spec: RollSpec, limits: MidiLimits, piece_steps: int) -> str:
    """sha256 of the file bytes, the grid, the codec version, the limits the file was accepted under and
    the steps a piece may keep (:attr:`core.data.limits.CorpusLimits.piece_steps`)."""
    return hashlib.sha256(data + _settings_bytes(spec, limits, piece_steps)).hexdigest()


@lru_cache(maxsize=16)
def _settings_bytes(spec: RollSpec, limits: MidiLimits, piece_steps: int) -> bytes:
    settings = {"spec": asdict(spec), "codec": CODEC_VERSION, "limits": asdict(limits), "steps": piece_steps}
    return json.dumps(settings, sort_keys=True).encode()


def write_roll(key: str, roll: PianoRoll, info: dict) -> None:
    """Store a roll and its file's summary under ``key``; a read-only or full disk only costs speed."""
    cells = roll.velocity | np.where(roll.onset, ONSET_BIT, np.uint8(0))
    info = {**info, "tempo_bpm": roll.tempo_bpm, "beats_per_bar": roll.beats_per_bar}
    folder = cache_dir()
    with contextlib.suppress(OSError):
        path = write_npz_atomic(folder / f"{key}.npz", {"cells": cells, "info": np.array(json.dumps(info))})
        budget_for(folder, BUDGETS.disk_rolls_bytes).wrote(folder, path.stat().st_size)


def read_roll(key: str, spec: RollSpec) -> tuple[PianoRoll, dict] | None:
    """The roll and summary stored under ``key``, or None when there is none (or it is unreadable)."""
    path = cache_dir() / f"{key}.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            cells, info = stored["cells"], json.loads(str(stored["info"]))
        velocity = cells & np.uint8(0x7F)
        roll = PianoRoll(velocity > 0, cells >= ONSET_BIT, velocity, spec)
        roll.tempo_bpm, roll.beats_per_bar = float(info["tempo_bpm"]), int(info["beats_per_bar"])
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile):
        return None
    touch(path)
    return roll, info
