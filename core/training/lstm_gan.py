"""Training the LSTM-vs-LSTM GAN: maximum-likelihood pretraining, then the adversarial game.

A run has two phases: ``mle`` (teacher-forced maximum likelihood, as C-RNN-GAN pretrains) for
``mle_steps``, then ``gan`` (adversarial, with an MLE term kept) for ``gan_steps``. One adversarial
iteration reads straight down: sample once; update D ``d_steps`` times on real and (detached) fake
windows; update G through the frozen D. With ``g_first`` (C-RNN-GAN's order) G's gradient is taken through
D before D's update, and one discriminator pass serves both updates. Every step seeds its own random
streams from (seed, step, rank), so a resumed run continues exactly. Under torchrun both networks train
with DistributedDataParallel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from core.models.base import SampleRequest, Samples, evaluating
from core.models.lstm_gan import (
    LSTMDiscriminator,
    LSTMGenerator,
    ModelConfig,
    mle_loss,
    sample,
    sample_latents,
)
from core.models.objectives import discriminator_loss, generator_loss
from core.training.adversarial import (
    PretrainThenPlay,
    adversarial_term,
    checkpoint_state,
    clip,
    discriminator_record,
    discriminator_update,
    judge_generated,
    optimisers,
    restore_state,
    set_lr,
    snapshot,
    update,
    with_instance_noise,
)
from core.training.config import FamilyConfig
from core.training.context import Context, autocast
from core.training.data import WindowSet, frames_from

GAN_COST_GUESS = 8.0
"""An adversarial step costs about this many MLE steps (free-running sampling + D), for the first ETA."""


@dataclass(frozen=True)
class GANTrainConfig(PretrainThenPlay, FamilyConfig):
    """Everything a GAN run needs; saved as ``config.json`` and inside every checkpoint."""

    kind = "lstm_gan"
    net: ModelConfig = field(default_factory=ModelConfig)
    mle_steps: int = 1500
    gan_steps: int = 100
    batch_size: int = 64
    lr_mle: float = 2e-3
    lr_mle_end: float = 1e-4
    lr_g: float = 1e-4
    lr_d: float = 1e-4
    objective: str = "nonsaturating"
    d_steps: int = 1
    mle_weight: float = 1.0
    adv_weight: float = 3.0
    label_smoothing: float = 0.1
    instance_noise: float = 0.1
    gp_weight: float = 10.0
    relax_tau: float = 0.5
    grad_clip: float = 1.0
    g_first: bool = False
    """C-RNN-GAN's update order: G through D as it was, then D, from one discriminator pass (objectives on
    logits, one D step); off: D first, then G through the updated D."""

    def validate(self) -> None:
        super().validate()
        self.check_objective()
        if self.batch_size < 1 or self.mle_steps < 0 or self.gan_steps < 0:
            raise ValueError("batch_size must be positive and step counts non-negative")


def as_float(out):
    """Cast a GeneratorOutput's tensors to fp32 (after bf16 autocast)."""
    for name in ("pitch", "restrike", "count", "frames"):
        value = getattr(out, name)
        if value is not None:
            setattr(out, name, value.float())
    return out


