"""Maximum-likelihood training of the next-step LSTM (:mod:`core.models.lstm_lm`).

Epochs over all training sequences (JSB pieces padded and masked, or corpus windows), Adam, the
learning rate divided by ``lr_factor`` when the validation NLL has not improved for ``patience``
epochs, and the end when it falls below ``min_lr``. The best validation epoch is kept.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from core.data.jsb import batches, random_transpositions
from core.models.lstm_lm import LMConfig, LSTMLanguageModel, frame_nll


@dataclass(frozen=True)
class LMTrainConfig:
    """Everything a next-step LSTM run needs; saved as ``config.json`` (``model`` names the family)."""

    model: str = "lstm_lm"
    net: LMConfig = field(default_factory=LMConfig)
    # data: "chorales" (the bundled corpus or ``data_dir``), "jsb-quarter" or "jsb-16th"
    data: str = "chorales"
    data_dir: str = ""
    bars: int = 4
    hop_bars: int = 1
    beats_per_bar: int = 4
    steps_per_beat: int = 4
    lowest_pitch: int = 36
    transpose: tuple[int, ...] = ()
    # JSB pieces: a random shift of augment_low..augment_high semitones per piece and epoch (0, 0: off)
    augment_low: int = 0
    augment_high: int = 0
    # schedule
    epochs: int = 200
    batch_size: int = 32
    lr: float = 2e-3
    lr_factor: float = 0.5
    patience: int = 3
    min_lr: float = 3e-5
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    seed: int = 0
    threads: int = 1
    max_minutes: float = 0.0
    eval_every: int = 5
    eval_samples: int = 128
    sample_midis: int = 2


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


@dataclass
class LMState:
    """A model, its optimiser and the schedule's progress."""

    model: LSTMLanguageModel
    optimizer: torch.optim.Optimizer
    epoch: int = 0
    best_valid: float = math.inf
    best_state: dict | None = None
    stale_epochs: int = 0


def build_lm(cfg: LMTrainConfig) -> LMState:
    """A fresh model (seeded) and its Adam optimiser."""
    torch.manual_seed(cfg.seed)
    model = LSTMLanguageModel(cfg.net)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    return LMState(model, optimizer)


def train_epoch(state: LMState, pieces: Sequence[np.ndarray], cfg: LMTrainConfig) -> float:
    """One pass over the training pieces in a seeded random order; returns the mean training NLL."""
    model, cfg_net = state.model, cfg.net
    model.train()
    rng = np.random.default_rng(cfg.seed * 7919 + state.epoch)
    torch.manual_seed(cfg.seed * 104_729 + state.epoch)
    if cfg.augment_low or cfg.augment_high:
        pieces = random_transpositions(pieces, rng, cfg.augment_low, cfg.augment_high)
    total, count = 0.0, 0
    for frames, mask in batches(pieces, cfg.batch_size, rng):
        nll = frame_nll(model(frames), frames, cfg_net)
        loss = (nll * mask).sum() / mask.sum()
        state.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        state.optimizer.step()
        total += float(loss.detach()) * int(mask.sum())
        count += int(mask.sum())
    state.epoch += 1
    return total / max(count, 1)


def anneal(state: LMState, valid_nll: float, cfg: LMTrainConfig) -> bool:
    """Keep the best epoch, cut the learning rate on a plateau; False once it is below ``min_lr``."""
    if valid_nll < state.best_valid - 1e-4:
        state.best_valid, state.stale_epochs = valid_nll, 0
        state.best_state = {k: v.detach().clone() for k, v in state.model.state_dict().items()}
        return True
    state.stale_epochs += 1
    if state.stale_epochs >= cfg.patience:
        state.stale_epochs = 0
        for group in state.optimizer.param_groups:
            group["lr"] *= cfg.lr_factor
    return state.optimizer.param_groups[0]["lr"] >= cfg.min_lr


def fit_lm(
    cfg: LMTrainConfig,
    train: Sequence[np.ndarray],
    valid: Sequence[np.ndarray],
    on_epoch: Callable[[LMState, dict], bool] | None = None,
    state: LMState | None = None,
) -> LMState:
    """Train until the schedule ends, ``max_minutes`` pass or ``on_epoch`` returns False.

    ``on_epoch(state, record)`` gets each epoch's numbers; ``state`` continues a saved run. The best
    epoch's weights are loaded at the end.
    """
    torch.set_num_threads(max(1, cfg.threads))
    torch.set_flush_denormal(True)
    state = state or build_lm(cfg)
    started = time.monotonic()
    while state.epoch < cfg.epochs:
        tick = time.perf_counter()
        train_nll = train_epoch(state, train, cfg)
        valid_nll = sequence_nll(state.model, valid)
        lr = state.optimizer.param_groups[0]["lr"]
        going = anneal(state, valid_nll, cfg)
        record = {
            "epoch": state.epoch,
            "train_nll": train_nll,
            "valid_nll": valid_nll,
            "best_valid_nll": state.best_valid,
            "lr": lr,
            "epoch_s": time.perf_counter() - tick,
        }
        if on_epoch is not None and on_epoch(state, record) is False:
            break
        over_time = cfg.max_minutes > 0 and time.monotonic() - started > 60 * cfg.max_minutes
        if not going or over_time:
            break
    if state.best_state is not None:
        state.model.load_state_dict(state.best_state)
    return state
