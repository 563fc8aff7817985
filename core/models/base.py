"""What every model family's sampling gives and takes: :class:`Samples` and :class:`SampleRequest`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class SampleRequest:
    """How many pieces of how many steps, and how to draw them (the same seed gives the same pieces)."""

    n: int
    steps: int
    seed: int = 0
    temperature: float = 1.0
    threshold: float | None = None
    """Play a note where its probability reaches this (0–1) instead of sampling (families that can)."""

    def __post_init__(self) -> None:
        if self.n < 1 or self.steps < 1 or self.temperature <= 0:
            raise ValueError("n and bars must be at least 1 and temperature positive")
        if self.threshold is not None and not 0 < self.threshold < 1:
            raise ValueError("threshold must be between 0 and 1")

    def generator(self, device: torch.device | str = "cpu") -> torch.Generator:
        """The random stream of this request."""
        return torch.Generator(device=device).manual_seed(int(self.seed))


@dataclass(frozen=True)
class Samples:
    """Generated pieces as piano-roll arrays: ``active`` and ``onset`` bool [N, T, P] (onset ⊆ active).

    Families that write explicit voices also give ``voices`` int [N, T, 4] (MIDI pitch per step of soprano,
    alto, tenor, bass; -1 for a rest) and ``phrase_end`` bool [N, T] (the steps that end a phrase).
    """

    active: np.ndarray
    onset: np.ndarray
    voices: np.ndarray | None = None
    phrase_end: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.active.ndim != 3 or self.active.shape != self.onset.shape:
            raise ValueError(
                f"samples must be two [N, T, P] arrays, not {self.active.shape}, {self.onset.shape}"
            )

    def __len__(self) -> int:
        return len(self.active)

    def take(self, index: np.ndarray | list[int] | slice) -> Samples:
        """The pieces at ``index``."""
        return Samples(
            self.active[index],
            self.onset[index],
            None if self.voices is None else self.voices[index],
            None if self.phrase_end is None else self.phrase_end[index],
        )

    @classmethod
    def from_frames(cls, frames: torch.Tensor, n_pitches: int) -> Samples:
        """Float frames [N, T, 2P] (active then onset channels) → bool arrays."""
        array = frames.detach().cpu().numpy() > 0.5
        active = array[..., :n_pitches]
        return cls(active, array[..., n_pitches:] & active)


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run the block on one intra-op thread: step-by-step sampling is many tiny operations, which
    extra threads only slow down (several times over on a shared CPU)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def evaluating(net: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """The network in eval mode for the block (dropout off), its training mode restored after."""
    was_training = net.training
    net.eval()
    try:
        yield net
    finally:
        net.train(was_training)
