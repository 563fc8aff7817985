"""Maximum-likelihood training of the next-step LSTM (:mod:`core.models.lstm_lm`).

One step of the run is one epoch over all training sequences (corpus windows, or JSB pieces padded and
masked), Adam, the learning rate divided by ``lr_factor`` when the validation NLL has not improved for
``patience`` epochs, and the end when it falls below ``min_lr``. The best validation epoch is the run's
best checkpoint.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from core.data.jsb import load_jsb, random_transpositions
from core.models.base import SampleRequest, Samples, evaluating
from core.models.lstm_lm import LMConfig, LSTMLanguageModel, frame_nll, sample
from core.training.config import FamilyConfig, RunConfig
from core.training.context import Context
from core.training.data import WindowSet

SOURCES = ("chorales", "jsb-quarter", "jsb-16th")


@dataclass(frozen=True)
class LMTrainConfig(FamilyConfig):
    """Everything a next-step LSTM run needs; saved as ``config.json``."""

    kind = "lstm_lm"
    net: LMConfig = field(default_factory=LMConfig)
    run: RunConfig = field(
        default_factory=lambda: RunConfig(
            log_every=1, eval_every=5, eval_samples=128, sample_every=5, checkpoint_every=1
        )
    )
    source: str = "chorales"
    """"chorales": windows of the corpus (``data``); "jsb-quarter"/"jsb-16th": the JSB benchmark pieces."""
    augment_low: int = 0
    """JSB pieces: a random shift of augment_low..augment_high semitones per piece and epoch (0, 0: off)."""
    augment_high: int = 0
    epochs: int = 200
    batch_size: int = 32
    lr: float = 2e-3
    lr_factor: float = 0.5
    patience: int = 3
    min_lr: float = 3e-5
    weight_decay: float = 0.0
    grad_clip: float = 1.0

    @property
    def total_steps(self) -> int:
        return self.epochs

    def validate(self) -> None:
        super().validate()
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {self.source!r}")


def pad_pieces(pieces: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Pieces of different lengths as ``frames float[B, T_max, P]`` and ``mask bool[B, T_max]``."""
    longest = max(len(p) for p in pieces)
    frames = torch.zeros(len(pieces), longest, pieces[0].shape[1])
    mask = torch.zeros(len(pieces), longest, dtype=torch.bool)
    for i, piece in enumerate(pieces):
        frames[i, : len(piece)] = torch.from_numpy(piece.astype(np.float32))
        mask[i, : len(piece)] = True
    return frames, mask


