"""Training engine for the LSTM-vs-LSTM GAN, and its CLI.

A run has two phases: ``mle`` (teacher-forced maximum likelihood, as C-RNN-GAN pretrains) for
``mle_steps``, then ``gan`` (adversarial, with an MLE term kept) for ``gan_steps``. It writes the run
folder described in :mod:`core.runs`. Runs are resumable exactly: every step seeds its own random
streams from (seed, step, rank), and checkpoints hold both networks and both optimisers.

Multi-process: start with ``torchrun --nproc_per_node N -m core.train ...``; each process trains on its
own slice of every batch under DistributedDataParallel (gloo on CPU, NCCL on CUDA); rank 0 writes files.

    python -m core.train --help
    python -m core.train --config my.json --run-dir runs/my-run
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from core.cli.flags import add_dataclass_flags
from core.models import (
    OBJECTIVES,
    LSTMDiscriminator,
    LSTMGenerator,
    ModelConfig,
    discriminator_loss,
    generator_loss,
    mle_loss,
)
from core.models.generator import sample_latents
from core.models.objectives import gradient_penalty, interpolate
from core.music.quality import compare_stats, nearest_distance, quality_score, roll_stats
from core.runs import CheckpointError, RunFiles, RunStatus, load_checkpoint, save_checkpoint_atomic

PRECISIONS = ("auto", "fp32", "bf16")


@dataclass(frozen=True)
class TrainConfig:
    """Everything a run needs; saved as ``config.json`` and inside every checkpoint."""

    model: ModelConfig = field(default_factory=ModelConfig)
    # data: a folder of MIDI files ("" = the bundled chorales) or an .npz of windows
    data_dir: str = ""
    bars: int = 4
    hop_bars: int = 1
    beats_per_bar: int = 4
    steps_per_beat: int = 4
    lowest_pitch: int = 36
    transpose: tuple[int, ...] = ()
    # schedule
    mle_steps: int = 1500
    gan_steps: int = 100
    batch_size: int = 64
    lr_mle: float = 2e-3
    lr_mle_end: float = 1e-4
    lr_g: float = 1e-4
    lr_d: float = 1e-4
    # adversarial phase
    objective: str = "nonsaturating"
    d_steps: int = 1
    mle_weight: float = 1.0
    adv_weight: float = 3.0
    label_smoothing: float = 0.1
    instance_noise: float = 0.1
    gp_weight: float = 10.0
    relax_tau: float = 0.5
    grad_clip: float = 1.0
    # engine
    seed: int = 0
    device: str = "auto"
    threads: int = 1
    precision: str = "auto"
    log_every: int = 10
    eval_every: int = 50
    eval_samples: int = 192
    sample_every: int = 500
    sample_midis: int = 2
    checkpoint_every: int = 100
    max_minutes: float = 0.0

    @property
    def total_steps(self) -> int:
        return self.mle_steps + self.gan_steps

    @property
    def n_steps(self) -> int:
        """Time steps per training window."""
        return self.bars * self.beats_per_bar * self.steps_per_beat

    def validate(self) -> None:
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, not {self.objective!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {self.precision!r}")
        if self.batch_size < 1 or self.mle_steps < 0 or self.gan_steps < 0:
            raise ValueError("batch_size must be positive and step counts non-negative")


def config_from_dict(data: dict) -> TrainConfig:
    """Build a TrainConfig from a nested (``{"model": {...}}``) or flat dict; unknown keys are errors."""
    data = dict(data)
    model_names = {f.name for f in dataclasses.fields(ModelConfig)}
    model_values = dict(data.pop("model", {}) or {})
    model_values.update({key: data.pop(key) for key in list(data) if key in model_names})
    train_names = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(data) - train_names)
    if unknown or set(model_values) - model_names:
        raise ValueError(
            f"unknown config keys: {', '.join(unknown + sorted(set(model_values) - model_names))}"
        )
    if "transpose" in data:
        data["transpose"] = tuple(int(v) for v in data["transpose"])
    return TrainConfig(model=ModelConfig(**model_values), **data)


# ---------------------------------------------------------------- environment


@dataclass(frozen=True)
class Context:
    """Where this process runs: device, precision, rank and world size."""

    device: torch.device
    rank: int = 0
    world: int = 1
    bf16: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def pick_device(name: str = "auto", local_rank: int = 0) -> torch.device:
    """CUDA, then Apple MPS, then CPU for ``auto``; otherwise the named device."""
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda", local_rank)
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def setup_context(cfg: TrainConfig) -> Context:
    """Threads, denormals, device and (under torchrun) the process group."""
    torch.set_num_threads(max(1, cfg.threads))
    torch.set_flush_denormal(True)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    device = pick_device(cfg.device, int(os.environ.get("LOCAL_RANK", "0")))
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    bf16 = cfg.precision == "bf16" or (cfg.precision == "auto" and device.type == "cuda")
    return Context(device=device, rank=rank, world=world, bf16=bf16)


def autocast(ctx: Context):
    """bf16 autocast where enabled (no loss scaling needed), else a no-op context."""
    if not ctx.bf16:
        return contextlib.nullcontext()
    return torch.autocast(device_type=ctx.device.type, dtype=torch.bfloat16)


def seed_step(seed: int, step: int, rank: int) -> torch.Generator:
    """Seed this step's global RNG (noise, dropout; per rank) and return its batch generator (shared)."""
    torch.manual_seed((seed * 1_000_003 + step * 7_919 + rank * 104_729) % (2**63))
    return torch.Generator().manual_seed((seed * 1_000_003 + step) % (2**63))


