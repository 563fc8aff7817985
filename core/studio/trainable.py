"""Whether a corpus can be trained on, and why not, in words: checked before it becomes anyone's corpus.

A model learns from windows of ``bars`` bars of ``beats_per_bar`` beats (4 bars of 4/4 by default, see
:class:`core.data.config.DataConfig`), one starting every bar. A piece gives windows only when it is in
that metre and lasts at least one window; a corpus without a single window cannot train at all (the run
would fail with "no training windows"), so the Dataset page refuses it and says how long is enough.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.data import Corpus
from core.data.config import DataConfig
from core.music.pianoroll import PianoRoll

FEW_WINDOWS = 32
"""Below this many windows a model can only memorise them: allowed, with a warning."""


class CorpusTooShort(ValueError):
    """The corpus gives no training window; the message says how long a piece must be."""


@dataclass(frozen=True)
class Trainability:
    """How much a corpus gives to train on."""

    windows: int
    pieces: int
    usable_pieces: int
    data: DataConfig

    @property
    def needed(self) -> str:
        """What one window needs, in words: "4 bars of 4/4 (16 beats)"."""
        beats = self.data.bars * self.data.beats_per_bar
        return f"{self.data.bars} bars of {self.data.beats_per_bar}/4 ({beats} beats)"

    @property
    def warning(self) -> str | None:
        """A sentence when there is little to learn from (None when there is enough)."""
        if 0 < self.windows < FEW_WINDOWS:
            return (
                f"Only {self.windows} training window{'s' if self.windows != 1 else ''}: a model can learn "
                f"little more than these by heart. Pieces of {self.needed} or longer give more."
            )
        return None


def trainability(corpus: Corpus, data: DataConfig | None = None) -> Trainability:
    """The number of training windows a corpus gives and how many of its pieces give any."""
    data = data or DataConfig()
    counts = [piece_window_count(piece.roll, data) for piece in corpus.pieces]
    return Trainability(sum(counts), len(counts), sum(count > 0 for count in counts), data)


def piece_window_count(roll: PianoRoll, data: DataConfig) -> int:
    """Training windows one piece gives (0 when it is too short or in another metre)."""
    if roll.beats_per_bar != data.beats_per_bar:
        return 0
    steps = data.bars * data.beats_per_bar * roll.spec.steps_per_beat
    hop = data.hop_bars * data.beats_per_bar * roll.spec.steps_per_beat
    return (roll.n_steps - steps) // hop + 1 if roll.n_steps >= steps else 0


def piece_verdict(roll: PianoRoll, data: DataConfig | None = None) -> str:
    """One piece for training, in words: "gives 3 windows", "too short: 0.1 of 4 bars", "in 3/4: not used"."""
    data = data or DataConfig()
    if roll.beats_per_bar != data.beats_per_bar:
        return f"in {roll.beats_per_bar}/4, not {data.beats_per_bar}/4: not used for training"
    count = piece_window_count(roll, data)
    if count == 0:
        bars = roll.n_steps / (data.beats_per_bar * roll.spec.steps_per_beat)
        return f"too short to train on: {bars:.1f} of the {data.bars} bars one window needs"
    return f"gives {count} training window{'s' if count != 1 else ''}"


def require_trainable(corpus: Corpus, data: DataConfig | None = None) -> Trainability:
    """The corpus's trainability; :class:`CorpusTooShort` when it gives no training window at all."""
    found = trainability(corpus, data)
    if found.windows == 0:
        raise CorpusTooShort(
            f"none of its {found.pieces} piece{'s' if found.pieces != 1 else ''} is long enough to train on: "
            f"a piece must be in {found.data.beats_per_bar}/4 and last at least {found.needed}"
        )
    return found
