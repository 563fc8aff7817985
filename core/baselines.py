"""The survey's other two models next to the GAN: configs, checkpoint files, loading and sampling.

``lstm_lm`` is the next-step LSTM (Huang & Wu 2016, :mod:`core.train_lm`) and ``cnn_gan`` the
MidiNet-style convolutional GAN (Yang et al. 2017, :mod:`core.train_cnn_gan`). A saved config is the
training config as JSON; its string ``model`` field names the family (the GAN's ``model`` is a dict of
network sizes, so a dict or no field means ``lstm_gan``). Training runs: :mod:`core.train_baselines`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.compare import MODEL_LABELS
from core.models.cnn_gan import BarGenerator, CNNGANConfig, sample_bars
from core.models.lstm_lm import LMConfig, LSTMLanguageModel, sample_frames
from core.music.pianoroll import PianoRoll, RollSpec, roll_from_arrays
from core.runs import load_checkpoint, save_checkpoint_atomic, write_json_atomic
from core.train_cnn_gan import CNNGANTrainConfig
from core.train_lm import LMTrainConfig

BASELINES = {"lstm_lm": (LMTrainConfig, LMConfig), "cnn_gan": (CNNGANTrainConfig, CNNGANConfig)}
BaselineConfig = LMTrainConfig | CNNGANTrainConfig
__all__ = ["MODEL_LABELS", "Baseline", "load_baseline", "sample_baseline_arrays", "sample_baseline_rolls"]


def model_kind(config: dict) -> str:
    """The family of a saved config: its ``model`` string, else the GAN (whose ``model`` is a dict)."""
    kind = config.get("model")
    return kind if isinstance(kind, str) else "lstm_gan"


def config_from_dict(data: dict) -> BaselineConfig:
    """A baseline config from a nested (``{"net": {...}}``) or flat dict; unknown keys are errors."""
    data = {k: v for k, v in data.items() if k != "training"}
    kind = model_kind(data)
    if kind not in BASELINES:
        raise ValueError(f"model must be one of {', '.join(BASELINES)}, not {kind!r}")
    train_cls, net_cls = BASELINES[kind]
    net_names = {f.name for f in dataclasses.fields(net_cls)}
    net_values = dict(data.pop("net", {}) or {})
    net_values.update({key: data.pop(key) for key in list(data) if key in net_names})
    unknown = sorted(
        (set(data) - {f.name for f in dataclasses.fields(train_cls)}) | (set(net_values) - net_names)
    )
    if unknown:
        raise ValueError(f"unknown config keys for {kind}: {', '.join(unknown)}")
    if "transpose" in data:
        data["transpose"] = tuple(int(v) for v in data["transpose"])
    return train_cls(net=net_cls(**net_values), **data)


# ---------------------------------------------------------------- checkpoints and sampling


def read_checkpoint(path: str | Path) -> tuple[dict, dict]:
    """(state_dict, config dict) from a folder (model.pt + config.json) or a run's last.pt/best.pt."""
    path = Path(path)
    if path.is_dir():
        return load_checkpoint(path / "model.pt"), json.loads((path / "config.json").read_text())
    state = load_checkpoint(path)
    if "model" in state and "config" in state:
        return state["model"], state["config"]
    return state, json.loads(path.with_name("config.json").read_text())


def save_folder(out: str | Path, state_dict: dict, config: dict, info: dict | None = None) -> Path:
    """Write ``out/model.pt`` (state_dict) and ``out/config.json`` (config plus ``info`` under "training")."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    save_checkpoint_atomic({k: v.detach().cpu() for k, v in state_dict.items()}, out / "model.pt")
    payload = json.loads(json.dumps(config))
    if info:
        payload["training"] = info
    write_json_atomic(out / "config.json", payload)
    return out


@dataclass
class Baseline:
    """A loaded baseline: the sampling network (eval mode), its config and the roll grid."""

    kind: str
    net: nn.Module
    config: BaselineConfig
    spec: RollSpec

    @property
    def steps_per_bar(self) -> int:
        return self.config.beats_per_bar * self.spec.steps_per_beat


def build_sampler_net(cfg: BaselineConfig) -> nn.Module:
    """The network that generates: the LSTM, or the CNN-GAN's generator."""
    return LSTMLanguageModel(cfg.net) if isinstance(cfg, LMTrainConfig) else BarGenerator(cfg.net)


def load_baseline(path: str | Path, device: str = "cpu") -> Baseline:
    """Load ``checkpoints/lstm_lm/``, ``checkpoints/cnn_gan/`` or a baseline run's ``.pt`` file."""
    state, config = read_checkpoint(path)
    cfg = config_from_dict(config)
    net = build_sampler_net(cfg)
    net.load_state_dict(state)
    net.to(device).eval()
    spec = RollSpec(cfg.steps_per_beat, cfg.lowest_pitch, cfg.net.n_pitches)
    return Baseline(kind=model_kind(config), net=net, config=cfg, spec=spec)


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run the block on one intra-op thread: step-by-step sampling is many tiny operations, which
    extra threads only slow down (several times over on a shared CPU)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def sample_baseline_arrays(
    baseline: Baseline,
    n: int,
    bars: int = 4,
    seed: int = 0,
    temperature: float = 1.0,
    threshold: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Bool (active, onset) arrays ``[n, T, P]``; the same seed gives the same pieces."""
    if n < 1 or bars < 1 or temperature <= 0:
        raise ValueError("n and bars must be at least 1 and temperature positive")
    device = next(baseline.net.parameters()).device
    rng = torch.Generator(device=device).manual_seed(int(seed))
    pitches = baseline.spec.n_pitches
    with one_thread():
        if baseline.kind == "cnn_gan":
            pieces = sample_bars(baseline.net, n, bars, temperature, threshold, rng).cpu().numpy() > 0.5
            return pieces[:, 0], pieces[:, 1]
        steps = bars * baseline.steps_per_bar
        frames = sample_frames(baseline.net, n, steps, temperature, threshold, rng).cpu().numpy() > 0.5
    onset = frames[..., pitches:] if baseline.config.net.onsets else np.zeros_like(frames)
    return frames[..., :pitches], onset


def sample_baseline_rolls(
    baseline: Baseline,
    n: int,
    bars: int = 4,
    seed: int = 0,
    temperature: float = 1.0,
    tempo_bpm: float = 100.0,
    threshold: float | None = None,
) -> list[PianoRoll]:
    """``n`` PianoRolls of ``bars`` bars (see :func:`sample_baseline_arrays`)."""
    active, onset = sample_baseline_arrays(baseline, n, bars, seed, temperature, threshold)
    beats = baseline.config.beats_per_bar
    return [
        roll_from_arrays(a, o, spec=baseline.spec, tempo_bpm=tempo_bpm, beats_per_bar=beats)
        for a, o in zip(active, onset, strict=True)
    ]
