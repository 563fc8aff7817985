"""Adversarial training of the MidiNet-style CNN-GAN (:mod:`core.models.cnn_gan`).

Training pairs are (previous bar, bar) from the corpus; a share ``start_rate`` of them get a silent
previous bar, the condition the first bar of a piece is generated from. Each iteration updates the
discriminator once and the generator ``g_steps`` times with the non-saturating loss plus MidiNet's two
regularisers: feature matching on the discriminator's features and matching the mean bar. The
discriminator sees hard 0/1 Bernoulli samples of the generated bars with straight-through gradients
(``d_input="samples"``), so it cannot tell them from real bars by their softness alone;
``d_input="probabilities"`` shows it the probabilities instead, as MidiNet does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from core.data import windows
from core.models.base import SampleRequest, Samples, evaluating
from core.models.cnn_gan import BarDiscriminator, BarGenerator, CNNGANConfig, feature_matching, sample
from core.models.objectives import discriminator_loss
from core.training.adversarial import (
    checkpoint_state,
    discriminator_record,
    frozen,
    optimisers,
    restore_state,
)
from core.training.config import FamilyConfig, RunConfig
from core.training.context import Context
from core.training.data import WindowSet, load_corpus

D_INPUTS = ("probabilities", "samples")


@dataclass(frozen=True)
class CNNGANTrainConfig(FamilyConfig):
    """Everything a CNN-GAN run needs; saved as ``config.json``. ``data.bars`` is the length of the windows
    the quality measures compare (as in the other models); training itself uses pairs of bars."""

    kind = "cnn_gan"
    net: CNNGANConfig = field(default_factory=CNNGANConfig)
    run: RunConfig = field(
        default_factory=lambda: RunConfig(
            eval_every=250, eval_samples=128, sample_every=250, checkpoint_every=250
        )
    )
    steps: int = 3000
    batch_size: int = 64
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    g_steps: int = 2
    adv_weight: float = 1.0
    fm_weight: float = 1.0
    mean_weight: float = 1.0
    label_smoothing: float = 0.1
    start_rate: float = 0.1
    d_input: str = "samples"
    """What the discriminator sees of a generated bar: "probabilities" (MidiNet) or hard "samples"."""

    @property
    def total_steps(self) -> int:
        return self.steps

    def validate(self) -> None:
        super().validate()
        if self.d_input not in D_INPUTS:
            raise ValueError(f"d_input must be 'probabilities' or 'samples', not {self.d_input!r}")


def training_pairs(cfg: CNNGANTrainConfig) -> torch.Tensor:
    """(previous bar, bar) pairs from two-bar windows of the training split (with the transpositions)."""
    corpus = load_corpus(cfg.data, cfg.spec)
    part = corpus.split("train") if corpus.split("train").pieces else corpus
    active, onset = windows(
        part, bars=2, hop_bars=1, beats_per_bar=cfg.data.beats_per_bar, transpose=cfg.data.transpose
    )
    return bar_pairs(active, onset, cfg.net.steps_per_bar)


def bar_pairs(active: np.ndarray, onset: np.ndarray, steps_per_bar: int) -> torch.Tensor:
    """Two-bar windows bool[N, 2S, P] → float ``[N, 2, 2, S, P]`` (pair, channel, step, pitch)."""
    frames = np.stack([active, onset & active], axis=1).astype(np.float32)  # [N, 2, 2S, P]
    n, channels, _, pitches = frames.shape
    pairs = frames.reshape(n, channels, 2, steps_per_bar, pitches).transpose(0, 2, 1, 3, 4)
    return torch.from_numpy(np.ascontiguousarray(pairs))


def real_batch(
    pairs: torch.Tensor, cfg: CNNGANTrainConfig, rng: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """(previous bars, bars) of one batch; ``start_rate`` of the previous bars silenced."""
    index = torch.randint(len(pairs), (cfg.batch_size,), generator=rng)
    previous, bars = pairs[index, 0], pairs[index, 1]
    silent = torch.rand(cfg.batch_size, generator=rng) < cfg.start_rate
    return previous * (~silent).float().view(-1, 1, 1, 1), bars


def straight_through_bars(logits: torch.Tensor) -> torch.Tensor:
    """Bernoulli 0/1 bars (every cell drawn on its own) with the sigmoid's gradient; onsets ⊆ active."""
    probability = torch.sigmoid(logits)
    hard = (torch.rand_like(probability) < probability).float()
    soft = hard + probability - probability.detach()
    return torch.stack([soft[:, 0], soft[:, 0] * soft[:, 1]], dim=1)


