"""A trained model, loaded once from its checkpoint, that writes pieces on request."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from torch import nn

from core.families import Family, family_of
from core.models.base import SampleRequest, Samples, one_thread
from core.models.checkpoint import CheckpointError, read_checkpoint
from core.music.pianoroll import PianoRoll, RollSpec, roll_from_arrays
from core.paths import DEFAULT_CHECKPOINT
from core.training.config import FamilyConfig


@dataclass
class LoadedModel:
    """A checkpoint's generating network (eval mode), its family and config, and the roll grid."""

    family: Family
    config: FamilyConfig
    net: nn.Module
    source: Path
    critic: dict | None = None
    """The discriminator's weights, when the checkpoint has them."""

    @property
    def kind(self) -> str:
        return self.family.kind

    @property
    def spec(self) -> RollSpec:
        return self.config.spec

    @property
    def beats_per_bar(self) -> int:
        return self.config.data.beats_per_bar

    @property
    def steps_per_bar(self) -> int:
        return self.config.data.steps_per_bar

    def sample(
        self, n: int, bars: int = 4, seed: int = 0, temperature: float = 1.0, threshold: float | None = None
    ) -> Samples:
        """``n`` pieces of ``bars`` bars; the same seed gives the same pieces."""
        if bars < 1:
            raise ValueError("n and bars must be at least 1 and temperature positive")
        request = SampleRequest(n, bars * self.steps_per_bar, seed, temperature, threshold)
        with one_thread():
            return self.family.sample(self.net, request)

    def to_rolls(self, samples: Samples, tempo_bpm: float = 100.0) -> list[PianoRoll]:
        """The pieces as piano-rolls (for display, MIDI and audio)."""
        return [
            roll_from_arrays(
                active, onset, spec=self.spec, tempo_bpm=tempo_bpm, beats_per_bar=self.beats_per_bar
            )
            for active, onset in zip(samples.active, samples.onset, strict=True)
        ]


def load_model(path: str | Path = DEFAULT_CHECKPOINT, device: str = "cpu") -> LoadedModel:
    """Load a checkpoint folder (``model.pt`` + ``config.json``) or a run's ``last.pt``/``best.pt``.

    Raises FileNotFoundError for a missing path and :class:`CheckpointError` for a file that is not a
    checkpoint of this studio or does not fit the network its config describes.
    """
    path = Path(path)
    state, config, extras = read_checkpoint(path, device)
    try:
        family = family_of(config)
        cfg = family.config_from_dict(config)
    except (ValueError, TypeError) as error:
        raise CheckpointError(f"{path.name} has a config this studio cannot read ({error})") from None
    net = family.sampler_net(cfg.net)
    try:
        net.load_state_dict(state)
    except (RuntimeError, KeyError, TypeError) as error:
        raise CheckpointError(
            f"{path.name} does not fit the network its config describes ({str(error).splitlines()[0][:160]})"
        ) from None
    net.to(device).eval()
    return LoadedModel(family, cfg, net, path, extras.get("discriminator"))


def with_tempo(rolls: list[PianoRoll], tempo_bpm: float) -> list[PianoRoll]:
    """The rolls at another tempo."""
    return [replace(roll, tempo_bpm=float(tempo_bpm)) for roll in rolls]


def stack_rolls(rolls: list[PianoRoll]) -> Samples:
    """Equally long rolls as :class:`Samples` (e.g. real pieces to rank next to generated ones)."""
    return Samples(np.stack([r.active for r in rolls]), np.stack([r.onset & r.active for r in rolls]))
