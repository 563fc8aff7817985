"""Adversarial objectives. ``d_real``/``d_fake`` are discriminator logits (not probabilities).

- ``minimax``: the original GAN game; G minimises log(1 − D(G(z))).
- ``nonsaturating``: G maximises log D(G(z)) instead (same fixed point, stronger early gradients).
- ``feature_matching``: G matches the batch mean of D's pooled features on real data; D as minimax.
- ``wgan_gp``: Wasserstein critic with a gradient penalty (penalty added by the caller).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

OBJECTIVES = ("minimax", "nonsaturating", "feature_matching", "wgan_gp")


def discriminator_loss(
    objective: str, d_real: torch.Tensor, d_fake: torch.Tensor, real_label: float = 1.0
) -> torch.Tensor:
    """Loss the discriminator minimises; ``real_label < 1`` is one-sided label smoothing."""
    if objective == "wgan_gp":
        return d_fake.mean() - d_real.mean()
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; choose from {', '.join(OBJECTIVES)}")
    real = F.binary_cross_entropy_with_logits(d_real, torch.full_like(d_real, real_label))
    fake = F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
    return real + fake


def generator_loss(
    objective: str,
    d_fake: torch.Tensor,
    features_real: torch.Tensor | None = None,
    features_fake: torch.Tensor | None = None,
) -> torch.Tensor:
    """Loss the generator minimises."""
    if objective == "minimax":
        return -F.softplus(d_fake).mean()  # log(1 - sigmoid(l)) = -softplus(l)
    if objective == "nonsaturating":
        return F.softplus(-d_fake).mean()  # -log sigmoid(l)
    if objective == "feature_matching":
        if features_real is None or features_fake is None:
            raise ValueError("feature matching needs the discriminator's features")
        return (features_real.detach().mean(0) - features_fake.mean(0)).pow(2).mean()
    if objective == "wgan_gp":
        return -d_fake.mean()
    raise ValueError(f"unknown objective {objective!r}; choose from {', '.join(OBJECTIVES)}")


def interpolate(real: torch.Tensor, fake: torch.Tensor, generator=None) -> torch.Tensor:
    """Random points between real and (detached) fake frames, ready for a gradient penalty."""
    alpha = torch.rand(real.shape[0], 1, 1, generator=generator, device=real.device, dtype=real.dtype)
    return (alpha * real + (1 - alpha) * fake.detach()).requires_grad_(True)


def gradient_penalty(logits: torch.Tensor, mixed: torch.Tensor) -> torch.Tensor:
    """WGAN-GP penalty (‖∇D(x̂)‖ − 1)² given the critic's logits on the interpolates ``mixed``."""
    (grad,) = torch.autograd.grad(logits.sum(), mixed, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()