def fake_bars(logits: torch.Tensor, cfg: CNNGANTrainConfig) -> torch.Tensor:
    """The generated bars as the discriminator sees them (see ``d_input``)."""
    if cfg.d_input == "samples":
        return straight_through_bars(logits)
    probability = torch.sigmoid(logits)
    return torch.stack([probability[:, 0], probability[:, 0] * probability[:, 1]], dim=1)


class CNNGANTrainer:
    """Both networks, their optimisers (β₁ = 0.5, as in DCGAN and MidiNet) and the step count."""

    def __init__(
        self, cfg: CNNGANTrainConfig, ctx: Context, data: WindowSet | None, pairs: torch.Tensor | None = None
    ) -> None:
        """``data`` (the run's windows) is not used: the pairs of bars come from the corpus, or ``pairs``."""
        self.cfg, self.ctx, self.step = cfg, ctx, 0
        self.pairs = training_pairs(cfg) if pairs is None else pairs
        torch.manual_seed(cfg.run.seed)
        self.g, self.d = BarGenerator(cfg.net), BarDiscriminator(cfg.net)
        self.opt_g, self.opt_d = optimisers(self.g, self.d, cfg.lr_g, cfg.lr_d, g_beta1=0.5)

    @property
    def total_steps(self) -> int:
        return self.cfg.steps

    def phase_plan(self) -> list[tuple[str, int, float]]:
        return [("gan", self.cfg.steps, 1.0)]

    def finished(self) -> bool:
        return False

    def train_step(self, batch_rng: torch.Generator) -> dict:
        """One D update and ``g_steps`` G updates on batches drawn with this step's seed."""
        self.g.train()
        self.d.train()
        record = self.discriminator_update(*real_batch(self.pairs, self.cfg, batch_rng))
        for _ in range(self.cfg.g_steps):
            record.update(self.generator_update(*real_batch(self.pairs, self.cfg, batch_rng)))
        self.step += 1
        record["windows"] = self.cfg.batch_size * (1 + self.cfg.g_steps)
        return record

    def discriminator_update(self, previous: torch.Tensor, bars: torch.Tensor) -> dict:
        """One D step on real pairs and pairs with a generated bar."""
        with torch.no_grad():
            z = torch.randn(len(bars), self.cfg.net.latent_dim)
            fake = fake_bars(self.g(z, previous), self.cfg)
        real_logit, _ = self.d(previous, bars)
        fake_logit, _ = self.d(previous, fake)
        loss = discriminator_loss("nonsaturating", real_logit, fake_logit, 1.0 - self.cfg.label_smoothing)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        return discriminator_record(loss, real_logit, fake_logit)

    def generator_update(self, previous: torch.Tensor, bars: torch.Tensor) -> dict:
        """One G step: fool D, match D's mean features and the mean real bar."""
        z = torch.randn(len(bars), self.cfg.net.latent_dim)
        logits = self.g(z, previous)
        fake = fake_bars(logits, self.cfg)
        with frozen(self.d):
            fake_logit, fake_features = self.d(previous, fake)
            with torch.no_grad():
                _, real_features = self.d(previous, bars)
        adversarial = F.binary_cross_entropy_with_logits(fake_logit, torch.ones_like(fake_logit))
        matching = feature_matching(real_features, fake_features) / fake_features.shape[1]
        mean_bar = F.mse_loss(torch.sigmoid(logits).mean(0), bars.mean(0))
        loss = (
            self.cfg.adv_weight * adversarial
            + self.cfg.fm_weight * matching
            + self.cfg.mean_weight * mean_bar
        )
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        return {
            "loss_g": float(loss.detach()),
            "loss_adv": float(adversarial.detach()),
            "loss_fm": float(matching.detach()),
        }

    def sample(self, request: SampleRequest) -> Samples:
        with evaluating(self.g):
            return sample(self.g, request)

    def sampler_state(self) -> dict:
        return self.g.state_dict()

    def critic_state(self) -> dict | None:
        return self.d.state_dict()

    def state_dict(self) -> dict:
        return checkpoint_state(self.d, self.opt_g, self.opt_d)

    def load_state_dict(self, state: dict) -> None:
        restore_state(state, self.g, self.d, self.opt_g, self.opt_d)

    def selection_score(self, record: dict) -> float | None:
        return record.get("q_score")
