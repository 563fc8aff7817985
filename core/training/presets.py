"""Named training configurations offered by the Train page: overrides of a family's training config."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Preset:
    """A named set of config overrides and what a person should expect from it."""

    name: str
    description: str
    overrides: dict = field(default_factory=dict)

    @property
    def model(self) -> str:
        """The model family the preset trains (the LSTM-vs-LSTM GAN unless it names another)."""
        return str(self.overrides.get("model", "lstm_gan"))


PRESETS: tuple[Preset, ...] = (
    Preset(
        name="Classroom",
        description="About 1½–2 minutes on a laptop CPU (88 s measured on one idle core): a narrower "
        "generator, 1,200 pretraining steps and 100 adversarial ones. Enough to watch the losses move, "
        "hear the music change, and end with four-voice, chorale-like pieces.",
        overrides={
            "g_hidden": 128,
            "d_hidden": 64,
            "mle_steps": 1200,
            "gan_steps": 100,
            "batch_size": 32,
            "eval_every": 100,
            "eval_samples": 64,
            "sample_every": 100,
            "checkpoint_every": 100,
        },
    ),
    Preset(
        name="Full",
        description="The recipe of the shipped default model (its model card in checkpoints/default says "
        "how long it took). Use a GPU or leave it running.",
        overrides={},
    ),
    Preset(
        name="Classroom (four voices)",
        description="About 1½ minutes on one CPU core (97 s measured, bf16): the four-voice (SATB) GAN with "
        "a narrower generator on two-bar windows, likelihood pretraining, then a short adversarial phase "
        "(the discriminator warms up first). It ends with chorale phrases in four voices, soprano, alto, "
        "tenor and bass each a line of its own: 0.11 parallel fifths or octaves per bar and 63 % of the "
        "beats on major or minor triads (real chorales: 0.02 and 72 %).",
        overrides={
            "model": "satb",
            "g_hidden": 128,
            "g_layers": 1,
            "head_hidden": 128,
            "d_hidden": 64,
            "d_layers": 1,
            "bars": 2,
            "mle_steps": 1200,
            "lr_mle": 3e-3,
            "gan_steps": 40,
            "d_warmup": 20,
            "lr_d": 1e-3,
            "batch_size": 64,
            "precision": "bf16",
            "temperature": 0.85,
            "eval_every": 300,
            "eval_samples": 64,
            "sample_every": 300,
            "checkpoint_every": 300,
        },
    ),
    Preset(
        name="Quick check",
        description="About 20 seconds: a tiny network for a few dozen steps, to check that training works.",
        overrides={
            "g_hidden": 32,
            "g_layers": 1,
            "d_hidden": 16,
            "d_layers": 1,
            "mle_steps": 30,
            "gan_steps": 10,
            "batch_size": 16,
            "log_every": 2,
            "eval_every": 20,
            "eval_samples": 16,
            "sample_every": 20,
            "checkpoint_every": 20,
        },
    ),
)


def presets_for(model: str) -> list[Preset]:
    """The presets that train ``model``."""
    return [preset for preset in PRESETS if preset.model == model]


def preset_named(name: str) -> Preset:
    """The preset called ``name``; KeyError names the choices."""
    for preset in PRESETS:
        if preset.name == name:
            return preset
    raise KeyError(f"no preset {name!r}; choose from {', '.join(p.name for p in PRESETS)}")


def preset_config(name: str, **changes: object) -> dict:
    """A flat training config dict: the preset's overrides, then ``changes``."""
    return {**preset_named(name).overrides, **changes}
