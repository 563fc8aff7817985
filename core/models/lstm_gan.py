"""The LSTM-vs-LSTM GAN: an autoregressive LSTM generator and a bidirectional LSTM discriminator.

Generator: each step reads the previous frame plus noise; a latent sets the initial state. A frame is
``[active(P), onset(P)]``. Per step the network gives three sets of logits: ``pitch`` (which pitches
sound), ``restrike`` (a pitch that already sounded is struck again) and, when voice-aware, ``count`` (how
many notes sound). Onsets follow from the samples: a pitch that starts sounding has an onset; a held pitch
has one only when re-struck, so ``onset ⊆ active`` always. Free-running samples are hard 0/1 frames whose
gradients pass straight-through a relaxation (sigmoid of the Gumbel/logistic-perturbed logits), so a
discriminator can train the generator; the free run's loop and its differentiable replay are in
``core.models.lstm_gan_sampling``.

Discriminator: a bidirectional LSTM over the frames, mean- and max-pooled, one logit per sequence.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from core.models.base import SampleRequest, Samples
from core.models.lstm_gan_sampling import Draws, dropout_mask, free_running, relaxed_frames
from core.models.recurrent import PooledLSTMDiscriminator, latent_state, layer_weights, lstm_step


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


_FILL = -1e4  # stands in for -inf where gradients must stay finite


@dataclass
class GeneratorOutput:
    """What one forward pass returns: teacher-forced logits and/or free-running frames."""

    pitch: torch.Tensor | None = None  # [B, T, P]
    restrike: torch.Tensor | None = None  # [B, T, P]
    count: torch.Tensor | None = None  # [B, T, max_voices + 1]
    frames: torch.Tensor | None = None  # [B, T, 2P], hard values, straight-through gradients


class LSTMGenerator(nn.Module):
    """Autoregressive LSTM over piano-roll frames."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        hidden, layers = cfg.g_hidden, cfg.g_layers
        self.init_state = nn.Linear(cfg.latent_dim, 2 * layers * hidden)
        self.lstm = nn.LSTM(
            cfg.frame_dim + cfg.noise_dim,
            hidden,
            layers,
            batch_first=True,
            dropout=cfg.g_dropout if layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(cfg.g_dropout)
        self.pitch_head = nn.Linear(hidden, cfg.n_pitches)
        self.restrike_head = nn.Linear(hidden, cfg.n_pitches)
        self.count_head = nn.Linear(hidden, cfg.max_voices + 1) if cfg.voices else None

    def initial_state(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Map latents ``[B, latent_dim]`` to the LSTM's (h0, c0)."""
        return latent_state(self.init_state, z, self.cfg.g_layers, self.cfg.g_hidden)

    def output_layers(self) -> list[nn.Linear]:
        """The heads in the order their logits are stacked: pitch, re-strike, then count if voice-aware."""
        heads = [self.pitch_head, self.restrike_head]
        return [*heads, self.count_head] if self.count_head is not None else heads

    def _heads(self, h: torch.Tensor) -> GeneratorOutput:
        h = self.drop(h)
        count = self.count_head(h) if self.count_head is not None else None
        return GeneratorOutput(pitch=self.pitch_head(h), restrike=self.restrike_head(h), count=count)

    def forward(
        self,
        z: torch.Tensor,
        noise: torch.Tensor,
        teacher: torch.Tensor | None = None,
        free_run: bool = False,
        temperature: float = 1.0,
        relax_tau: float = 0.5,
        generator: torch.Generator | None = None,
    ) -> GeneratorOutput:
        """Teacher-force on ``teacher`` [B, T, 2P] and/or free-run ``noise.shape[1]`` steps.

        Both modes live in one call so DistributedDataParallel sees a single forward per backward; with
        both, the free run's replay and the teacher-forced pass share one batched LSTM pass.
        """
        if not free_run:
            return self.teacher_forced(z, noise, teacher) if teacher is not None else GeneratorOutput()
        draws = self.draw(z, noise, temperature, generator)
        return self.replay(z, noise, draws, temperature, relax_tau, teacher)

    def _step(self, x: torch.Tensor, hs: list[torch.Tensor], cs: list[torch.Tensor]) -> torch.Tensor:
        """One time step of ``self.lstm`` with its own weights, updating ``hs``/``cs`` in place."""
        return lstm_step(self.lstm, x, hs, cs, self.training)

    def teacher_forced(self, z: torch.Tensor, noise: torch.Tensor, teacher: torch.Tensor) -> GeneratorOutput:
        """Logits for every step given the true previous frames."""
        previous = F.pad(teacher[:, :-1], (0, 0, 1, 0))
        hidden, _ = self.lstm(torch.cat([previous, noise], dim=-1), self.initial_state(z))
        return self._heads(hidden)

    def free_run(
        self,
        z: torch.Tensor,
        noise: torch.Tensor,
        temperature: float = 1.0,
        relax_tau: float = 0.5,
        generator: torch.Generator | None = None,
        threshold: float | None = None,
    ) -> torch.Tensor:
        """Sample ``noise.shape[1]`` frames, each fed back as the next input.

        Where gradients are wanted, the frames carry straight-through gradients (see :meth:`replay`).
        With ``threshold`` the per-pitch decisions are "probability ≥ threshold" instead of samples.
        """
        if threshold is not None:
            return self._threshold_run(z, noise, temperature, threshold)
        draws = self.draw(z, noise, temperature, generator)
        if not (torch.is_grad_enabled() and any(p.requires_grad for p in self.parameters())):
            return draws.frames
        return self.replay(z, noise, draws, temperature, relax_tau).frames

    @torch.no_grad()
    def draw(
        self,
        z: torch.Tensor,
        noise: torch.Tensor,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> Draws:
        """The free run's hard frames, step by step, without building a graph (see ``free_running``)."""
        return free_running(self, z, noise, temperature, generator)

    def replay(
        self,
        z: torch.Tensor,
        noise: torch.Tensor,
        draws: Draws,
        temperature: float = 1.0,
        relax_tau: float = 0.5,
        teacher: torch.Tensor | None = None,
    ) -> GeneratorOutput:
        """The free run again as one differentiable pass over the drawn frames.

        The fed-back frames are detached (gradients through 64 chained relaxations exploded, generator
        gradient norm ~5e6; they still flow through the LSTM state), so the free run's hidden states are
        those of a teacher-forced pass over its own frames, with its own dropout masks. The returned
        ``frames`` equal ``draws.frames``; their gradients pass straight-through the relaxations (sigmoid of
        the perturbed logits). With ``teacher``, its teacher-forced logits come in the same pass.
        """
        cfg, batch = self.cfg, z.shape[0]
        inputs = torch.cat([F.pad(draws.frames[:, :-1], (0, 0, 1, 0)), noise], dim=-1)
        h0, c0 = self.initial_state(z)
        masks = draws.masks
        if teacher is not None:
            inputs = torch.cat([inputs, torch.cat([F.pad(teacher[:, :-1], (0, 0, 1, 0)), noise], dim=-1)])
            h0, c0 = h0.repeat(1, 2, 1), c0.repeat(1, 2, 1)
            masks = [None if m is None else torch.cat([m, dropout_mask(m, cfg.g_dropout)]) for m in masks]
        hidden = inputs
        for layer in range(cfg.g_layers):
            if layer > 0 and masks[layer - 1] is not None:
                hidden = hidden * masks[layer - 1].to(hidden.dtype)
            weights = layer_weights(self.lstm, layer)
            state = (h0[layer : layer + 1], c0[layer : layer + 1])
            hidden = torch.lstm(hidden, state, weights, True, 1, 0.0, self.training, False, True)[0]
        if masks[-1] is not None:
            hidden = hidden * masks[-1].to(hidden.dtype)
        heads = self.output_layers()
        logits = F.linear(hidden, torch.cat([h.weight for h in heads]), torch.cat([h.bias for h in heads]))
        logits = logits.float()
        n = cfg.n_pitches
        out = GeneratorOutput(frames=relaxed_frames(logits[:batch], draws, n, temperature * relax_tau))
        if teacher is not None:
            tail = logits[batch:]
            out.pitch, out.restrike = tail[..., :n], tail[..., n : 2 * n]
            out.count = tail[..., 2 * n :] if cfg.voices else None
        return out

    def _threshold_run(
        self, z: torch.Tensor, noise: torch.Tensor, temperature: float, threshold: float
    ) -> torch.Tensor:
        """Frames decided by :func:`threshold_frame` step by step (no sampling)."""
        h0, c0 = self.initial_state(z)
        hs, cs = list(h0.unbind(0)), list(c0.unbind(0))
        previous = noise.new_zeros(noise.shape[0], self.cfg.frame_dim)
        frames = []
        for t in range(noise.shape[1]):
            hidden = self._step(torch.cat([previous, noise[:, t]], dim=-1), hs, cs)
            previous = threshold_frame(self._heads(hidden), previous, self.cfg, temperature, threshold)
            frames.append(previous)
        return torch.stack(frames, dim=1)


class LSTMDiscriminator(PooledLSTMDiscriminator):
    """biLSTM over frames ``[B, T, 2P]`` → mean- and max-pooled states (the features) → one logit per
    sequence."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__(cfg.frame_dim, cfg.d_hidden, cfg.d_layers, cfg.d_dropout)


def sample_latents(
    batch: int, steps: int, cfg: ModelConfig, generator: torch.Generator | None = None, device: str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw the latent ``z [B, latent_dim]`` and per-step noise ``[B, T, noise_dim]``."""
    z = torch.randn(batch, cfg.latent_dim, generator=generator, device=device)
    noise = torch.randn(batch, steps, cfg.noise_dim, generator=generator, device=device)
    return z, noise


def threshold_frame(
    logits: GeneratorOutput, previous: torch.Tensor, cfg: ModelConfig, temperature: float, threshold: float
) -> torch.Tensor:
    """One frame without sampling (randomness then comes only from the latent and the step noise).

    Bernoulli output: pitches whose probability reaches ``threshold``. Voice-aware output: the ``k``
    highest-scoring pitches for the likeliest count ``k``. Re-strikes: probability ≥ ``threshold``.
    """
    pitch = logits.pitch / temperature
    if logits.count is not None:
        k = logits.count.argmax(-1, keepdim=True)
        kth = pitch.sort(dim=-1, descending=True).values.gather(-1, (k - 1).clamp(min=0))
        active = ((pitch >= kth) & (k > 0)).to(pitch.dtype)
    else:
        active = (torch.sigmoid(pitch) >= threshold).to(pitch.dtype)
    restrike = (torch.sigmoid(logits.restrike / temperature) >= threshold).to(pitch.dtype)
    onset = active * (1.0 - previous[:, : cfg.n_pitches] * (1.0 - restrike))
    return torch.cat([active, onset], dim=-1)


def _set_nll(scores: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
    """Plackett–Luce NLL of the chosen set, taken in descending score order; summed per frame."""
    ranked = scores.masked_fill(~chosen, _FILL).sort(dim=-1, descending=True).values
    n_chosen = chosen.sum(-1, keepdim=True)
    position = torch.arange(scores.shape[-1], device=scores.device)
    is_chosen = position < n_chosen
    rest = torch.logsumexp(scores.masked_fill(chosen, _FILL), dim=-1, keepdim=True)
    tail = torch.logcumsumexp(ranked.flip(-1), dim=-1).flip(-1)
    denominators = torch.logaddexp(tail, rest)
    return ((denominators - ranked) * is_chosen).sum(-1)


def mle_loss(out: GeneratorOutput, target: torch.Tensor, cfg: ModelConfig) -> tuple[torch.Tensor, dict]:
    """Teacher-forced negative log-likelihood in nats per step; returns (loss, parts)."""
    n = cfg.n_pitches
    active, onset = target[..., :n], target[..., n:]
    was_active = F.pad(active[:, :-1], (0, 0, 1, 0))
    held = active * was_active
    restrike = F.binary_cross_entropy_with_logits(out.restrike, onset, weight=held, reduction="none")
    parts = {"restrike": restrike.sum(-1).mean()}
    if out.count is not None:
        count = active.sum(-1).long().clamp(max=cfg.max_voices)
        parts["count"] = F.cross_entropy(out.count.flatten(0, 1), count.flatten())
        parts["pitch"] = _set_nll(out.pitch, active > 0.5).mean()
    else:
        bce = F.binary_cross_entropy_with_logits(out.pitch, active, reduction="none")
        parts["pitch"] = bce.sum(-1).mean()
    loss = sum(parts.values())
    return loss, {key: float(value.detach()) for key, value in parts.items()}


@torch.no_grad()
def sample(net: LSTMGenerator, request: SampleRequest) -> Samples:
    """Free-running pieces of ``request.steps`` steps (eval mode; the same seed gives the same pieces)."""
    device = next(net.parameters()).device
    rng = request.generator(device)
    z, noise = sample_latents(request.n, request.steps, net.cfg, generator=rng, device=str(device))
    frames = net.free_run(z, noise, request.temperature, generator=rng, threshold=request.threshold)
    return Samples.from_frames(frames, net.cfg.n_pitches)