class GANTrainer:
    """Both networks (DDP-wrapped under torchrun), their optimisers and the step count."""

    def __init__(self, cfg: GANTrainConfig, ctx: Context, data: WindowSet) -> None:
        self.cfg, self.ctx, self.step = cfg, ctx, 0
        self.train_frames = frames_from(data.train_active, data.train_onset)
        torch.manual_seed(cfg.run.seed)
        self.g_raw = LSTMGenerator(cfg.net).to(ctx.device)
        self.d_raw = LSTMDiscriminator(cfg.net).to(ctx.device)
        self.opt_g, self.opt_d = optimisers(self.g_raw, self.d_raw, cfg.lr_mle, cfg.lr_d)
        self.g, self.d = self.g_raw, self.d_raw
        if ctx.world > 1:
            ids = [ctx.device.index] if ctx.device.type == "cuda" else None
            self.g = nn.parallel.DistributedDataParallel(self.g_raw, device_ids=ids)
            self.d = nn.parallel.DistributedDataParallel(self.d_raw, device_ids=ids)
        self.mle_generator: dict | None = None

    @property
    def total_steps(self) -> int:
        return self.cfg.total_steps

    def phase_plan(self) -> list[tuple[str, int, float]]:
        return [("mle", self.cfg.mle_steps, 1.0), ("gan", self.cfg.gan_steps, GAN_COST_GUESS)]

    def finished(self) -> bool:
        return False

    # --- one step ----------------------------------------------------------------------------------

    def batch(self, rng: torch.Generator) -> torch.Tensor:
        """This rank's slice of the step's batch (indices drawn identically on every rank)."""
        size, ctx = self.cfg.batch_size, self.ctx
        index = torch.randint(len(self.train_frames), (size * ctx.world,), generator=rng)
        return self.train_frames[index[ctx.rank * size : (ctx.rank + 1) * size]].to(ctx.device)

    def train_step(self, batch_rng: torch.Generator) -> dict:
        cfg = self.cfg
        set_lr(self.opt_g, cfg.generator_lr(self.step))
        set_lr(self.opt_d, cfg.lr_d)
        real = self.batch(batch_rng)
        record = self.mle_step(real) if self.step < cfg.mle_steps else self.gan_step(real)
        self.step += 1
        if self.step == cfg.mle_steps and cfg.gan_steps > 0:  # kept to compare the GAN with its start
            self.mle_generator = snapshot(self.g_raw)
        record.update(lr_g=self.opt_g.param_groups[0]["lr"], lr_d=cfg.lr_d, windows=cfg.batch_size)
        return record

    def mle_step(self, real: torch.Tensor) -> dict:
        """One teacher-forced maximum-likelihood update of the generator."""
        cfg, ctx = self.cfg, self.ctx
        z, noise = sample_latents(real.shape[0], real.shape[1], cfg.net, device=ctx.device)
        with autocast(ctx):
            out = self.g(z, noise, teacher=real)
        loss, parts = mle_loss(as_float(out), real, cfg.net)
        grad_g = update(self.opt_g, self.g, loss, cfg.grad_clip)
        return {
            "loss_g": float(loss.detach()),
            "grad_norm_g": grad_g,
            **{f"mle_{k}": v for k, v in parts.items()},
        }

    def gan_step(self, real: torch.Tensor) -> dict:
        """One adversarial iteration: sample once, update D ``d_steps`` times, then update G."""
        cfg, ctx = self.cfg, self.ctx
        z, noise = sample_latents(real.shape[0], real.shape[1], cfg.net, device=ctx.device)
        teacher = real if cfg.mle_weight > 0 else None
        with autocast(ctx):
            out = as_float(self.g(z, noise, teacher=teacher, free_run=True, relax_tau=cfg.relax_tau))
        record: dict = {}
        if self.shares_d_pass():
            record, adversarial, grad_frames = self.joint_step(real, out.frames)
            tensors, grads = [out.frames], [grad_frames]
        else:
            for _ in range(cfg.d_steps):
                record = self.discriminator_step(real, out.frames)
            adversarial = self.adversarial_loss(real, out.frames)
            tensors, grads = [cfg.adv_weight * adversarial], [None]
        loss = cfg.adv_weight * adversarial.detach()
        if teacher is not None:
            nll, _ = mle_loss(out, real, cfg.net)
            tensors, grads = [*tensors, cfg.mle_weight * nll], [*grads, None]
            loss = loss + cfg.mle_weight * nll.detach()
            record["mle_nll"] = float(nll.detach())
        record["grad_norm_g"] = update(self.opt_g, self.g, tensors, cfg.grad_clip, grads)
        record.update(loss_g=float(loss), loss_adv=float(adversarial.detach()))
        return record

    def shares_d_pass(self) -> bool:
        """Whether one discriminator pass serves both updates (see ``GANTrainConfig.g_first``)."""
        cfg = self.cfg
        return cfg.g_first and cfg.d_steps == 1 and cfg.objective in ("minimax", "nonsaturating")

    def joint_step(self, real: torch.Tensor, fake: torch.Tensor) -> tuple[dict, torch.Tensor, torch.Tensor]:
        """D's update and G's adversarial gradient from one D pass on real and fake frames, as C-RNN-GAN
        orders them (G's gradient through D before D's update); returns (record, G's adversarial loss, its
        gradient with respect to ``fake``).

        D is applied to each sequence on its own and gives one logit per sequence, so the input gradient of
        a fake sequence under D's loss is that of its logit times dL_D/dlogit; times dL_G/dlogit over
        dL_D/dlogit it is the input gradient under G's loss, exactly.
        """
        cfg, batch = self.cfg, real.shape[0]
        fake = fake.detach().requires_grad_(True)
        inputs = torch.cat([real, fake])
        with autocast(self.ctx):
            logits, _ = self.d(with_instance_noise(inputs, cfg.instance_noise))
        logits = logits.float()
        logits.retain_grad()
        d_real, d_fake = logits[:batch], logits[batch:]
        loss = discriminator_loss(cfg.objective, d_real, d_fake, 1.0 - cfg.label_smoothing)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        fake_logits = d_fake.detach().requires_grad_(True)
        adversarial = generator_loss(cfg.objective, fake_logits)
        (g_upstream,) = torch.autograd.grad(cfg.adv_weight * adversarial, fake_logits)
        d_upstream = logits.grad[batch:]
        ratio = torch.where(d_upstream != 0, g_upstream / d_upstream, torch.zeros_like(d_upstream))
        grad_fake = fake.grad * ratio.view(-1, *[1] * (fake.dim() - 1))
        grad_d = clip(self.d, cfg.grad_clip)
        self.opt_d.step()
        return discriminator_record(loss, d_real, d_fake, grad_d), adversarial.detach(), grad_fake

    def discriminator_step(self, real: torch.Tensor, fake: torch.Tensor) -> dict:
        """One discriminator update on real and (detached) fake frames in a single forward pass."""
        return discriminator_update(self.cfg, self.ctx, self.d, self.opt_d, real, fake)

    def adversarial_loss(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """The generator's adversarial loss through a frozen discriminator (real frames only for FM)."""
        logits, features = judge_generated(self.cfg, self.ctx, self.d_raw, real, fake)
        return adversarial_term(self.cfg.objective, logits, features)

    # --- samples and state ---------------------------------------------------------------------------

    def sample(self, request: SampleRequest) -> Samples:
        with evaluating(self.g_raw):
            return sample(self.g_raw, request)

    def sampler_state(self) -> dict:
        return self.g_raw.state_dict()

    def critic_state(self) -> dict | None:
        return self.d_raw.state_dict()

    def state_dict(self) -> dict:
        return checkpoint_state(self.d_raw, self.opt_g, self.opt_d, self.mle_generator)

    def load_state_dict(self, state: dict) -> None:
        restore_state(state, self.g_raw, self.d_raw, self.opt_g, self.opt_d)
        self.mle_generator = state.get("mle_generator")

    def selection_score(self, record: dict) -> float | None:
        return record.get("q_score")
