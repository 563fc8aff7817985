"""The model-family registry: every family is declared here once.

A family is a model module in :mod:`core.models` (config, networks, ``sample``) plus a trainer module in
:mod:`core.training` (training config, trainer). Adding one is one of each and one line in
:data:`FAMILIES`; sampling, ranking, evaluation, the command-line tools and the pages then serve it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from core.models import cnn_gan, lstm_gan, lstm_lm, satb, satb_sampling
from core.models.base import SampleRequest, Samples
from core.paths import CHECKPOINTS_DIR, DEFAULT_CHECKPOINT
from core.training.cnn_gan import CNNGANTrainConfig, CNNGANTrainer
from core.training.config import FamilyConfig, config_from_dict, model_kind
from core.training.loop import TrainerFactory
from core.training.lstm_gan import GANTrainConfig, GANTrainer
from core.training.lstm_lm import LMTrainConfig, LMTrainer
from core.training.satb import SATBTrainConfig, SATBTrainer


@dataclass(frozen=True)
class Family:
    """One model family: its name, its config, the network that generates, how it samples, its trainer."""

    kind: str
    label: str
    config_type: type[FamilyConfig]
    sampler_net: Callable[[object], nn.Module]
    """Builds the generating network from the config's ``net`` section."""
    sample: Callable[[nn.Module, SampleRequest], Samples]
    trainer: TrainerFactory
    checkpoint: Path
    """The shipped, pretrained checkpoint folder."""

    def config_from_dict(self, data: dict) -> FamilyConfig:
        return config_from_dict(self.config_type, data)


FAMILIES: dict[str, Family] = {
    family.kind: family
    for family in (
        Family(
            "lstm_gan", "LSTM-vs-LSTM GAN (this project)", GANTrainConfig, lstm_gan.LSTMGenerator,
            lstm_gan.sample, GANTrainer, DEFAULT_CHECKPOINT,
        ),
        Family(
            "lstm_lm", "Next-step LSTM (Huang & Wu 2016)", LMTrainConfig, lstm_lm.LSTMLanguageModel,
            lstm_lm.sample, LMTrainer, CHECKPOINTS_DIR / "lstm_lm",
        ),
        Family(
            "cnn_gan", "CNN-GAN, MidiNet-style (Yang et al. 2017)", CNNGANTrainConfig, cnn_gan.BarGenerator,
            cnn_gan.sample, CNNGANTrainer, CHECKPOINTS_DIR / "cnn_gan",
        ),
        Family(
            "satb", "Four-voice (SATB) LSTM-vs-LSTM GAN", SATBTrainConfig, satb.SATBGenerator,
            satb_sampling.sample, SATBTrainer, CHECKPOINTS_DIR / "satb",
        ),
    )
}  # fmt: skip
MODEL_LABELS: dict[str, str] = {kind: family.label for kind, family in FAMILIES.items()}


def family_named(kind: str) -> Family:
    """The family called ``kind``; ValueError names the choices."""
    try:
        return FAMILIES[kind]
    except KeyError:
        raise ValueError(f"model must be one of {', '.join(FAMILIES)}, not {kind!r}") from None


def family_of(config: dict) -> Family:
    """The family a saved config belongs to."""
    return family_named(model_kind(config))


def config_of(data: dict) -> FamilyConfig:
    """A saved (or flat) config dict as its family's config."""
    return family_of(data).config_from_dict(data)
