"""MidiNet-style convolutional GAN over piano-roll bars (Yang, Chou & Yang 2017).

A bar is ``[2, S, P]``: channel 0 the active cells, channel 1 the onsets, ``S`` steps by ``P``
pitches. The generator turns noise into one bar, conditioned on the previous bar through a
conditioner CNN whose feature maps (one per time resolution) are concatenated to the generator's
layers, as in MidiNet. Like MidiNet it works along time only (its full-height kernels collapse the
pitch axis; here they are linear maps per step) and spreads to the pitches in its last layer. The
discriminator sees the previous and the current bar stacked in time (so it judges the continuation
too) and also returns the features that the feature-matching regulariser compares. Pieces are
generated bar by bar.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from core.models.base import SampleRequest, Samples


@dataclass(frozen=True)
class CNNGANConfig:
    """Bar shape and network widths."""

    n_pitches: int = 48
    steps_per_bar: int = 16
    latent_dim: int = 64
    g_channels: int = 128
    cond_channels: int = 32
    d_channels: int = 128
    d_spectral_norm: bool = True

    @property
    def levels(self) -> int:
        """Time resolutions of the generator: 2, 4, ..., ``steps_per_bar`` steps."""
        levels = self.steps_per_bar.bit_length() - 1
        if 2**levels != self.steps_per_bar or levels < 1:
            raise ValueError("steps_per_bar must be a power of two (at least 2)")
        return levels


def _down(in_ch: int, out_ch: int) -> nn.Sequential:
    """Halve the time axis of ``[B, C, T]`` (kernel 4, stride 2)."""
    return nn.Sequential(
        nn.Conv1d(in_ch, out_ch, 4, stride=2, padding=1), nn.BatchNorm1d(out_ch), nn.LeakyReLU(0.2)
    )


def _up(in_ch: int, out_ch: int) -> nn.Sequential:
    """Double the time axis of ``[B, C, T]``: repeat each step, then a kernel-3 convolution.

    MidiNet uses transposed convolutions; repeat-then-convolve avoids their checkerboard artefacts
    (Odena et al. 2016), which would alternate from step to step.
    """
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.Conv1d(in_ch, out_ch, 3, padding=1),
        nn.BatchNorm1d(out_ch),
        nn.ReLU(),
    )


def _steps_first(bars: torch.Tensor) -> torch.Tensor:
    """``[B, 2, S, P]`` → ``[B, S, 2P]``: each step's active and onset cells side by side."""
    return bars.permute(0, 2, 1, 3).flatten(2)


class Conditioner(nn.Module):
    """Previous bar → feature maps ``[B, C, s]`` for s = 2, 4, …, ``steps_per_bar`` (coarsest first).

    The first layer spans all pitches (MidiNet's full-height kernel, written as a linear map per step).
    """

    def __init__(self, cfg: CNNGANConfig) -> None:
        super().__init__()
        channels = cfg.cond_channels
        self.pitch = nn.Sequential(nn.Linear(2 * cfg.n_pitches, channels), nn.LeakyReLU(0.2))
        self.down = nn.ModuleList(_down(channels, channels) for _ in range(cfg.levels - 1))

    def forward(self, previous: torch.Tensor) -> list[torch.Tensor]:
        maps = [self.pitch(_steps_first(previous)).transpose(1, 2)]
        for layer in self.down:
            maps.append(layer(maps[-1]))
        return maps[::-1]


class BarGenerator(nn.Module):
    """Noise and previous bar → logits of one bar ``[B, 2, S, P]``."""

    def __init__(self, cfg: CNNGANConfig) -> None:
        super().__init__()
        self.cfg = cfg
        g, c = cfg.g_channels, cfg.cond_channels
        self.conditioner = Conditioner(cfg)
        self.project = nn.Sequential(nn.Linear(cfg.latent_dim, g * 2), nn.BatchNorm1d(g * 2), nn.ReLU())
        self.up = nn.ModuleList(_up(g + c, g) for _ in range(cfg.levels - 1))
        self.to_pitches = nn.Linear(g + c, 2 * cfg.n_pitches)

    def forward(self, z: torch.Tensor, previous: torch.Tensor) -> torch.Tensor:
        maps = self.conditioner(previous)
        h = self.project(z).view(z.shape[0], self.cfg.g_channels, 2)
        for layer, cond in zip(self.up, maps[:-1], strict=True):
            h = layer(torch.cat([h, cond], dim=1))
        logits = self.to_pitches(torch.cat([h, maps[-1]], dim=1).transpose(1, 2))  # [B, S, 2P]
        return logits.view(z.shape[0], self.cfg.steps_per_bar, 2, self.cfg.n_pitches).transpose(1, 2)


