"""Configuration of the LSTM generator and the LSTM discriminator."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelConfig:
    """Sizes of both networks and the generator's output form.

    ``voices=True`` makes the generator voice-aware: each step it first picks how many notes sound
    (0..``max_voices``) and then which pitches (Gumbel top-k over pitch scores). ``voices=False``
    samples every pitch as an independent Bernoulli.
    """

    n_pitches: int = 48
    latent_dim: int = 32
    noise_dim: int = 8
    g_hidden: int = 256
    g_layers: int = 2
    g_dropout: float = 0.1
    d_hidden: int = 128
    d_layers: int = 2
    d_dropout: float = 0.1
    voices: bool = True
    max_voices: int = 6

    @property
    def frame_dim(self) -> int:
        """Width of one roll frame: active then onset channels."""
        return 2 * self.n_pitches
