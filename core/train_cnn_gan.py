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

from core.models.cnn_gan import BarDiscriminator, BarGenerator, CNNGANConfig, feature_matching


@dataclass(frozen=True)
class CNNGANTrainConfig:
    """Everything a CNN-GAN run needs; saved as ``config.json`` (``model`` names the family)."""

    model: str = "cnn_gan"
    net: CNNGANConfig = field(default_factory=CNNGANConfig)
    data_dir: str = ""
    bars: int = 4  # length of the windows the quality measures compare (as in the other models)
    hop_bars: int = 1
    beats_per_bar: int = 4
    steps_per_beat: int = 4
    lowest_pitch: int = 36
    transpose: tuple[int, ...] = ()
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
    # what the discriminator sees of a generated bar: "probabilities" (MidiNet) or hard "samples"
    d_input: str = "samples"
    seed: int = 0
    threads: int = 1
    max_minutes: float = 0.0
    eval_every: int = 250
    eval_samples: int = 128
    sample_midis: int = 2


@dataclass
class CNNGANState:
    """Both networks, their optimisers and the step count."""

    g: BarGenerator
    d: BarDiscriminator
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    step: int = 0


def build_cnn_gan(cfg: CNNGANTrainConfig) -> CNNGANState:
    """Fresh seeded networks and Adam optimisers (β₁ = 0.5, as in DCGAN and MidiNet)."""
    if cfg.d_input not in ("probabilities", "samples"):
        raise ValueError(f"d_input must be 'probabilities' or 'samples', not {cfg.d_input!r}")
    torch.manual_seed(cfg.seed)
    g, d = BarGenerator(cfg.net), BarDiscriminator(cfg.net)
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr_g, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr_d, betas=(0.5, 0.999))
    return CNNGANState(g, d, opt_g, opt_d)


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


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def discriminator_update(
    state: CNNGANState, previous: torch.Tensor, bars: torch.Tensor, cfg: CNNGANTrainConfig
) -> dict:
    """One D step on real pairs and pairs with a generated bar."""
    with torch.no_grad():
        z = torch.randn(len(bars), cfg.net.latent_dim)
        fake = fake_bars(state.g(z, previous), cfg)
    real_logit, _ = state.d(previous, bars)
    fake_logit, _ = state.d(previous, fake)
    loss = _bce(real_logit, 1.0 - cfg.label_smoothing) + _bce(fake_logit, 0.0)
    state.opt_d.zero_grad(set_to_none=True)
    loss.backward()
    state.opt_d.step()
    return {
        "loss_d": float(loss.detach()),
        "d_real": float(torch.sigmoid(real_logit.detach()).mean()),
        "d_fake": float(torch.sigmoid(fake_logit.detach()).mean()),
    }


def generator_update(
    state: CNNGANState, previous: torch.Tensor, bars: torch.Tensor, cfg: CNNGANTrainConfig
) -> dict:
    """One G step: fool D, match D's mean features and the mean real bar."""
    z = torch.randn(len(bars), cfg.net.latent_dim)
    logits = state.g(z, previous)
    fake = fake_bars(logits, cfg)
    state.d.requires_grad_(False)
    try:
        fake_logit, fake_features = state.d(previous, fake)
        with torch.no_grad():
            _, real_features = state.d(previous, bars)
    finally:
        state.d.requires_grad_(True)
    adversarial = _bce(fake_logit, 1.0)
    matching = feature_matching(real_features, fake_features) / fake_features.shape[1]
    mean_bar = F.mse_loss(torch.sigmoid(logits).mean(0), bars.mean(0))
    loss = cfg.adv_weight * adversarial + cfg.fm_weight * matching + cfg.mean_weight * mean_bar
    state.opt_g.zero_grad(set_to_none=True)
    loss.backward()
    state.opt_g.step()
    return {
        "loss_g": float(loss.detach()),
        "loss_adv": float(adversarial.detach()),
        "loss_fm": float(matching.detach()),
    }


def gan_iteration(state: CNNGANState, pairs: torch.Tensor, cfg: CNNGANTrainConfig) -> dict:
    """One D update and ``g_steps`` G updates on batches drawn with this step's seed."""
    rng = torch.Generator().manual_seed(cfg.seed * 1_000_003 + state.step)
    torch.manual_seed(cfg.seed * 7_919 + state.step)
    state.g.train()
    state.d.train()
    record = discriminator_update(state, *real_batch(pairs, cfg, rng), cfg)
    for _ in range(cfg.g_steps):
        record.update(generator_update(state, *real_batch(pairs, cfg, rng), cfg))
    state.step += 1
    return record
