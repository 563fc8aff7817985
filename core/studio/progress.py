"""A run's fixed-noise progress strip: the generator's piece from the same noise at every sample interval.

The training loop (:meth:`core.training.loop.Run.save_samples`) samples from the run's seed +
``SAMPLE_SEED_OFFSET`` every ``sample_every`` steps and at the end, into ``samples/step_<n>.npz``. Since
the noise is the same each time, the strip's pieces differ only because the generator learned: played in
order, a class hears it learn.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.families import config_of
from core.files import read_json_or_none
from core.music.pianoroll import PianoRoll, roll_from_arrays
from core.training.runfiles import RunFiles

MAX_ENTRIES = 12
"""At most this many pieces in a strip (evenly spaced over the run, first and last always kept)."""


@dataclass(frozen=True)
class StripEntry:
    """The piece from the fixed noise at one training step."""

    step: int
    roll: PianoRoll


def sample_steps(run_dir: str | Path) -> list[tuple[int, Path]]:
    """``(step, file)`` of every sample batch the run has written, in step order."""
    folder = RunFiles(run_dir).samples
    found = []
    for path in folder.glob("step_*.npz") if folder.is_dir() else []:
        try:
            found.append((int(path.stem.split("_")[1]), path))
        except (IndexError, ValueError):
            continue
    return sorted(found)


def evenly_spaced(count: int, limit: int) -> list[int]:
    """At most ``limit`` indices of ``range(count)``, evenly spread, always with the first and the last."""
    if count <= limit:
        return list(range(count))
    return sorted({round(i * (count - 1) / (limit - 1)) for i in range(limit)})


def fixed_noise_strip(run_dir: str | Path, limit: int = MAX_ENTRIES, piece: int = 0) -> list[StripEntry]:
    """The run's strip: piece ``piece`` of each sample batch as a roll on the run's grid, oldest first.

    Batches that cannot be read (being written, damaged) are skipped; a run without a readable config
    gives an empty strip.
    """
    config = read_json_or_none(RunFiles(run_dir).config)
    if config is None:
        return []
    try:
        cfg = config_of(config)
    except (ValueError, TypeError):
        return []
    files = sample_steps(run_dir)
    entries = []
    for index in evenly_spaced(len(files), limit):
        step, path = files[index]
        try:
            with np.load(path, allow_pickle=False) as data:
                active, onset = data["active"][piece], data["onset"][piece]
        except (OSError, ValueError, KeyError, IndexError):
            continue
        roll = roll_from_arrays(active, onset, spec=cfg.spec, beats_per_bar=cfg.data.beats_per_bar)
        entries.append(StripEntry(step, roll))
    return entries
