"""The bundled chorales as reference windows: what the ranker is fitted on and evaluations compare with."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from core.data.corpus import Corpus, load_folder
from core.data.windows import windows
from core.paths import DEFAULT_CORPUS


@lru_cache(maxsize=1)
def bundled_corpus() -> Corpus:
    """The bundled chorales on the default grid (loaded once per process; later loads hit the roll cache)."""
    return load_folder(DEFAULT_CORPUS)


def bundled_windows(split: str, bars: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Windows of ``bars`` bars of 4/4 (hop one bar) from one split of the bundled chorales."""
    return windows(bundled_corpus().split(split), bars=bars, hop_bars=1, beats_per_bar=4)


def bundled_pieces(split: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """Whole 4/4 pieces of one split as ``(active, onset)`` pairs."""
    return [
        (p.roll.active, p.roll.onset)
        for p in bundled_corpus().split(split).pieces
        if p.roll.beats_per_bar == 4
    ]
