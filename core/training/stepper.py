"""The GAN taken apart: step the discriminator and the generator one update at a time, on fixed batches.

A :class:`GANStepper` holds an LSTM GAN (a generator from a checkpoint; its discriminator, or a fresh one),
a fixed batch of real training windows and a fixed batch of noise. Each action is one update, done exactly
as training does it (:class:`core.training.lstm_gan.GANTrainer`'s discriminator step and adversarial loss):

- ``step_d``: one discriminator update on the real batch and the generator's pieces from the fixed noise;
- ``step_g``: one generator update through the frozen discriminator, from the same noise;
- ``step_both``: one of each (a training iteration); ``run(n)``: ``n`` iterations.

After every action a :class:`Reading` measures, without changing anything: D(x) for every real window and
D(G(z)) for every generated one (probabilities; the Wasserstein critic's scores squashed by the logistic
function), both losses of the chosen objective on these batches, and the first fixed-noise piece.

Teaching defaults differ from the training recipe in two ways, so each step does what the objective says
and nothing else: no instance noise on D's inputs and no label smoothing (training uses both to slow the
discriminator down), and the likelihood term of the generator is off unless asked for. The generator runs
in eval mode (no dropout) and samples with a fixed random stream, so D(G(z)) changes only when G does.
The idea of stepping each player by hand follows GAN Lab (Kahng et al., IEEE VIS 2018).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.files import read_json_or_none
from core.models.checkpoint import CheckpointError, read_checkpoint
from core.models.lstm_gan import mle_loss, sample_latents
from core.models.objectives import OBJECTIVES, discriminator_loss, generator_loss
from core.training.adversarial import set_lr, update
from core.training.config import config_from_dict, model_kind
from core.training.context import Context
from core.training.data import WindowSet, frames_from, window_set
from core.training.lstm_gan import GANTrainConfig, GANTrainer, as_float

MAX_RUN = 50
"""The most iterations one ``run`` call may do (a page waits for it)."""


@dataclass(frozen=True)
class StepSettings:
    """What may change between steps: the objective, both learning rates, the likelihood term's weight."""

    objective: str = "nonsaturating"
    lr_d: float = 1e-4
    lr_g: float = 1e-4
    mle_weight: float = 0.0

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, not {self.objective!r}")
        if not (0 < self.lr_d <= 0.1 and 0 < self.lr_g <= 0.1) or self.mle_weight < 0:
            raise ValueError("learning rates must be in (0, 0.1] and the likelihood weight not negative")


@dataclass(frozen=True)
class Reading:
    """What the networks say after an action: per-sample D(x) and D(G(z)), the losses, a sample."""

    action: str
    d_steps: int
    g_steps: int
    d_real: np.ndarray
    """float [B]: D's probability that each real window is real."""
    d_fake: np.ndarray
    """float [B]: D's probability that each generated piece is real."""
    loss_d: float
    loss_g: float
    objective: str
    sample_active: np.ndarray
    """bool [T, P]: the generator's piece from the first fixed noise vector."""
    sample_onset: np.ndarray

    @property
    def gap(self) -> float:
        """mean D(x) − mean D(G(z)): how well D tells the two batches apart (D raises it, G lowers it)."""
        return float(self.d_real.mean() - self.d_fake.mean())