def batches(
    pieces: Sequence[np.ndarray], batch_size: int, rng: np.random.Generator | None = None
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Padded batches over all pieces, shuffled when ``rng`` is given."""
    order = rng.permutation(len(pieces)) if rng is not None else np.arange(len(pieces))
    for start in range(0, len(order), batch_size):
        yield pad_pieces([pieces[i] for i in order[start : start + batch_size]])


def sequence_nll(
    model: LSTMLanguageModel, pieces: Sequence[np.ndarray], batch_size: int = 64, skip_first: bool = False
) -> float:
    """Mean NLL in nats per frame over all frames of ``pieces`` (eval mode, no gradients).

    ``skip_first`` leaves each piece's first frame out, as Bai et al. (2018) count it.
    """
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for frames, mask in batches(pieces, batch_size):
            if skip_first:
                mask[:, 0] = False
            nll = frame_nll(model(frames), frames, model.cfg)
            total += float((nll * mask).sum())
            count += int(mask.sum())
    model.train(was_training)
    return total / max(count, 1)


def training_sequences(cfg: LMTrainConfig, data: WindowSet) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Training and validation sequences ``[T, F]``: JSB pieces, or the corpus windows as frames."""
    if cfg.source.startswith("jsb-"):
        jsb = load_jsb(
            cfg.source.removeprefix("jsb-"), lowest=cfg.data.lowest_pitch, n_pitches=cfg.net.n_pitches
        )
        return jsb["train"], jsb["valid"]

    def frames(active: np.ndarray, onset: np.ndarray) -> list[np.ndarray]:
        parts = [active, onset & active] if cfg.net.onsets else [active]
        return list(np.concatenate(parts, axis=-1).astype(np.float32))

    return frames(data.train_active, data.train_onset), frames(data.valid_active, data.valid_onset)


class LMTrainer:
    """The language model, its optimiser and the annealing schedule's state; one step = one epoch."""

    def __init__(self, cfg: LMTrainConfig, ctx: Context, data: WindowSet) -> None:
        self.cfg, self.ctx, self.step = cfg, ctx, 0
        self.train, self.valid = training_sequences(cfg, data)
        torch.manual_seed(cfg.run.seed)
        self.model = LSTMLanguageModel(cfg.net).to(ctx.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.best_valid = math.inf
        self.best_state: dict | None = None
        self.stale_epochs = 0
        self.schedule_over = False

    @property
    def total_steps(self) -> int:
        return self.cfg.epochs

    def phase_plan(self) -> list[tuple[str, int, float]]:
        return [("mle", self.cfg.epochs, 1.0)]

    def finished(self) -> bool:
        return self.schedule_over

    def train_step(self, batch_rng: torch.Generator) -> dict:
        """One epoch in a seeded order, then the validation NLL and the annealing decision."""
        lr = self.optimizer.param_groups[0]["lr"]
        train_nll, windows = self.epoch()
        valid_nll = sequence_nll(self.model, self.valid)
        self.schedule_over = not self.anneal(valid_nll)
        return {
            "epoch": self.step,
            "loss_g": train_nll,
            "train_nll": train_nll,
            "valid_nll": valid_nll,
            "best_valid_nll": self.best_valid,
            "lr_g": lr,
            "windows": windows,
        }

    def epoch(self) -> tuple[float, int]:
        """One pass over the training pieces; returns the mean training NLL and the pieces seen."""
        cfg, model = self.cfg, self.model
        model.train()
        rng = np.random.default_rng(cfg.run.seed * 7919 + self.step)
        torch.manual_seed(cfg.run.seed * 104_729 + self.step)
        pieces = self.train
        if cfg.augment_low or cfg.augment_high:
            pieces = random_transpositions(pieces, rng, cfg.augment_low, cfg.augment_high)
        total, count = 0.0, 0
        for frames, mask in batches(pieces, cfg.batch_size, rng):
            nll = frame_nll(model(frames.to(self.ctx.device)), frames.to(self.ctx.device), cfg.net)
            mask = mask.to(self.ctx.device)
            loss = (nll * mask).sum() / mask.sum()
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            self.optimizer.step()
            total += float(loss.detach()) * int(mask.sum())
            count += int(mask.sum())
        self.step += 1
        return total / max(count, 1), len(pieces)

    def anneal(self, valid_nll: float) -> bool:
        """Keep the best epoch, cut the learning rate on a plateau; False once it is below ``min_lr``."""
        cfg = self.cfg
        if valid_nll < self.best_valid - 1e-4:
            self.best_valid, self.stale_epochs = valid_nll, 0
            self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
            return True
        self.stale_epochs += 1
        if self.stale_epochs >= cfg.patience:
            self.stale_epochs = 0
            for group in self.optimizer.param_groups:
                group["lr"] *= cfg.lr_factor
        return self.optimizer.param_groups[0]["lr"] >= cfg.min_lr

    def sample(self, request: SampleRequest) -> Samples:
        with evaluating(self.model):
            return sample(self.model, request)

    def sampler_state(self) -> dict:
        return self.model.state_dict()

    def critic_state(self) -> dict | None:
        return None

    def state_dict(self) -> dict:
        return {
            "optim": self.optimizer.state_dict(),
            "best_valid": self.best_valid,
            "stale_epochs": self.stale_epochs,
            "best_model": self.best_state or self.model.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optim"])
        self.best_valid, self.stale_epochs = float(state["best_valid"]), int(state["stale_epochs"])
        self.best_state = state["best_model"]

    def selection_score(self, record: dict) -> float | None:
        """The validation NLL of the epoch (the best epoch is kept)."""
        return record.get("valid_nll")
