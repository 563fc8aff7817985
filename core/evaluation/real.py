"""The real music every evaluation compares with: windows and pieces of the bundled chorales."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.data.reference import bundled_pieces, bundled_windows


@dataclass(frozen=True)
class RealData:
    """Real windows: ``train`` for memorisation, ``test`` held out; ``pieces`` whole held-out rolls."""

    train: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]
    pieces: Sequence[tuple[np.ndarray, np.ndarray]] = ()


def corpus_real_data(bars: int = 4) -> RealData:
    """Training and held-out windows plus held-out pieces of the bundled corpus (4/4 pieces only)."""
    return RealData(
        train=bundled_windows("train", bars),
        test=bundled_windows("test", bars),
        pieces=bundled_pieces("test"),
    )