# ---------------------------------------------------------------- data


def frames_from(active: np.ndarray, onset: np.ndarray) -> torch.Tensor:
    """Bool rolls [N, T, P] → float frames [N, T, 2P] (active then onset)."""
    onset = onset & active
    return torch.from_numpy(np.concatenate([active, onset], axis=-1).astype(np.float32))


def load_windows(cfg: TrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Train and reference (validation) frames. Reference falls back to train when there is no split."""
    if cfg.data_dir.endswith(".npz"):
        with np.load(cfg.data_dir) as data:
            train = frames_from(data["train_active"], data["train_onset"])
            valid = (
                frames_from(data["valid_active"], data["valid_onset"]) if "valid_active" in data else train
            )
        return train, valid
    from core.data import load_folder, windows
    from core.music.pianoroll import RollSpec
    from core.paths import DEFAULT_CORPUS

    spec = RollSpec(cfg.steps_per_beat, cfg.lowest_pitch, cfg.model.n_pitches)
    corpus = load_folder(Path(cfg.data_dir) if cfg.data_dir else DEFAULT_CORPUS, spec=spec)
    options = {"bars": cfg.bars, "hop_bars": cfg.hop_bars, "beats_per_bar": cfg.beats_per_bar}
    train = frames_from(*windows(corpus.split("train"), transpose=cfg.transpose, **options))
    if len(train) == 0:
        train = frames_from(*windows(corpus, transpose=cfg.transpose, **options))
    valid_corpus = corpus.split("valid")
    valid = frames_from(*windows(valid_corpus, **options)) if valid_corpus.pieces else train
    if len(train) == 0:
        raise ValueError("no training windows: the corpus has no piece long enough")
    return train, valid if len(valid) else train


# ---------------------------------------------------------------- networks and state


@dataclass
class Trainer:
    """Networks (possibly DDP-wrapped), their optimisers and the run's progress."""

    cfg: TrainConfig
    ctx: Context
    g: nn.Module
    d: nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    step: int = 0
    best_score: float = math.inf

    @property
    def g_raw(self) -> LSTMGenerator:
        return getattr(self.g, "module", self.g)

    @property
    def d_raw(self) -> LSTMDiscriminator:
        return getattr(self.d, "module", self.d)


def build_trainer(cfg: TrainConfig, ctx: Context) -> Trainer:
    """Fresh networks (same initial weights on every rank) and Adam optimisers."""
    torch.manual_seed(cfg.seed)
    g = LSTMGenerator(cfg.model).to(ctx.device)
    d = LSTMDiscriminator(cfg.model).to(ctx.device)
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr_mle, betas=(0.9, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr_d, betas=(0.5, 0.999))
    if ctx.world > 1:
        ids = [ctx.device.index] if ctx.device.type == "cuda" else None
        g = nn.parallel.DistributedDataParallel(g, device_ids=ids)
        d = nn.parallel.DistributedDataParallel(d, device_ids=ids)
    return Trainer(cfg, ctx, g, d, opt_g, opt_d)


def checkpoint_dict(trainer: Trainer) -> dict:
    """The plain dict saved as last.pt / best.pt (loads with ``weights_only=True``)."""
    cfg = trainer.cfg
    return {
        "model": trainer.g_raw.state_dict(),
        "discriminator": trainer.d_raw.state_dict(),
        "config": json.loads(json.dumps(asdict(cfg))),
        "step": trainer.step,
        "best_score": trainer.best_score,
        "optim": {"g": trainer.opt_g.state_dict(), "d": trainer.opt_d.state_dict()},
    }


def restore(trainer: Trainer, path: Path) -> None:
    """Load networks, optimisers and progress from a checkpoint written by :func:`checkpoint_dict`."""
    state = load_checkpoint(path, str(trainer.ctx.device))
    try:
        trainer.g_raw.load_state_dict(state["model"])
        trainer.d_raw.load_state_dict(state["discriminator"])
        trainer.opt_g.load_state_dict(state["optim"]["g"])
        trainer.opt_d.load_state_dict(state["optim"]["d"])
        trainer.step = int(state["step"])
        trainer.best_score = float(state["best_score"])
    except (RuntimeError, KeyError, TypeError, ValueError) as error:
        detail = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
        raise CheckpointError(
            f"{Path(path).name} does not fit this run's model and config ({detail})"
        ) from None


# ---------------------------------------------------------------- one step of each phase


def _clip(module: nn.Module, limit: float) -> float:
    norm = nn.utils.clip_grad_norm_(module.parameters(), limit if limit > 0 else float("inf"))
    return float(norm)


def mle_step(trainer: Trainer, real: torch.Tensor) -> dict:
    """One teacher-forced maximum-likelihood update of the generator."""
    cfg, ctx = trainer.cfg, trainer.ctx
    z, noise = sample_latents(real.shape[0], real.shape[1], cfg.model, device=ctx.device)
    with autocast(ctx):
        out = trainer.g(z, noise, teacher=real)
    loss, parts = mle_loss(_float(out), real, cfg.model)
    trainer.opt_g.zero_grad(set_to_none=True)
    loss.backward()
    grad_g = _clip(trainer.g, cfg.grad_clip)
    trainer.opt_g.step()
    return {
        "loss_g": float(loss.detach()),
        "grad_norm_g": grad_g,
        **{f"mle_{k}": v for k, v in parts.items()},
    }


def _float(out):
    """Cast a GeneratorOutput's tensors to fp32 (after bf16 autocast)."""
    for name in ("pitch", "restrike", "count", "frames"):
        value = getattr(out, name)
        if value is not None:
            setattr(out, name, value.float())
    return out


def _noisy(frames: torch.Tensor, sigma: float) -> torch.Tensor:
    """Instance noise: Gaussian noise on the discriminator's inputs."""
    return frames + sigma * torch.randn_like(frames) if sigma > 0 else frames


def discriminator_step(trainer: Trainer, real: torch.Tensor, fake: torch.Tensor) -> dict:
    """One discriminator update on real and (detached) fake frames in a single forward pass."""
    cfg, ctx = trainer.cfg, trainer.ctx
    batch = real.shape[0]
    inputs = [_noisy(real, cfg.instance_noise), _noisy(fake.detach(), cfg.instance_noise)]
    wgan = cfg.objective == "wgan_gp"
    if wgan:
        inputs.append(interpolate(real, fake))
    stacked = torch.cat(inputs)
    with autocast(ctx):
        logits, _ = trainer.d(stacked)
    logits = logits.float()
    d_real, d_fake = logits[:batch], logits[batch : 2 * batch]
    loss = discriminator_loss(cfg.objective, d_real, d_fake, 1.0 - cfg.label_smoothing)
    if wgan:
        loss = loss + cfg.gp_weight * gradient_penalty(logits[2 * batch :], inputs[2])
    trainer.opt_d.zero_grad(set_to_none=True)
    loss.backward()
    grad_d = _clip(trainer.d, cfg.grad_clip)
    trainer.opt_d.step()
    return {
        "loss_d": float(loss.detach()),
        "grad_norm_d": grad_d,
        "d_real": float(torch.sigmoid(d_real.detach()).mean()),
        "d_fake": float(torch.sigmoid(d_fake.detach()).mean()),
    }


def _adversarial_loss(trainer: Trainer, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The generator's adversarial loss through a frozen discriminator (real frames only for FM)."""
    cfg, ctx = trainer.cfg, trainer.ctx
    matching = cfg.objective == "feature_matching"
    inputs = [_noisy(real, cfg.instance_noise)] if matching else []
    inputs.append(_noisy(fake, cfg.instance_noise))
    d = trainer.d_raw
    d.requires_grad_(False)
    try:
        with autocast(ctx):
            logits, features = d(torch.cat(inputs))
    finally:
        d.requires_grad_(True)
    batch = real.shape[0]
    if matching:
        return generator_loss(
            cfg.objective, logits[batch:].float(), features[:batch].float(), features[batch:].float()
        )
    return generator_loss(cfg.objective, logits.float())


def gan_step(trainer: Trainer, real: torch.Tensor) -> dict:
    """One adversarial iteration: sample once, update D ``d_steps`` times, then update G."""
    cfg, ctx = trainer.cfg, trainer.ctx
    z, noise = sample_latents(real.shape[0], real.shape[1], cfg.model, device=ctx.device)
    teacher = real if cfg.mle_weight > 0 else None
    with autocast(ctx):
        out = _float(trainer.g(z, noise, teacher=teacher, free_run=True, relax_tau=cfg.relax_tau))
    record: dict = {}
    for _ in range(cfg.d_steps):
        record = discriminator_step(trainer, real, out.frames)
    adv = _adversarial_loss(trainer, real, out.frames)
    loss = cfg.adv_weight * adv
    if teacher is not None:
        nll, _ = mle_loss(out, real, cfg.model)
        loss = loss + cfg.mle_weight * nll
        record["mle_nll"] = float(nll.detach())
    trainer.opt_g.zero_grad(set_to_none=True)
    loss.backward()
    record["grad_norm_g"] = _clip(trainer.g, cfg.grad_clip)
    trainer.opt_g.step()
    record.update(loss_g=float(loss.detach()), loss_adv=float(adv.detach()))
    return record


# ---------------------------------------------------------------- evaluation and samples


@torch.no_grad()
def sample_frames(g: LSTMGenerator, n: int, steps: int, seed: int, device: torch.device) -> torch.Tensor:
    """``n`` free-running samples [n, T, 2P] in eval mode, reproducible for a seed."""
    was_training = g.training
    g.eval()
    rng = torch.Generator(device=device).manual_seed(seed)
    z, noise = sample_latents(n, steps, g.cfg, generator=rng, device=str(device))
    frames = g.free_run(z, noise, generator=rng)
    g.train(was_training)
    return frames


def split_frames(frames: torch.Tensor, n_pitches: int) -> tuple[np.ndarray, np.ndarray]:
    """Float frames [N, T, 2P] → bool (active, onset) [N, T, P]."""
    array = frames.detach().cpu().numpy() > 0.5
    return array[..., :n_pitches], array[..., n_pitches:]


def evaluate(trainer: Trainer, reference: dict, train_active: np.ndarray | None = None) -> dict:
    """Quality numbers of ``eval_samples`` fresh samples against the reference stats."""
    cfg = trainer.cfg
    frames = sample_frames(trainer.g_raw, cfg.eval_samples, cfg.n_steps, cfg.seed + 17, trainer.ctx.device)
    active, onset = split_frames(frames, cfg.model.n_pitches)
    stats = roll_stats(active, onset, cfg.lowest_pitch)
    comparison = compare_stats(stats, reference)
    result = {f"q_{key}": value for key, value in stats.items() if key != "pitch_class_hist"}
    result.update({f"q_{key}": value for key, value in comparison.items()})
    result["q_score"] = quality_score(comparison)
    if train_active is not None:
        result["q_min_copy_distance"] = float(nearest_distance(active, train_active).min())
    result.update(evaluation_metrics(active, onset, cfg.lowest_pitch))
    return result


def evaluation_metrics(active: np.ndarray, onset: np.ndarray, lowest_pitch: int) -> dict[str, float]:
    """Means of a few metrics of :mod:`core.metrics` (empty when that module is unavailable)."""
    try:
        from core.music import metrics
    except ImportError:
        return {}
    return {
        "q_scale_consistency": float(np.nanmean(metrics.scale_consistency(active, onset, lowest_pitch))),
        "q_pitch_class_entropy": float(np.nanmean(metrics.pitch_class_entropy(active, onset, lowest_pitch))),
        "q_pitch_classes_used": float(np.nanmean(metrics.n_pitch_classes_used(active, lowest_pitch))),
    }


def save_samples(trainer: Trainer, files: RunFiles) -> None:
    """Write a few sample rolls (npz) and, when the codec is available, MIDI files."""
    cfg = trainer.cfg
    count = max(cfg.sample_midis, 1)
    frames = sample_frames(trainer.g_raw, count, cfg.n_steps, cfg.seed + trainer.step, trainer.ctx.device)
    active, onset = split_frames(frames, cfg.model.n_pitches)
    np.savez_compressed(files.samples / f"step_{trainer.step:07d}.npz", active=active, onset=onset)
    try:
        from core.music.pianoroll import RollSpec, roll_from_arrays, roll_to_midi_bytes
    except ImportError:
        return
    spec = RollSpec(cfg.steps_per_beat, cfg.lowest_pitch, cfg.model.n_pitches)
    for index in range(cfg.sample_midis):
        roll = roll_from_arrays(active[index], onset[index], spec=spec, beats_per_bar=cfg.beats_per_bar)
        (files.samples / f"step_{trainer.step:07d}_{index}.mid").write_bytes(roll_to_midi_bytes(roll))


# ---------------------------------------------------------------- the loop

GAN_COST_GUESS = 8.0  # a GAN step costs about this many MLE steps (free-running sampling + D)


class StopSignal:
    """Set by SIGTERM/SIGINT; the loop checks it between steps."""

    def __init__(self) -> None:
        self.requested = False

    def install(self) -> StopSignal:
        with contextlib.suppress(ValueError):  # not the main thread: signals stay with the caller
            signal.signal(signal.SIGTERM, self._handle)
            signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: object) -> None:
        self.requested = True


@dataclass
class PhaseClock:
    """Mean seconds per step in each phase, for samples/s and the ETA."""

    seconds: dict = field(default_factory=lambda: {"mle": 0.0, "gan": 0.0})
    steps: dict = field(default_factory=lambda: {"mle": 0, "gan": 0})

    def add(self, phase: str, seconds: float) -> None:
        self.seconds[phase] += seconds
        self.steps[phase] += 1

    def per_step(self, phase: str) -> float | None:
        return self.seconds[phase] / self.steps[phase] if self.steps[phase] else None

    def eta(self, cfg: TrainConfig, step: int) -> float | None:
        mle = self.per_step("mle")
        gan = self.per_step("gan") or (mle * GAN_COST_GUESS if mle else None)
        if gan is None:
            return None
        remaining_mle = max(cfg.mle_steps - step, 0)
        remaining_gan = cfg.total_steps - max(step, cfg.mle_steps)
        return remaining_mle * (mle or gan / GAN_COST_GUESS) + remaining_gan * gan


def generator_lr(cfg: TrainConfig, step: int) -> float:
    """MLE: linear decay from ``lr_mle`` to ``lr_mle_end`` (so the GAN starts converged); GAN: ``lr_g``."""
    if step >= cfg.mle_steps:
        return cfg.lr_g
    return cfg.lr_mle + (cfg.lr_mle_end - cfg.lr_mle) * step / max(cfg.mle_steps - 1, 1)


def phase_of(cfg: TrainConfig, step: int) -> str:
    return "mle" if step < cfg.mle_steps else "gan"


def _batch(data: torch.Tensor, trainer: Trainer, generator: torch.Generator) -> torch.Tensor:
    """This rank's slice of the step's batch (indices drawn identically on every rank)."""
    cfg, ctx = trainer.cfg, trainer.ctx
    index = torch.randint(len(data), (cfg.batch_size * ctx.world,), generator=generator)
    return data[index[ctx.rank * cfg.batch_size : (ctx.rank + 1) * cfg.batch_size]].to(ctx.device)


def _agree(ctx: Context, *flags: bool) -> list[bool]:
    """Combine per-rank flags (any rank true → true everywhere)."""
    if ctx.world == 1:
        return list(flags)
    tensor = torch.tensor([float(f) for f in flags], device=ctx.device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return [bool(v) for v in tensor.tolist()]


def _finite(record: dict) -> bool:
    return all(math.isfinite(v) for v in record.values() if isinstance(v, float))


class Run:
    """One training run: owns the trainer, the run files and the status."""

    def __init__(self, cfg: TrainConfig, ctx: Context, files: RunFiles) -> None:
        self.cfg, self.ctx, self.files = cfg, ctx, files
        self.status = RunStatus(total_steps=cfg.total_steps)
        self.clock = PhaseClock()
        self.stop = StopSignal().install()
        self.started = time.monotonic()

    def write_status(self, state: str | None = None, message: str | None = None) -> None:
        if state is not None:
            self.status.state = state
        if message is not None:
            self.status.message = message
        if not self.ctx.is_main:
            return
        self.status.eta_s = self.clock.eta(self.cfg, self.status.step)
        self.files.write_status(self.status)

    def prepare(self, resume: bool) -> None:
        if self.ctx.is_main:
            self.files.create()
            self.files.write_config(json.loads(json.dumps(asdict(self.cfg))))
            self.write_status("starting", "loading data")
        self.train_frames, valid = load_windows(self.cfg)
        n = self.cfg.model.n_pitches
        self.reference = roll_stats(*split_frames(valid, n), self.cfg.lowest_pitch)
        self.train_active = split_frames(self.train_frames, n)[0]
        self.trainer = build_trainer(self.cfg, self.ctx)
        if resume and self.files.last.exists():
            restore(self.trainer, self.files.last)
        self.status.step = self.trainer.step

    def one_step(self) -> dict:
        trainer, cfg = self.trainer, self.cfg
        phase = phase_of(cfg, trainer.step)
        for group in trainer.opt_g.param_groups:  # set every step: a resumed run may change them
            group["lr"] = generator_lr(cfg, trainer.step)
        for group in trainer.opt_d.param_groups:
            group["lr"] = cfg.lr_d
        batch = _batch(self.train_frames, trainer, seed_step(cfg.seed, trainer.step, self.ctx.rank))
        started = time.perf_counter()
        record = mle_step(trainer, batch) if phase == "mle" else gan_step(trainer, batch)
        seconds = time.perf_counter() - started
        self.clock.add(phase, seconds)
        trainer.step += 1
        record.update(step=trainer.step, phase=phase, lr_g=trainer.opt_g.param_groups[0]["lr"])
        record.update(lr_d=cfg.lr_d, samples_per_s=cfg.batch_size * self.ctx.world / seconds)
        record["world_size"] = self.ctx.world
        return record

    def after_step(self, record: dict) -> None:
        """Logging, evaluation, samples and checkpoints (rank 0 only)."""
        trainer, cfg, files = self.trainer, self.cfg, self.files
        step = trainer.step
        self.status.step, self.status.phase = step, record["phase"]
        last = step == cfg.total_steps
        if cfg.eval_every and (step % cfg.eval_every == 0 or last):
            record.update(evaluate(trainer, self.reference, self.train_active))
            if record["q_score"] < trainer.best_score:
                trainer.best_score = record["q_score"]
                save_checkpoint_atomic(checkpoint_dict(trainer), files.best)
        if cfg.log_every and (step % cfg.log_every == 0 or last or "q_score" in record):
            record["elapsed_s"] = time.monotonic() - self.started
            record["cpu_s"] = time.process_time()
            files.append_metrics(record)
            self.write_status("running", f"{record['phase']} step {step} of {cfg.total_steps}")
        if cfg.sample_every and (step % cfg.sample_every == 0 or last):
            save_samples(trainer, files)
        if cfg.checkpoint_every and step % cfg.checkpoint_every == 0:
            save_checkpoint_atomic(checkpoint_dict(trainer), files.last)
        if step == cfg.mle_steps and cfg.gan_steps > 0:
            save_checkpoint_atomic(checkpoint_dict(trainer), files.mle)

    def stop_reason(self) -> str | None:
        over_time = self.cfg.max_minutes > 0 and time.monotonic() - self.started > 60 * self.cfg.max_minutes
        asked = self.stop.requested or (self.ctx.is_main and self.files.stop_requested())
        asked, over_time = _agree(self.ctx, asked, over_time)
        if asked:
            return "stopped on request"
        return "stopped at the time limit" if over_time else None

    def loop(self) -> RunStatus:
        self.write_status("running", "training")
        cfg, trainer = self.cfg, self.trainer
        while trainer.step < cfg.total_steps:
            record = self.one_step()
            (bad,) = _agree(self.ctx, not _finite(record))
            if bad:
                self.write_status(
                    "failed",
                    f"a loss or gradient became NaN/inf at step {trainer.step}; "
                    "last.pt holds the last good checkpoint",
                )
                return self.status
            if self.ctx.is_main:
                self.after_step(record)
            reason = self.stop_reason()
            if reason:
                self.finish("stopped", f"{reason} at step {trainer.step}")
                return self.status
        self.finish("finished", f"finished {trainer.step} steps")
        return self.status

    def finish(self, state: str, message: str) -> None:
        if self.ctx.is_main:
            save_checkpoint_atomic(checkpoint_dict(self.trainer), self.files.last)
        self.write_status(state, message)


def train(cfg: TrainConfig, run_dir: str | os.PathLike, resume: bool = False) -> RunStatus:
    """Train (or resume) a run in ``run_dir``; returns the final status."""
    cfg.validate()
    ctx = setup_context(cfg)
    run = Run(cfg, ctx, RunFiles(run_dir))
    try:
        run.prepare(resume)
        return run.loop()
    except Exception as error:
        run.write_status("failed", f"{type(error).__name__}: {error}")
        raise
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


# ---------------------------------------------------------------- CLI


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m core.train",
        description="Train the LSTM-vs-LSTM GAN. Every config field is a flag; flags override --config.",
    )
    parser.add_argument("--config", type=Path, help="JSON file with config fields (nested or flat)")
    parser.add_argument("--run-dir", type=Path, help="run folder (default: runs/<date-time>)")
    parser.add_argument("--resume", action="store_true", help="continue from run-dir/checkpoints/last.pt")
    parser.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    parser.add_argument(
        "--model",
        choices=["lstm_gan", "lstm_lm", "cnn_gan"],
        default=argparse.SUPPRESS,
        help="model family (default: lstm_gan); lstm_lm and cnn_gan have their own flags: "
        "python -m core.train --model lstm_lm --help",
    )
    add_dataclass_flags(parser, ModelConfig)
    add_dataclass_flags(
        parser, TrainConfig, {"model"}, choices={"objective": OBJECTIVES, "precision": PRECISIONS}
    )
    return parser


def resolve_config(args: argparse.Namespace) -> TrainConfig:
    """Config file (or the run's own config.json on resume), then flags."""
    values: dict = {}
    saved = args.run_dir / "config.json" if args.resume and args.run_dir else None
    source = args.config or (saved if saved and saved.exists() else None)
    if source:
        values = json.loads(Path(source).read_text())
    flat = {
        k: v
        for k, v in vars(args).items()
        if k not in {"config", "run_dir", "resume", "print_config", "model"}
    }
    model = dict(values.pop("model", {}) or {})
    values = {**values, **model, **flat}
    return config_from_dict(values)


def main(argv: list[str] | None = None) -> int:
    from core.train_baselines import requested_model

    if requested_model(argv) != "lstm_gan":  # the next-step LSTM and the CNN-GAN have their own loop
        from core.train_baselines import main as train_baseline

        return train_baseline(argv)
    args = build_parser().parse_args(argv)
    try:
        cfg = resolve_config(args)
        cfg.validate()
    except (ValueError, TypeError, json.JSONDecodeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.print_config:
        print(json.dumps(asdict(cfg), indent=2))
        return 0
    run_dir = args.run_dir or Path("runs") / time.strftime("%Y%m%d-%H%M%S")
    try:
        status = train(cfg, run_dir, resume=args.resume)
    except CheckpointError as error:  # the run's status.json says so too
        print(f"error: {error}", file=sys.stderr)
        return 2
    if int(os.environ.get("RANK", "0")) == 0:
        print(f"{status.state}: {status.message} ({run_dir})")
    return 0 if status.state in ("finished", "stopped") else 1


if __name__ == "__main__":
    sys.exit(main())
