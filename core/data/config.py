"""The data half of every training config: which corpus, how it is cut into windows, on which grid."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.music.pianoroll import RollSpec
from core.paths import DEFAULT_CORPUS


@dataclass(frozen=True)
class DataConfig:
    """Training windows of ``bars`` bars every ``hop_bars`` bars from a folder of MIDI files.

    ``data_dir`` is a folder of MIDI files ("" = the bundled chorales) or an ``.npz`` of ready windows
    (``train_active``, ``train_onset``, optionally ``valid_active``, ``valid_onset``). ``transpose`` adds
    copies of the training windows shifted by those semitones.
    """

    data_dir: str = ""
    bars: int = 4
    hop_bars: int = 1
    beats_per_bar: int = 4
    steps_per_beat: int = 4
    lowest_pitch: int = 36
    transpose: tuple[int, ...] = ()

    @property
    def steps_per_bar(self) -> int:
        return self.beats_per_bar * self.steps_per_beat

    @property
    def n_steps(self) -> int:
        """Time steps per training window."""
        return self.bars * self.steps_per_bar

    @property
    def folder(self) -> Path:
        """The MIDI folder to read (the bundled chorales when none is set)."""
        return Path(self.data_dir) if self.data_dir else DEFAULT_CORPUS

    @property
    def is_window_file(self) -> bool:
        return self.data_dir.endswith(".npz")

    def spec(self, n_pitches: int) -> RollSpec:
        """The piano-roll grid of this data for a network of ``n_pitches`` pitches."""
        return RollSpec(self.steps_per_beat, self.lowest_pitch, n_pitches)
