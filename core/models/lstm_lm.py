"""Next-step LSTM over piano-roll frames (Huang & Wu 2016), trained by maximum likelihood.

A frame is ``[active(P)]`` or, with ``onsets``, ``[active(P), onset(P)]``. The network reads the
previous frame (a silent frame before the first) and gives per-pitch Bernoulli logits for the next
frame's ``active`` cells and, with onsets, ``restrike`` logits: a pitch that already sounded is
struck again. With ``within_frame`` the logit of pitch ``i`` also gets a learned linear term of the
lower pitches ``j < i`` of the same frame (a fully visible sigmoid belief net per frame, in the
spirit of RNN-NADE); otherwise the pitches of a frame are independent given the past. A linear
skip from the previous frame to the logits lets the model learn "notes go on sounding" from the
first updates, which a freshly initialised 2-layer LSTM otherwise takes many epochs to pass through.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from core.models.base import SampleRequest, Samples


@dataclass(frozen=True)
class LMConfig:
    """Sizes and output form of the next-step LSTM."""

    n_pitches: int = 48
    hidden: int = 256
    layers: int = 2
    dropout: float = 0.3
    input_dropout: float = 0.0
    onsets: bool = True
    within_frame: bool = False

    @property
    def frame_dim(self) -> int:
        return 2 * self.n_pitches if self.onsets else self.n_pitches


@dataclass
class LMOutput:
    """Teacher-forced logits for every step."""

    active: torch.Tensor  # [B, T, P]
    restrike: torch.Tensor | None = None  # [B, T, P]


class LSTMLanguageModel(nn.Module):
    """Two-layer (configurable) LSTM with per-pitch Bernoulli outputs."""

    def __init__(self, cfg: LMConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.in_drop = nn.Dropout(cfg.input_dropout)
        self.lstm = nn.LSTM(
            cfg.frame_dim,
            cfg.hidden,
            cfg.layers,
            batch_first=True,
            dropout=cfg.dropout if cfg.layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(cfg.dropout)
        self.active_head = nn.Linear(cfg.hidden, cfg.n_pitches)
        self.skip = nn.Linear(cfg.frame_dim, cfg.n_pitches, bias=False)
        self.restrike_head = nn.Linear(cfg.hidden, cfg.n_pitches) if cfg.onsets else None
        self.within = nn.Parameter(torch.zeros(cfg.n_pitches, cfg.n_pitches)) if cfg.within_frame else None
        self.register_buffer(
            "lower", torch.tril(torch.ones(cfg.n_pitches, cfg.n_pitches), -1), persistent=False
        )

    def within_weight(self) -> torch.Tensor:
        """``W[i, j]``: how much pitch ``j < i`` sounding in this frame moves pitch ``i``'s logit."""
        return self.within * self.lower

    def forward(self, frames: torch.Tensor) -> LMOutput:
        """Logits for each frame of ``frames [B, T, F]`` given the frames before it."""
        previous = F.pad(frames[:, :-1], (0, 0, 1, 0))
        hidden, _ = self.lstm(self.in_drop(previous))
        hidden = self.drop(hidden)
        active = self.active_head(hidden) + self.skip(previous)
        if self.within is not None:
            active = active + frames[..., : self.cfg.n_pitches] @ self.within_weight().T
        restrike = self.restrike_head(hidden) if self.restrike_head is not None else None
        return LMOutput(active=active, restrike=restrike)

    def step(
        self, previous: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """One recurrent step: hidden output ``[B, H]`` for the previous frame ``[B, F]``."""
        hidden, state = self.lstm(previous.unsqueeze(1), state)
        return hidden[:, 0], state


def frame_nll(out: LMOutput, frames: torch.Tensor, cfg: LMConfig) -> torch.Tensor:
    """Negative log-likelihood in nats of every frame ``[B, T]`` (summed over pitches)."""
    n = cfg.n_pitches
    active = frames[..., :n]
    nll = F.binary_cross_entropy_with_logits(out.active, active, reduction="none").sum(-1)
    if out.restrike is not None:
        held = active * F.pad(active[:, :-1], (0, 0, 1, 0))
        restrike = F.binary_cross_entropy_with_logits(
            out.restrike, frames[..., n:], weight=held, reduction="none"
        )
        nll = nll + restrike.sum(-1)
    return nll


def masked_mean(values: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Mean of ``values`` over the cells where ``mask`` is true (all cells without a mask)."""
    if mask is None:
        return values.mean()
    mask = mask.to(values.dtype)
    return (values * mask).sum() / mask.sum().clamp(min=1.0)


def _decide(logits: torch.Tensor, threshold: float | None, generator: torch.Generator | None) -> torch.Tensor:
    probability = torch.sigmoid(logits)
    if threshold is not None:
        return (probability >= threshold).to(logits.dtype)
    noise = torch.rand(probability.shape, generator=generator, device=logits.device)
    return (noise < probability).to(logits.dtype)


def _sample_active(
    model: LSTMLanguageModel,
    base: torch.Tensor,
    temperature: float,
    threshold: float | None,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """Active cells of one frame; with ``within_frame`` pitch by pitch from low to high."""
    if model.within is None:
        return _decide(base / temperature, threshold, generator)
    weight = model.within_weight()
    active = torch.zeros_like(base)
    for pitch in range(base.shape[-1]):
        logit = base[:, pitch] + active @ weight[pitch]
        active[:, pitch] = _decide(logit / temperature, threshold, generator)
    return active


@torch.no_grad()
def sample_frames(
    model: LSTMLanguageModel,
    n: int,
    steps: int,
    temperature: float = 1.0,
    threshold: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``n`` free-running pieces of ``steps`` frames ``[n, steps, F]`` (0/1 floats).

    ``temperature`` divides every logit; ``threshold`` replaces sampling by "on when the
    probability reaches it" (the first frame is still sampled, so pieces differ).
    """
    cfg = model.cfg
    device = next(model.parameters()).device
    previous = torch.zeros(n, cfg.frame_dim, device=device)
    state = None
    frames = []
    for t in range(steps):
        hidden, state = model.step(previous, state)
        cut = None if t == 0 else threshold
        base = model.active_head(hidden) + model.skip(previous)
        active = _sample_active(model, base, temperature, cut, generator)
        if model.restrike_head is not None:
            restrike = _decide(model.restrike_head(hidden) / temperature, cut, generator)
            was_active = previous[:, : cfg.n_pitches]
            onset = active * (1.0 - was_active * (1.0 - restrike))
            previous = torch.cat([active, onset], dim=-1)
        else:
            previous = active
        frames.append(previous)
    return torch.stack(frames, dim=1)


def sample(net: LSTMLanguageModel, request: SampleRequest) -> Samples:
    """Free-running pieces (eval mode); without onset outputs a note starts wherever a pitch turns on."""
    device = next(net.parameters()).device
    frames = sample_frames(
        net, request.n, request.steps, request.temperature, request.threshold, request.generator(device)
    )
    n = net.cfg.n_pitches
    if net.cfg.onsets:
        return Samples.from_frames(frames, n)
    active = frames.cpu().numpy() > 0.5
    onset = active.copy()
    onset[:, 1:] &= ~active[:, :-1]
    return Samples(active, onset)
