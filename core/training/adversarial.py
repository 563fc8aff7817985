"""What the GAN trainers do alike with a generator, a discriminator and their two optimisers.

The piano-roll LSTM GAN, the four-voice GAN and the bar CNN-GAN share these moves: Adam optimisers
(β₁ = 0.5 for the discriminator, as in DCGAN), learning rates set every step, one optimiser update with
the gradient norm clipped, a discriminator update on real against generated inputs (instance noise,
one-sided label smoothing, the WGAN gradient penalty) in one forward pass, the generator's adversarial
term through a frozen discriminator, the checkpoint entries that hold the discriminator, both
optimisers and the generator as it left maximum-likelihood pretraining, and (the two LSTM GANs) the
schedule of likelihood pretraining followed by the game.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import torch
from torch import nn

from core.models.objectives import (
    OBJECTIVES,
    discriminator_loss,
    generator_loss,
    gradient_penalty,
    interpolate,
)
from core.training.context import Context, autocast

Noise = Callable[[torch.Tensor, float], torch.Tensor]
"""Instance noise: ``(discriminator input, sigma) → noisy input``."""


class DiscriminatorSettings(Protocol):
    """The fields of a training config that a discriminator update reads."""

    objective: str
    label_smoothing: float
    instance_noise: float
    gp_weight: float
    grad_clip: float


class PretrainThenPlay:
    """Methods of a config that trains its generator by likelihood for ``mle_steps`` and then plays the
    adversarial game for ``gan_steps`` (each config declares these fields, with its own defaults)."""

    mle_steps: int
    gan_steps: int
    lr_mle: float
    lr_mle_end: float
    lr_g: float
    objective: str

    @property
    def total_steps(self) -> int:
        return self.mle_steps + self.gan_steps

    def generator_lr(self, step: int) -> float:
        """Likelihood phase: linear decay from ``lr_mle`` to ``lr_mle_end`` (the game starts from a
        converged generator); adversarial phase: ``lr_g``."""
        if step >= self.mle_steps:
            return self.lr_g
        return self.lr_mle + (self.lr_mle_end - self.lr_mle) * step / max(self.mle_steps - 1, 1)

    def check_objective(self) -> None:
        """Raise ValueError for an objective :mod:`core.models.objectives` does not know."""
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, not {self.objective!r}")


def with_instance_noise(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Instance noise: Gaussian noise on the discriminator's inputs (none when ``sigma`` ≤ 0)."""
    return x + sigma * torch.randn_like(x) if sigma > 0 else x


