"""Writing what a model made: MIDI files of pieces, and a run checkpoint exported as a checkpoint folder."""

from __future__ import annotations

from pathlib import Path

from core.files import write_bytes_atomic
from core.models.checkpoint import read_checkpoint, write_checkpoint_folder
from core.music.pianoroll import PianoRoll, roll_to_midi_bytes


def write_midis(
    rolls: list[PianoRoll], out_dir: Path, program: int = 0, prefix: str = "sample"
) -> list[Path]:
    """Write each roll as ``<prefix>_<i>.mid`` in ``out_dir``; returns the paths."""
    return [
        write_bytes_atomic(
            Path(out_dir) / f"{prefix}_{index:03d}.mid", roll_to_midi_bytes(roll, program=program)
        )
        for index, roll in enumerate(rolls)
    ]


def export_checkpoint(checkpoint: str | Path, out_dir: str | Path) -> Path:
    """Save a checkpoint's generating network as ``out_dir/model.pt`` + ``config.json`` (and its
    discriminator as ``discriminator.pt`` when it has one)."""
    state, config, extras = read_checkpoint(Path(checkpoint))
    return write_checkpoint_folder(out_dir, state, config, extras)