class GANStepper:
    """An LSTM GAN on fixed batches, updated one step at a time (see the module's docstring)."""

    def __init__(
        self,
        cfg: GANTrainConfig,
        generator_state: dict,
        critic_state: dict | None,
        real_windows: tuple[np.ndarray, np.ndarray],
        seed: int = 0,
        settings: StepSettings | None = None,
    ) -> None:
        self.seed = int(seed)
        self.critic_source = "checkpoint" if critic_state is not None else "fresh"
        self._settings = settings or StepSettings()
        base = dataclasses.replace(
            cfg, instance_noise=0.0, label_smoothing=0.0, run=dataclasses.replace(cfg.run, seed=self.seed)
        )
        self.real = frames_from(*real_windows)
        windows = WindowSet(*real_windows, *real_windows)
        with torch.random.fork_rng(devices=[]):
            self.trainer = GANTrainer(self._config(base), Context(torch.device("cpu")), windows)
        self.trainer.g_raw.load_state_dict(generator_state)
        if critic_state is not None:
            self.trainer.d_raw.load_state_dict(critic_state)
        self.trainer.g_raw.eval()
        noise_rng = torch.Generator().manual_seed(self.seed)
        self.z, self.noise = sample_latents(len(self.real), self.real.shape[1], cfg.net, generator=noise_rng)
        self.d_steps = self.g_steps = 0
        self.history: list[Reading] = [self.measure("start")]

    # --- loading -----------------------------------------------------------------------------------

    @classmethod
    def from_checkpoint(
        cls,
        path: str | Path,
        batch: int = 16,
        seed: int = 0,
        fresh_critic: bool = False,
        settings: StepSettings | None = None,
        real_windows: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> GANStepper:
        """A stepper for an LSTM GAN checkpoint, on ``batch`` of its training windows (or ``real_windows``).

        Raises :class:`CheckpointError` for a checkpoint of another family or one that does not load.
        """
        state, config, extras = read_checkpoint(path)
        if model_kind(config) != GANTrainConfig.kind:
            raise CheckpointError("only LSTM-vs-LSTM GAN checkpoints have a discriminator to step")
        cfg = config_from_dict(GANTrainConfig, config)
        if real_windows is None:
            real_windows = pick_windows(window_set(cfg.data, cfg.spec), batch, seed)
        critic = None if fresh_critic else extras.get("discriminator")
        try:
            return cls(cfg, state, critic, real_windows, seed, settings)
        except (RuntimeError, KeyError) as error:
            detail = str(error).splitlines()[0][:160]
            raise CheckpointError(f"the checkpoint's weights do not fit its config ({detail})") from None

    # --- settings ----------------------------------------------------------------------------------

    @property
    def settings(self) -> StepSettings:
        return self._settings

    def change(self, settings: StepSettings) -> None:
        """Use another objective, learning rates or likelihood weight from the next step on."""
        self._settings = settings
        self.trainer.cfg = self._config(self.trainer.cfg)

    def _config(self, cfg: GANTrainConfig) -> GANTrainConfig:
        s = self._settings
        return dataclasses.replace(
            cfg, objective=s.objective, lr_d=s.lr_d, lr_g=s.lr_g, mle_weight=s.mle_weight, mle_steps=0
        )

    # --- actions -----------------------------------------------------------------------------------

    def step_d(self) -> Reading:
        """One discriminator update; returns the new reading."""
        self._update_d()
        return self._record("step D")

    def step_g(self) -> Reading:
        """One generator update through the frozen discriminator; returns the new reading."""
        self._update_g()
        return self._record("step G")

    def step_both(self) -> Reading:
        """One discriminator update, then one generator update (one training iteration)."""
        self._update_d()
        self._update_g()
        return self._record("step both")

    def run(self, iterations: int = 10) -> Reading:
        """``iterations`` training iterations (at most :data:`MAX_RUN`); one reading at the end."""
        if not 1 <= iterations <= MAX_RUN:
            raise ValueError(f"run between 1 and {MAX_RUN} iterations at a time, not {iterations}")
        for _ in range(iterations):
            self._update_d()
            self._update_g()
        return self._record(f"run {iterations}")

    def _update_d(self) -> None:
        set_lr(self.trainer.opt_d, self._settings.lr_d)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed * 7_919 + self.d_steps)  # dropout: reproducible
            self.trainer.discriminator_step(self.real, self._fake_frames())
        self.d_steps += 1

    def _update_g(self) -> None:
        trainer, cfg = self.trainer, self.trainer.cfg
        set_lr(trainer.opt_g, self._settings.lr_g)
        teacher = self.real if cfg.mle_weight > 0 else None
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed * 7_919 + 104_729 + self.g_steps)  # the same for a rerun
            loss = self._generator_loss(teacher)
        update(trainer.opt_g, trainer.g_raw, loss, cfg.grad_clip)
        self.g_steps += 1

    def _generator_loss(self, teacher: torch.Tensor | None) -> torch.Tensor:
        trainer, cfg = self.trainer, self.trainer.cfg
        out = as_float(
            trainer.g_raw(
                self.z, self.noise, teacher, free_run=True, relax_tau=cfg.relax_tau, generator=self._stream()
            )
        )
        loss = cfg.adv_weight * trainer.adversarial_loss(self.real, out.frames)
        if teacher is not None:
            loss = loss + cfg.mle_weight * mle_loss(out, self.real, cfg.net)[0]
        return loss

    # --- readings ----------------------------------------------------------------------------------

    def _stream(self) -> torch.Generator:
        """The generator's sampling randomness: the same stream for every action."""
        return torch.Generator().manual_seed(self.seed + 1)

    def _fake_frames(self) -> torch.Tensor:
        with torch.no_grad():
            return self.trainer.g_raw.free_run(self.z, self.noise, generator=self._stream())

    def measure(self, action: str) -> Reading:
        """D(x), D(G(z)) and both losses on the fixed batches, in eval mode; changes nothing."""
        fake = self._fake_frames()
        critic, objective = self.trainer.d_raw, self._settings.objective
        was_training = critic.training
        critic.eval()
        try:
            with torch.no_grad():
                d_real, features_real = critic(self.real)
                d_fake, features_fake = critic(fake)
        finally:
            critic.train(was_training)
        loss_d = discriminator_loss(objective, d_real, d_fake)
        loss_g = generator_loss(objective, d_fake, features_real, features_fake)
        n_pitches = self.trainer.cfg.net.n_pitches
        sample = fake[0].numpy() > 0.5
        return Reading(
            action=action,
            d_steps=self.d_steps,
            g_steps=self.g_steps,
            d_real=torch.sigmoid(d_real).numpy().astype(np.float64),
            d_fake=torch.sigmoid(d_fake).numpy().astype(np.float64),
            loss_d=float(loss_d),
            loss_g=float(loss_g),
            objective=objective,
            sample_active=sample[:, :n_pitches],
            sample_onset=sample[:, n_pitches:] & sample[:, :n_pitches],
        )

    def _record(self, action: str) -> Reading:
        reading = self.measure(action)
        self.history.append(reading)
        return reading

    @property
    def reading(self) -> Reading:
        """The latest reading."""
        return self.history[-1]

    @property
    def critic(self) -> torch.nn.Module:
        """The discriminator as it is now (for the critic view)."""
        return self.trainer.d_raw

    @property
    def config(self) -> GANTrainConfig:
        return self.trainer.cfg


def can_step(checkpoint: str | Path) -> bool:
    """Whether a checkpoint (a folder, or a run's ``best.pt``/``last.pt``) is an LSTM GAN's, by its
    ``config.json`` (beside the weights, or in the run folder), without loading any weights."""
    path = Path(checkpoint)
    config = path / "config.json" if path.is_dir() else path.parent.parent / "config.json"
    data = read_json_or_none(config)
    return data is not None and model_kind(data) == GANTrainConfig.kind


def pick_windows(windows: WindowSet, batch: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``batch`` training windows drawn without replacement (all of them when there are fewer)."""
    if batch < 1:
        raise ValueError("the batch needs at least one window")
    rng = np.random.default_rng(seed)
    total = len(windows.train_active)
    index = np.sort(rng.choice(total, size=min(batch, total), replace=False))
    return windows.train_active[index], windows.train_onset[index]