def optimisers(
    g: nn.Module, d: nn.Module, lr_g: float, lr_d: float, g_beta1: float = 0.9
) -> tuple[torch.optim.Adam, torch.optim.Adam]:
    """Adam for the generator (β₁ = ``g_beta1``) and for the discriminator (β₁ = 0.5)."""
    opt_g = torch.optim.Adam(g.parameters(), lr=lr_g, betas=(g_beta1, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=lr_d, betas=(0.5, 0.999))
    return opt_g, opt_d


def set_lr(optimiser: torch.optim.Optimizer, lr: float) -> None:
    """Set every parameter group's learning rate (each step: a resumed run may change it)."""
    for group in optimiser.param_groups:
        group["lr"] = lr


def clip(module: nn.Module, limit: float) -> float:
    """Clip the gradient norm (no limit when ``limit`` ≤ 0); returns the norm before clipping."""
    return float(nn.utils.clip_grad_norm_(module.parameters(), limit if limit > 0 else float("inf")))


def update(
    optimiser: torch.optim.Optimizer,
    module: nn.Module,
    losses: torch.Tensor | Sequence[torch.Tensor],
    limit: float,
    grads: Sequence[torch.Tensor | None] | None = None,
) -> float:
    """One optimiser step of ``module`` on the gradient of ``losses`` (with ``grads`` as their upstream
    gradients, see ``torch.autograd.backward``), its norm clipped to ``limit``; returns the norm."""
    optimiser.zero_grad(set_to_none=True)
    torch.autograd.backward(losses, grads)
    norm = clip(module, limit)
    optimiser.step()
    return norm


def snapshot(module: nn.Module) -> dict:
    """Detached copies of a module's weights (the generator kept as pretraining left it)."""
    return {key: value.detach().clone() for key, value in module.state_dict().items()}


@contextlib.contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """The module's parameters take no gradients inside the block (inputs still do)."""
    module.requires_grad_(False)
    try:
        yield
    finally:
        module.requires_grad_(True)


def discriminator_record(
    loss: torch.Tensor, d_real: torch.Tensor, d_fake: torch.Tensor, grad_norm: float | None = None
) -> dict:
    """The metrics of one discriminator update: its loss, gradient norm, mean D(real) and D(fake)."""
    record = {"loss_d": float(loss.detach())}
    if grad_norm is not None:
        record["grad_norm_d"] = grad_norm
    record["d_real"] = float(torch.sigmoid(d_real.detach()).mean())
    record["d_fake"] = float(torch.sigmoid(d_fake.detach()).mean())
    return record


def discriminator_update(
    cfg: DiscriminatorSettings,
    ctx: Context,
    d: nn.Module,
    opt_d: torch.optim.Optimizer,
    real: torch.Tensor,
    fake: torch.Tensor,
    noise: Noise = with_instance_noise,
) -> dict:
    """One discriminator update on real and (detached) generated inputs in a single forward pass."""
    batch, sigma = real.shape[0], cfg.instance_noise
    inputs = [noise(real, sigma), noise(fake.detach(), sigma)]
    wgan = cfg.objective == "wgan_gp"
    if wgan:
        inputs.append(interpolate(real, fake))
    with autocast(ctx):
        logits, _ = d(torch.cat(inputs))
    logits = logits.float()
    d_real, d_fake = logits[:batch], logits[batch : 2 * batch]
    loss = discriminator_loss(cfg.objective, d_real, d_fake, 1.0 - cfg.label_smoothing)
    if wgan:
        loss = loss + cfg.gp_weight * gradient_penalty(logits[2 * batch :], inputs[2])
    grad = update(opt_d, d, loss, cfg.grad_clip)
    return discriminator_record(loss, d_real, d_fake, grad)


def judge_generated(
    cfg: DiscriminatorSettings,
    ctx: Context,
    d: nn.Module,
    real: torch.Tensor,
    fake: torch.Tensor,
    noise: Noise = with_instance_noise,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A frozen discriminator's fp32 logits of the generated inputs ``[B]`` and its pooled features (of
    the real inputs, then the generated ones, under feature matching; else of the generated ones)."""
    sigma = cfg.instance_noise
    inputs = [noise(real, sigma)] if cfg.objective == "feature_matching" else []
    inputs.append(noise(fake, sigma))
    with frozen(d), autocast(ctx):
        logits, features = d(torch.cat(inputs))
    return logits[-fake.shape[0] :].float(), features


def adversarial_term(objective: str, logits: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
    """The generator's adversarial loss from :func:`judge_generated`'s logits and features."""
    if objective != "feature_matching":
        return generator_loss(objective, logits)
    batch = logits.shape[0]
    return generator_loss(objective, logits, features[:batch].float(), features[batch:].float())


def checkpoint_state(
    d: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    mle_generator: dict | None = None,
) -> dict:
    """A checkpoint's entries besides the generator: ``discriminator``, ``optim`` (``g``, ``d``) and, once
    kept, ``mle_generator``."""
    state = {"discriminator": d.state_dict(), "optim": {"g": opt_g.state_dict(), "d": opt_d.state_dict()}}
    if mle_generator is not None:
        state["mle_generator"] = mle_generator
    return state


def restore_state(
    state: dict,
    g: nn.Module,
    d: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    discriminator_optional: bool = False,
) -> None:
    """Load both networks and optimisers from a checkpoint; with ``discriminator_optional`` one without a
    discriminator leaves the fresh one (and its optimiser) as they are."""
    g.load_state_dict(state["model"])
    opt_g.load_state_dict(state["optim"]["g"])
    if "discriminator" in state or not discriminator_optional:
        d.load_state_dict(state["discriminator"])
        opt_d.load_state_dict(state["optim"]["d"])
