"""Training configs: the shared data and run halves, the base every family's config extends, and the one
way a config is written to and read from JSON (``config.json`` of a run, inside every checkpoint).

A family's config is a frozen dataclass with ``net`` (network sizes), ``data``
(:class:`~core.data.config.DataConfig`), ``run`` (:class:`RunConfig`: seed, device, logging, checkpoints)
and its own schedule fields. As JSON it is ``{"model": kind, "net": {...}, "data": {...}, "run": {...},
<schedule fields>}``. :func:`config_from_dict` also reads flat dicts (every field by its own name, as the
command line gives them) and the first version's shapes (data and run fields at the top, the GAN's
network sizes under ``model``, the next-step LSTM's corpus choice under ``data``): shipped checkpoints
load as they are.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

from core.data.config import DataConfig
from core.music.pianoroll import RollSpec

PRECISIONS = ("auto", "fp32", "bf16")
SECTIONS = ("net", "data", "run")
INFO_KEY = "training"
"""Free-form notes a shipped checkpoint's config carries about how it was trained (not a setting)."""


@dataclass(frozen=True)
class RunConfig:
    """How a run is executed and recorded (the same fields for every family)."""

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

    def validate(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {self.precision!r}")
        if self.threads < 1 or self.eval_samples < 1:
            raise ValueError("threads and eval_samples must be at least 1")


@dataclass(frozen=True)
class FamilyConfig:
    """The part every family's training config shares; subclasses add ``net`` and schedule fields."""

    kind: ClassVar[str] = ""
    net: Any = None
    data: DataConfig = field(default_factory=DataConfig)
    run: RunConfig = field(default_factory=RunConfig)

    @property
    def spec(self) -> RollSpec:
        """The piano-roll grid the model reads and writes."""
        return self.data.spec(self.net.n_pitches)

    def validate(self) -> None:
        """Raise ValueError for settings no run can use (subclasses add their own checks)."""
        self.run.validate()


def config_to_dict(cfg: FamilyConfig) -> dict:
    """The JSON form of a config (``model`` names the family)."""
    return {"model": cfg.kind, **dataclasses.asdict(cfg)}


def config_from_dict(cls: type[FamilyConfig], data: dict) -> FamilyConfig:
    """Build a ``cls`` from a nested, flat or first-version dict; unknown keys are errors."""
    data = migrate(dict(data))
    kind = data.pop("model", cls.kind)
    if kind != cls.kind:
        raise ValueError(f"this config is for model {kind!r}, not {cls.kind!r}")
    types = {f.name: f for f in dataclasses.fields(cls)}
    sections: dict[str, dict] = {name: dict(data.pop(name, None) or {}) for name in SECTIONS}
    owners = {
        name: section
        for section in SECTIONS
        for name in (f.name for f in dataclasses.fields(_section_type(cls, section)))
    }
    for key in [key for key in data if key in owners and key not in types]:
        sections[owners[key]][key] = data.pop(key)
    unknown = sorted(set(data) - set(types))
    for section, values in sections.items():
        names = {f.name for f in dataclasses.fields(_section_type(cls, section))}
        unknown += sorted(set(values) - names)
    if unknown:
        raise ValueError(f"unknown config keys for {cls.kind}: {', '.join(unknown)}")
    built = {section: _build(_section_type(cls, section), values) for section, values in sections.items()}
    return cls(**built, **{key: _coerce(types[key], value) for key, value in data.items()})


def migrate(data: dict) -> dict:
    """First-version config shapes → today's: the GAN's ``model`` dict is its ``net``, the next-step
    LSTM's ``data`` string is its ``source``; the ``training`` notes are dropped."""
    data.pop(INFO_KEY, None)
    if isinstance(data.get("model"), dict):
        data["net"], data["model"] = data["model"], "lstm_gan"
    elif "model" not in data and "net" not in data and "mle_steps" in data:
        data["model"] = "lstm_gan"
    if isinstance(data.get("data"), str):
        data["source"] = data.pop("data")
    return data


def model_kind(data: dict) -> str:
    """The family a saved config belongs to (first-version GAN configs name none)."""
    return str(migrate(dict(data)).get("model", "lstm_gan"))


def _section_type(cls: type[FamilyConfig], section: str) -> type:
    hints = {f.name: f for f in dataclasses.fields(cls)}
    default = hints[section].default_factory  # every section has a default factory
    return type(default())


def _build(kind: type, values: dict) -> object:
    types = {f.name: f for f in dataclasses.fields(kind)}
    return kind(**{key: _coerce(types[key], value) for key, value in values.items()})


def _coerce(spec: dataclasses.Field, value: object) -> object:
    """JSON has no tuples: lists become the tuples a field's type asks for."""
    if str(spec.type).startswith("tuple") and isinstance(value, list | tuple):
        return tuple(int(v) for v in value)
    return value


def flat_config(cfg: FamilyConfig) -> dict:
    """Every field of a config by its own name, sections folded in (the shape flags and presets use)."""
    values = config_to_dict(cfg)
    flat = {key: value for key, value in values.items() if key not in SECTIONS}
    for section in SECTIONS:
        flat.update(values[section])
    return flat


def with_changes(cfg: FamilyConfig, **changes: object) -> FamilyConfig:
    """A copy of ``cfg`` with fields changed by name, whichever section holds them."""
    return config_from_dict(type(cfg), {**flat_config(cfg), **changes})
