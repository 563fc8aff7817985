"""Training the four-voice (SATB) GAN: maximum-likelihood pretraining, then the adversarial game.

Phase ``mle``: teacher-forced maximum likelihood of every voice's token (parallel over time), learning
rate decayed from ``lr_mle`` to ``lr_mle_end``. Phase ``gan``: each iteration draws a batch of real windows,
lets the generator write pieces under the *same* conditions (keys, metre, phrase ends), updates the
discriminator ``d_steps`` times on real against generated pieces (instance noise, one-sided label
smoothing), then updates the generator with the adversarial term plus the likelihood term (``mle_weight``).

Two ways for a discriminator's judgement to reach a generator that writes discrete tokens
(``estimator``):

- ``reinforce``: the score-function estimator (Williams 1992) as SeqGAN uses it (Yu et al., AAAI 2017):
  the pieces are sampled without gradients, each piece's reward is the discriminator's verdict turned
  by the objective (non-saturating: log D; minimax: −log(1 − D); WGAN: the critic value), the batch
  mean is the baseline, and the generator raises the log-probability of pieces that beat it.
  No Monte-Carlo roll-outs: one reward per piece.
- ``gumbel``: straight-through Gumbel-softmax (Jang et al. 2017): hard tokens forward, the relaxed
  one-hots' gradient backward, through the discriminator into the generator.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from core.data.config import DataConfig
from core.models.base import SampleRequest, Samples, evaluating
from core.models.objectives import generator_loss
from core.models.satb import SATBDiscriminator, SATBGenerator, SATBNetConfig, critic_input, token_nll
from core.models.satb_intervals import parallel_unlikelihood
from core.models.satb_sampling import Rollout, roll_out, sample
from core.models.satb_tokens import COND_DIM, state_one_hot
from core.training.adversarial import (
    PretrainThenPlay,
    adversarial_term,
    checkpoint_state,
    discriminator_update,
    judge_generated,
    optimisers,
    restore_state,
    set_lr,
    snapshot,
    update,
)
from core.training.config import FamilyConfig
from core.training.context import Context, autocast
from core.training.data import WindowSet
from core.training.satb_data import train_and_valid

ESTIMATORS = ("reinforce", "gumbel")
GAN_COST_GUESS = 6.0
"""An adversarial step costs about this many likelihood steps (step-by-step sampling + D), for the ETA."""
VALID_WINDOWS = 512
"""Validation windows whose likelihood is logged every ``eval_every`` steps."""


@dataclass(frozen=True)
class SATBTrainConfig(PretrainThenPlay, FamilyConfig):
    """Everything a four-voice run needs; saved as ``config.json`` and inside every checkpoint."""

    kind = "satb"
    net: SATBNetConfig = field(default_factory=SATBNetConfig)
    data: DataConfig = field(default_factory=DataConfig)
    voice_transpose: tuple[int, ...] = tuple(range(-6, 7))
    """Transposed copies of the training windows (semitones), the key label moved with them."""
    mle_steps: int = 3000
    gan_steps: int = 200
    batch_size: int = 64
    lr_mle: float = 2e-3
    lr_mle_end: float = 1e-4
    lr_g: float = 1e-4
    lr_d: float = 1e-4
    objective: str = "nonsaturating"
    estimator: str = "reinforce"
    d_steps: int = 1
    d_warmup: int = 0
    """The first this many adversarial steps train only the discriminator (the generator waits)."""
    mle_weight: float = 1.0
    unlikelihood: float = 20.0
    """Weight of the unlikelihood of parallel fifths and octaves next to the likelihood (0: plain MLE)."""
    adv_weight: float = 1.0
    label_smoothing: float = 0.1
    instance_noise: float = 0.1
    gp_weight: float = 10.0
    relax_tau: float = 1.0
    grad_clip: float = 1.0

    def validate(self) -> None:
        super().validate()
        self.check_objective()
        if self.estimator not in ESTIMATORS:
            raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}, not {self.estimator!r}")
        if self.estimator == "reinforce" and self.objective == "feature_matching":
            raise ValueError("feature matching needs gradients through the samples: use estimator gumbel")
        if self.batch_size < 2 or min(self.mle_steps, self.gan_steps, self.d_warmup) < 0 or self.d_steps < 1:
            raise ValueError("batch_size must be at least 2, d_steps at least 1, step counts non-negative")


def sequence_rewards(objective: str, logits: torch.Tensor) -> torch.Tensor:
    """Per-piece reward ``[B]`` for the score-function estimator: minus the generator's loss of each piece
    under ``objective`` (see :func:`core.models.objectives.generator_loss`)."""
    return torch.stack([-generator_loss(objective, logit.view(1)) for logit in logits.float()])


def with_instance_noise(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Instance noise on a :func:`~core.models.satb.critic_input` (the conditioning columns stay clean)."""
    if sigma <= 0:
        return x
    states = x.shape[-1] - COND_DIM
    return x + F.pad(sigma * torch.randn_like(x[..., :states]), (0, COND_DIM))


