"""The training curves the Train page draws, in words a class understands.

A run's ``metrics.jsonl`` names its numbers briefly (``loss_g``, ``d_real``…) and uses ``loss_g`` for two
different things: during pretraining (phase ``mle``) it is the generator's imitation loss, the negative
log-likelihood of the real pieces; during the adversarial phase (``gan``) it is the generator's GAN loss.
Each :class:`Curve` therefore picks its phase, and names every series in words.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PHASE_WORDS = {"mle": "pretraining (imitation)", "gan": "adversarial game"}
GAN_FAMILIES = ("lstm_gan", "satb")
"""The families that imitate first, then play the game (configs with ``mle_steps`` and ``gan_steps``)."""


@dataclass(frozen=True)
class Curve:
    """One chart: its title, the series it draws (record key → words), the y axis, its phase, a sentence."""

    title: str
    series: dict[str, str] = field(default_factory=dict)
    y_label: str = ""
    phase: str | None = None
    explanation: str = ""


CURVES: tuple[Curve, ...] = (
    Curve(
        "Pretraining: how well the generator imitates",
        {"loss_g": "imitation loss of the generator"},
        "loss (nats; lower = closer to the real pieces)",
        "mle",
        "Before the game starts, the generator learns by imitation: it is shown real pieces step by step "
        "and scored on how well it predicts the next step.",
    ),
    Curve(
        "Adversarial game: the two losses",
        {"loss_d": "discriminator's loss", "loss_g": "generator's loss"},
        "loss (nats)",
        "gan",
        "In the game each network's loss is the other's gain: when one falls, the other usually rises.",
    ),
    Curve(
        "Adversarial game: what the discriminator believes",
        {"d_real": "D(x): real pieces judged real", "d_fake": "D(G(z)): generated pieces judged real"},
        "probability of 'real' (0 to 1)",
        "gan",
        "D(x) near 1 and D(G(z)) near 0: the discriminator wins. Both near 0.5: it cannot tell them apart.",
    ),
    Curve(
        "Quality of fresh samples (lower is better)",
        {"q_score": "distance to the real chorales"},
        "distance (0 = statistics of real chorales)",
        None,
        "Every few steps the run writes new pieces and compares their statistics with real ones.",
    ),
    Curve(
        "Speed",
        {"samples_per_s": "training windows per second"},
        "4-bar windows per second",
        None,
        "How many 4-bar training windows the run works through each second.",
    ),
)


def curve_records(records: list[dict], curve: Curve) -> list[dict]:
    """The records a curve draws: those of its phase (every record when it has none)."""
    if curve.phase is None:
        return records
    return [record for record in records if record.get("phase", curve.phase) == curve.phase]


def has_data(records: list[dict], curve: Curve) -> bool:
    """Whether any record of the curve's phase holds one of its series."""
    return any(key in record for record in curve_records(records, curve) for key in curve.series)


def progress_words(step: int, total_steps: int, phase: str) -> str:
    """Where a run is, in words: "pretraining (imitation), step 30 of 1,300"."""
    return f"{PHASE_WORDS.get(phase, phase or 'starting')}, step {step:,} of {total_steps:,}"


def adversarial_start(config: dict) -> tuple[int, int] | None:
    """(step where the adversarial game starts, total steps) of a two-phase GAN run's config, else None."""
    mle, gan = int(config.get("mle_steps", 0) or 0), int(config.get("gan_steps", 0) or 0)
    if config.get("model") not in GAN_FAMILIES or mle <= 0 or gan <= 0:
        return None
    return mle, mle + gan
