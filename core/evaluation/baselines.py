"""Stand-ins for a generator that every evaluation also measures: random cells and shuffled real music."""

from __future__ import annotations

import numpy as np

from core.evaluation.real import RealData
from core.models.base import Samples
from core.ranking.negatives import noise_rolls, shuffled_steps

BASELINES = ("random", "shuffled")


def baseline_sets(real: RealData, n: int, seed: int) -> dict[str, Samples]:
    """``random_roll`` (independent cells at the real density) and ``shuffled_real`` (real windows with
    their time steps shuffled)."""
    rng = np.random.default_rng(seed + 2)
    train_active = real.train[0]
    _, steps, n_pitches = train_active.shape
    density = float(train_active.mean())
    return {
        "random_roll": Samples(*noise_rolls(rng, n, steps, n_pitches, density=density)),
        "shuffled_real": Samples(*shuffled_steps(train_active, rng, n)),
    }


class BaselineSampler:
    """A baseline posing as the generator: ``random`` cells or ``shuffled`` training windows."""

    def __init__(self, kind: str, real: RealData) -> None:
        if kind not in BASELINES:
            raise ValueError(f"the baseline must be one of {', '.join(BASELINES)}, not {kind!r}")
        self.kind, self.real = kind, real

    def sample(self, n: int, bars: int = 4, seed: int = 0, temperature: float = 1.0) -> Samples:
        """``n`` windows of the real length (``bars`` and ``temperature`` do not apply to a baseline)."""
        sets = baseline_sets(self.real, n, seed + 100)
        return sets["random_roll" if self.kind == "random" else "shuffled_real"]