class SATBTrainer:
    """The generator, the discriminator, their optimisers and the step count."""

    def __init__(self, cfg: SATBTrainConfig, ctx: Context, data: WindowSet) -> None:
        if ctx.world > 1:
            raise ValueError("the four-voice model trains in one process")
        self.cfg, self.ctx, self.step = cfg, ctx, 0
        self.train, self.valid = train_and_valid(cfg.data, cfg.voice_transpose)
        torch.manual_seed(cfg.run.seed)
        self.g = SATBGenerator(cfg.net).to(ctx.device)
        self.d = SATBDiscriminator(cfg.net).to(ctx.device)
        self.opt_g, self.opt_d = optimisers(self.g, self.d, cfg.lr_mle, cfg.lr_d)
        self.mle_generator: dict | None = None

    @property
    def total_steps(self) -> int:
        return self.cfg.total_steps

    def phase_plan(self) -> list[tuple[str, int, float]]:
        return [("mle", self.cfg.mle_steps, 1.0), ("gan", self.cfg.gan_steps, GAN_COST_GUESS)]

    def finished(self) -> bool:
        return False

    # --- one step ----------------------------------------------------------------------------------

    def batch(self, rng: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        index = torch.randint(len(self.train), (self.cfg.batch_size,), generator=rng)
        return self.train.take(index, self.ctx.device)

    def latents(self, batch: int) -> torch.Tensor:
        return torch.randn(batch, self.cfg.net.latent_dim, device=self.ctx.device)

    def nll(self, tokens: torch.Tensor, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher-forced negative log-likelihood and parallel-fifths-and-octaves unlikelihood, nats per
        step (four voices)."""
        with autocast(self.ctx):
            logits = self.g(self.latents(len(tokens)), cond, tokens)
        unlikely = (
            parallel_unlikelihood(logits, tokens).mean()
            if self.cfg.unlikelihood > 0
            else logits.new_zeros(())
        )
        return token_nll(logits, tokens).mean(), unlikely

    def train_step(self, batch_rng: torch.Generator) -> dict:
        cfg = self.cfg
        set_lr(self.opt_g, cfg.generator_lr(self.step))
        set_lr(self.opt_d, cfg.lr_d)
        tokens, cond = self.batch(batch_rng)
        if self.step == cfg.mle_steps and self.mle_generator is None:  # to compare the GAN with its start
            self.mle_generator = snapshot(self.g)
        record = self.mle_step(tokens, cond) if self.step < cfg.mle_steps else self.gan_step(tokens, cond)
        self.step += 1
        if cfg.run.eval_every and (self.step % cfg.run.eval_every == 0 or self.step == self.total_steps):
            record["valid_nll"] = self.valid_nll()
        record.update(lr_g=self.opt_g.param_groups[0]["lr"], lr_d=cfg.lr_d, windows=cfg.batch_size)
        return record

    def mle_step(self, tokens: torch.Tensor, cond: torch.Tensor) -> dict:
        nll, unlikely = self.nll(tokens, cond)
        loss = nll + self.cfg.unlikelihood * unlikely
        grad = update(self.opt_g, self.g, loss, self.cfg.grad_clip)
        return {
            "loss_g": float(loss.detach()),
            "mle_nll": float(nll.detach()),
            "mle_unlikelihood": float(unlikely.detach()),
            "grad_norm_g": grad,
        }

    def gan_step(self, tokens: torch.Tensor, cond: torch.Tensor) -> dict:
        """One adversarial iteration: write pieces under the batch's conditions, update D, then G."""
        cfg = self.cfg
        z = self.latents(len(tokens))
        if cfg.estimator == "gumbel":
            with autocast(self.ctx):
                fake = roll_out(self.g, z, cond, relax_tau=cfg.relax_tau)
        else:  # drawn as the sampler draws them (no dropout), scored the same way below
            with torch.no_grad(), evaluating(self.g), autocast(self.ctx):
                fake = roll_out(self.g, z, cond)
        real = critic_input(*state_one_hot(tokens), cond)
        fake_x = critic_input(fake.pitch.float(), fake.articulation.float(), cond)
        record: dict = {}
        for _ in range(cfg.d_steps):
            record = self.discriminator_step(real, fake_x.detach())
        if self.step - cfg.mle_steps < cfg.d_warmup:
            return record
        adversarial = self.adversarial_loss(z, fake, fake_x, real, cond)
        loss = cfg.adv_weight * adversarial
        if cfg.mle_weight > 0:
            nll, unlikely = self.nll(tokens, cond)
            loss = loss + cfg.mle_weight * (nll + cfg.unlikelihood * unlikely)
            record.update(mle_nll=float(nll.detach()), mle_unlikelihood=float(unlikely.detach()))
        record["grad_norm_g"] = update(self.opt_g, self.g, loss, cfg.grad_clip)
        record.update(loss_g=float(loss.detach()), loss_adv=float(adversarial.detach()))
        return record

    def discriminator_step(self, real: torch.Tensor, fake: torch.Tensor) -> dict:
        """One discriminator update on real and generated pieces in a single forward pass."""
        return discriminator_update(self.cfg, self.ctx, self.d, self.opt_d, real, fake, with_instance_noise)

    def adversarial_loss(
        self, z: torch.Tensor, fake: Rollout, fake_x: torch.Tensor, real_x: torch.Tensor, cond: torch.Tensor
    ) -> torch.Tensor:
        """The generator's adversarial loss through a frozen discriminator."""
        cfg = self.cfg
        with torch.set_grad_enabled(cfg.estimator == "gumbel"):
            logits, features = judge_generated(cfg, self.ctx, self.d, real_x, fake_x, with_instance_noise)
        if cfg.estimator == "gumbel":
            return adversarial_term(cfg.objective, logits, features)
        rewards = sequence_rewards(cfg.objective, logits.detach())
        advantage = (rewards - rewards.mean()) / (rewards.std() + 1e-6)
        with evaluating(self.g), autocast(self.ctx):  # scored as drawn: without dropout, from the same z
            logits_g = self.g(z, cond, fake.tokens)
        log_p = -token_nll(logits_g, fake.tokens).mean(dim=1)  # per piece, nats per step
        return -(advantage * log_p).mean()

    # --- samples and state ---------------------------------------------------------------------------

    def valid_nll(self) -> float:
        """Likelihood of (up to) :data:`VALID_WINDOWS` validation windows, nats per step, no dropout."""
        index = torch.arange(min(len(self.valid), VALID_WINDOWS))
        tokens, cond = self.valid.take(index, self.ctx.device)
        was_training = self.g.training
        self.g.eval()
        try:
            with torch.no_grad():
                return float(self.nll(tokens, cond)[0])
        finally:
            self.g.train(was_training)

    def sample(self, request: SampleRequest) -> Samples:
        return sample(self.g, request)

    def sampler_state(self) -> dict:
        return self.g.state_dict()

    def critic_state(self) -> dict | None:
        return self.d.state_dict()

    def state_dict(self) -> dict:
        return checkpoint_state(self.d, self.opt_g, self.opt_d, self.mle_generator)

    def load_state_dict(self, state: dict) -> None:
        """Restore a ``last.pt``; one without a discriminator (a likelihood-only checkpoint whose
        discriminator was left out) starts the adversarial phase with a fresh one."""
        restore_state(state, self.g, self.d, self.opt_g, self.opt_d, discriminator_optional=True)
        self.mle_generator = state.get("mle_generator")

    def selection_score(self, record: dict) -> float | None:
        return record.get("q_score")