class BarDiscriminator(nn.Module):
    """(previous bar, bar) → (logit ``[B]``, features ``[B, F]`` for feature matching)."""

    def __init__(self, cfg: CNNGANConfig) -> None:
        super().__init__()
        d = cfg.d_channels
        self.pitch = nn.Sequential(nn.Linear(2 * cfg.n_pitches, d), nn.LeakyReLU(0.2))
        layers, steps = [], 2 * cfg.steps_per_bar
        while steps > 4:
            layers += [nn.Conv1d(d, d, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
            steps //= 2
        self.time = nn.Sequential(*layers)
        self.out = nn.Linear(d * steps, 1)
        if cfg.d_spectral_norm:  # Miyato et al. 2018: keeps the discriminator from overpowering G
            for module in self.modules():
                if isinstance(module, nn.Linear | nn.Conv1d):
                    nn.utils.parametrizations.spectral_norm(module)

    def forward(self, previous: torch.Tensor, bar: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        steps = _steps_first(torch.cat([previous, bar], dim=2))
        features = self.time(self.pitch(steps).transpose(1, 2)).flatten(1)
        return self.out(features)[:, 0], features


def feature_matching(real_features: torch.Tensor, fake_features: torch.Tensor) -> torch.Tensor:
    """Squared distance between the batch means of the discriminator's features (Salimans et al. 2016)."""
    return F.mse_loss(fake_features.mean(0), real_features.detach().mean(0), reduction="sum")


def decode_bars(probability: torch.Tensor, thresholds: torch.Tensor, last_step: torch.Tensor) -> torch.Tensor:
    """Hard 0/1 bars ``[B, 2, S, P]`` from probabilities ``[B, 2, S, P]``.

    Active: probability at or above the pitch's threshold ``[B, 1, P]``. A note starts wherever a
    cell turns on (``last_step [B, P]`` is the step before the bar); a held cell is struck again only
    where the onset probability reaches ½.
    """
    active = (probability[:, 0] >= thresholds).float()
    previous = torch.cat([last_step.unsqueeze(1), active[:, :-1]], dim=1)
    onset = active * torch.maximum(1.0 - previous, (probability[:, 1] >= 0.5).float())
    return torch.stack([active, onset], dim=1)


def bars_from_logits(
    logits: torch.Tensor,
    temperature: float,
    threshold: float | None,
    generator: torch.Generator | None,
    last_step: torch.Tensor | None = None,
) -> torch.Tensor:
    """Hard bars from logits, with one random threshold per piece and pitch shared by the bar's steps.

    Each cell still sounds with its own probability, but a pitch whose probability stays high for a
    few steps sounds as one note instead of flickering as independent per-cell draws make it.
    ``threshold`` fixes every threshold instead ("probability ≥ threshold").
    """
    probability = torch.sigmoid(logits / temperature)
    batch, _, _, pitches = probability.shape
    if threshold is None:
        cuts = torch.rand(batch, 1, pitches, generator=generator, device=logits.device)
    else:
        cuts = torch.full((batch, 1, pitches), float(threshold), device=logits.device)
    before = last_step if last_step is not None else probability.new_zeros(batch, pitches)
    return decode_bars(probability, cuts, before)


@torch.no_grad()
def sample_bars(
    generator_net: BarGenerator,
    n: int,
    bars: int,
    temperature: float = 1.0,
    threshold: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``n`` pieces of ``bars`` bars, each bar conditioned on the one before: ``[n, 2, bars·S, P]``.

    The first bar is conditioned on a silent bar.
    """
    cfg = generator_net.cfg
    device = next(generator_net.parameters()).device
    previous = torch.zeros(n, 2, cfg.steps_per_bar, cfg.n_pitches, device=device)
    out = []
    for _ in range(bars):
        z = torch.randn(n, cfg.latent_dim, generator=generator, device=device)
        logits = generator_net(z, previous)
        previous = bars_from_logits(logits, temperature, threshold, generator, previous[:, 0, -1])
        out.append(previous)
    return torch.cat(out, dim=2)


def sample(net: BarGenerator, request: SampleRequest) -> Samples:
    """Pieces of ``request.steps`` steps (whole bars), generated bar by bar (eval mode)."""
    bars = -(-request.steps // net.cfg.steps_per_bar)
    device = next(net.parameters()).device
    pieces = sample_bars(
        net, request.n, bars, request.temperature, request.threshold, request.generator(device)
    )
    array = pieces.cpu().numpy()[:, :, : request.steps] > 0.5
    return Samples(array[:, 0], array[:, 1] & array[:, 0])
