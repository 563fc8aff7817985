"""The discriminator as a critic: its verdict on a piece, split exactly into what each time step added.

The LSTM discriminator (:class:`core.models.lstm_gan.LSTMDiscriminator`) reads a piece with a
bidirectional LSTM, pools the per-step states ``h_t`` by mean and by max, and gives one logit:

    logit = w_mean · mean_t(h_t) + w_max · max_t(h_t) + b

Both poolings split over time. The mean part gives each step ``w_mean · h_t / T``; the max part gives
each feature's weighted maximum to the step where that maximum is reached. So

    logit = b + Σ_t c_t,   c_t = w_mean · h_t / T + Σ_{j : argmax_s h_sj = t} w_max[j] · h_tj

exactly (in eval mode, where dropout is off). ``c_t > 0`` pushes the verdict toward "real", ``c_t < 0``
toward "generated". Because the LSTM reads in both directions, ``h_t`` already depends on the whole piece:
``c_t`` is what the discriminator took from step ``t`` *in its context*, not the effect of that step alone.
The probability a person reads is ``D(x) = sigmoid(logit)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.models.base import evaluating
from core.models.lstm_gan import LSTMDiscriminator, ModelConfig


@dataclass(frozen=True)
class CriticOpinion:
    """D's verdict on one piece: the logit, its bias, and the per-step contributions (they sum exactly)."""

    logit: float
    bias: float
    per_step: np.ndarray
    """float [T]: what each step added to the logit (positive = toward "real")."""

    @property
    def probability(self) -> float:
        """D(x): the discriminator's probability that the piece is real music."""
        return float(1.0 / (1.0 + np.exp(-self.logit)))

    def per_bar(self, steps_per_bar: int) -> np.ndarray:
        """The contributions summed over each bar (a last, incomplete bar is summed as it is)."""
        n_bars = -(-len(self.per_step) // steps_per_bar)
        padded = np.zeros(n_bars * steps_per_bar)
        padded[: len(self.per_step)] = self.per_step
        return padded.reshape(n_bars, steps_per_bar).sum(axis=1)


def build_critic(net: ModelConfig, state: dict) -> LSTMDiscriminator:
    """A discriminator with saved weights, in eval mode (raises RuntimeError when they do not fit)."""
    critic = LSTMDiscriminator(net)
    critic.load_state_dict(state)
    return critic.eval()


def frames_of(active: np.ndarray, onset: np.ndarray) -> torch.Tensor:
    """Bool rolls ``[N, T, P]`` (or one ``[T, P]``) → the float frames ``[N, T, 2P]`` the networks read."""
    active = np.asarray(active, dtype=bool)
    onset = np.asarray(onset, dtype=bool) & active
    if active.ndim == 2:
        active, onset = active[None], onset[None]
    return torch.from_numpy(np.concatenate([active, onset], axis=-1).astype(np.float32))


@torch.no_grad()
def critic_opinions(critic: LSTMDiscriminator, frames: torch.Tensor) -> list[CriticOpinion]:
    """D's verdict on each piece of ``frames`` [N, T, 2P], with its exact per-step split."""
    with evaluating(critic):
        hidden, _ = critic.lstm(frames.to(critic.out.weight.device))
        features = torch.cat([hidden.mean(dim=1), hidden.amax(dim=1)], dim=-1)
        logits = critic.out(features).squeeze(-1)
    width = hidden.shape[-1]
    weights = critic.out.weight[0]
    w_mean, w_max = weights[:width], weights[width:]
    steps = hidden.shape[1]
    per_step = hidden @ w_mean / steps  # [N, T]
    top = hidden.argmax(dim=1)  # [N, 2H]: the step where each feature peaks
    peak = hidden.gather(1, top.unsqueeze(1)).squeeze(1) * w_max  # [N, 2H]
    per_step = per_step.scatter_add(1, top, peak)
    bias = float(critic.out.bias[0])
    return [
        CriticOpinion(float(logit), bias, row.double().cpu().numpy())
        for logit, row in zip(logits.tolist(), per_step, strict=True)
    ]


def critic_probabilities(critic: LSTMDiscriminator, active: np.ndarray, onset: np.ndarray) -> np.ndarray:
    """D(x) for each roll of ``[N, T, P]`` arrays."""
    return np.array([opinion.probability for opinion in critic_opinions(critic, frames_of(active, onset))])
