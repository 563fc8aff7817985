"""Whether a corpus can be trained on: windows per piece, refusals in words."""

from __future__ import annotations

import numpy as np
import pytest

from core.data import Corpus
from core.data.corpus import Piece
from core.music.pianoroll import RollSpec, roll_from_arrays
from core.studio.trainable import CorpusTooShort, piece_verdict, require_trainable, trainability


def piece(name: str, bars: float, beats_per_bar: int = 4) -> Piece:
    steps = int(bars * beats_per_bar * 4)
    active = np.zeros((steps, 48), dtype=bool)
    active[:, 12] = True
    roll = roll_from_arrays(active, active.copy(), spec=RollSpec(n_pitches=48), beats_per_bar=beats_per_bar)
    return Piece(name, roll, "upload", {})


def corpus(*pieces: Piece) -> Corpus:
    return Corpus(pieces=list(pieces), reports=[], spec=RollSpec(n_pitches=48))


def test_a_piece_gives_one_window_per_bar_once_it_lasts_four_bars() -> None:
    assert piece_verdict(piece("a", 6).roll) == "gives 3 training windows"
    assert piece_verdict(piece("b", 4).roll) == "gives 1 training window"
    assert piece_verdict(piece("c", 3.5).roll) == "too short to train on: 3.5 of the 4 bars one window needs"
    assert piece_verdict(piece("d", 8, beats_per_bar=3).roll).startswith("in 3/4, not 4/4")


def test_a_corpus_without_a_window_is_refused_and_says_how_long_is_enough() -> None:
    with pytest.raises(CorpusTooShort, match="at least 4 bars of 4/4 \\(16 beats\\)"):
        require_trainable(corpus(piece("a", 2), piece("b", 8, beats_per_bar=3)))


def test_few_windows_are_allowed_with_a_warning_and_many_without() -> None:
    few = require_trainable(corpus(piece("a", 6), piece("b", 1)))
    assert (few.windows, few.pieces, few.usable_pieces) == (3, 2, 1)
    assert "Only 3 training windows" in few.warning
    assert trainability(corpus(piece("long", 40))).warning is None
