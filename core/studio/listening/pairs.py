"""Building a round: real excerpts from the test split, generated pieces to match, an attention check, and
what the SVM and the discriminator say about every clip.

- **Real**: excerpts of the bundled chorales' *test* split (never training or validation data), in 4/4,
  starting on a bar line where music sounds and with no silent step, one excerpt per piece where the split
  has enough pieces.
- **Generated**: the same number of bars from the chosen model, at the same tempo as its real partner and
  with the same instrument and loudness (both clips are written from their piano-rolls the same way). Either
  the SVM's picks (the best of :attr:`RoundSettings.candidates_per_pair` candidates per pair) or raw
  samples; the round's settings record which.
- **Attention check**: one more real excerpt against random notes.

Every clip is rendered once here (renders are cached by content, so the page plays them from the cache).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from core.audio import render_wav
from core.data.reference import bundled_corpus
from core.models.base import Samples
from core.models.critic import critic_probabilities
from core.music.pianoroll import PianoRoll, RollSpec, roll_from_arrays, roll_to_midi_bytes
from core.ranking.pipeline import rank_samples, window_features
from core.ranking.svm import Ranker
from core.sampling import LoadedModel
from core.studio.critic import critic_of
from core.studio.listening.store import Pair

PICKS = {"svm": "the SVM's pick", "raw": "raw samples"}
INSTRUMENTS = {
    "Church organ": 19,
    "Acoustic grand piano": 0,
    "String ensemble": 48,
    "Choir aahs": 52,
    "Harpsichord": 6,
    "Flute": 73,
}
"""General MIDI programs a round may be played on."""
BEATS_PER_BAR = 4


@dataclass(frozen=True)
class RoundSettings:
    """What the teacher chooses for a round."""

    checkpoint: str
    n_pairs: int = 8
    bars: int = 4
    instrument: str = "Church organ"
    pick: str = "svm"
    seed: int = 0
    candidates_per_pair: int = 4

    def __post_init__(self) -> None:
        if not 1 <= self.n_pairs <= 20:
            raise ValueError("a round has between 1 and 20 pairs")
        if self.bars not in (4, 8):
            raise ValueError("clips are 4 or 8 bars long")
        if self.instrument not in INSTRUMENTS:
            raise ValueError(f"instrument must be one of {', '.join(INSTRUMENTS)}")
        if self.pick not in PICKS:
            raise ValueError(f"pick must be one of {', '.join(PICKS)}")
        if self.candidates_per_pair < 1:
            raise ValueError("at least one candidate per pair")

    @property
    def program(self) -> int:
        return INSTRUMENTS[self.instrument]


@dataclass(frozen=True)
class Excerpt:
    """A stretch of a real piece: ``bars`` bars from bar ``start_bar`` (0-based)."""

    name: str
    title: str
    start_bar: int
    bars: int
    roll: PianoRoll

    def describe(self) -> str:
        return (
            f"{self.title} ({Path(self.name).stem}), bars {self.start_bar + 1}–{self.start_bar + self.bars}"
        )


def excerpt_starts(active: np.ndarray, bars: int, steps_per_bar: int) -> list[int]:
    """Bars where an excerpt of ``bars`` bars may start: music on the downbeat and no silent step."""
    length = bars * steps_per_bar
    sounding = active.any(axis=1)
    return [
        bar
        for bar in range((len(active) - length) // steps_per_bar + 1)
        if sounding[bar * steps_per_bar : bar * steps_per_bar + length].all()
    ]


def real_excerpts(count: int, bars: int, rng: np.random.Generator) -> list[Excerpt]:
    """``count`` excerpts of the test split, from different pieces while there are enough of them."""
    options = []
    for piece in bundled_corpus().split("test").pieces:
        roll = piece.roll
        if roll.beats_per_bar != BEATS_PER_BAR:
            continue
        starts = excerpt_starts(roll.active, bars, roll.steps_per_bar)
        if starts:
            options.append((piece, starts))
    if not options:
        raise ValueError(f"the test split has no {bars}-bar stretch of 4/4 music without a rest")
    chosen = [options[i] for i in rng.permutation(len(options))]
    chosen = (chosen * (count // len(chosen) + 1))[:count]
    excerpts = []
    for piece, starts in chosen:
        bar = int(rng.choice(starts))
        steps = slice(bar * piece.roll.steps_per_bar, (bar + bars) * piece.roll.steps_per_bar)
        roll = roll_from_arrays(
            piece.roll.active[steps], piece.roll.onset[steps], spec=piece.roll.spec,
            tempo_bpm=piece.roll.tempo_bpm, beats_per_bar=BEATS_PER_BAR,
        )  # fmt: skip
        excerpts.append(Excerpt(piece.name, piece.meta.get("title", piece.name), bar, bars, roll))
    return excerpts


def generated_pieces(
    model: LoadedModel, ranker: Ranker, settings: RoundSettings
) -> tuple[Samples, list[str]]:
    """The round's generated pieces and how each was chosen."""
    n = settings.n_pairs
    if settings.pick == "raw":
        samples = model.sample(n, settings.bars, settings.seed)
        return samples, [f"generated: raw sample {i + 1}" for i in range(n)]
    total = n * settings.candidates_per_pair
    samples = model.sample(total, settings.bars, settings.seed)
    ranked = rank_samples(samples, ranker, keep=n, spec=model.spec, beats_per_bar=model.beats_per_bar)
    index = [piece.candidate for piece in ranked]
    return samples.take(index), [f"generated: the SVM's pick {p.rank} of {total}" for p in ranked]


def random_notes(rng: np.random.Generator, steps: int, n_pitches: int, voices: int = 4) -> Samples:
    """Four voices of random pitches and random lengths (1–8 steps): obviously not Bach."""
    active = np.zeros((1, steps, n_pitches), bool)
    onset = np.zeros_like(active)
    for _ in range(voices):
        step = 0
        while step < steps:
            length, pitch = int(rng.integers(1, 9)), int(rng.integers(0, n_pitches))
            active[0, step : step + length, pitch] = True
            onset[0, step, pitch] = True
            step += length
    return Samples(active, onset)


class Judges:
    """The SVM's 0–100 chorale-likeness grade of a clip, and the discriminator's D(x) (when it has one)."""

    def __init__(self, model: LoadedModel, ranker: Ranker) -> None:
        self.ranker = ranker
        self.critic = critic_of(model)

    def __call__(self, active: np.ndarray, onset: np.ndarray) -> tuple[float, float | None]:
        samples = Samples(active[None], onset[None])
        svm = float(self.ranker.grade(self.ranker.score(window_features(self.ranker, samples)))[0])
        d = None if self.critic is None else float(critic_probabilities(self.critic, active, onset)[0])
        return svm, d


def _midi(active: np.ndarray, onset: np.ndarray, spec: RollSpec, tempo: float, program: int) -> bytes:
    roll = roll_from_arrays(active, onset, spec=spec, tempo_bpm=tempo, beats_per_bar=BEATS_PER_BAR)
    return roll_to_midi_bytes(roll, program=program)


def _pair(
    position: int, kind: str, excerpt: Excerpt, other: tuple[np.ndarray, np.ndarray, str],
    judges: Judges, program: int,
) -> Pair:  # fmt: skip
    real = excerpt.roll
    svm_real, d_real = judges(real.active, real.onset)
    svm_other, d_other = judges(other[0], other[1])
    return Pair(
        position=position,
        kind=kind,
        real_midi=_midi(real.active, real.onset, real.spec, real.tempo_bpm, program),
        other_midi=_midi(other[0], other[1], real.spec, real.tempo_bpm, program),
        real_source=excerpt.describe() + ", test split",
        other_source=other[2],
        judges={"svm_real": svm_real, "svm_other": svm_other, "d_real": d_real, "d_other": d_other},
    )


def build_round(settings: RoundSettings, model: LoadedModel, ranker: Ranker) -> tuple[dict, list[Pair]]:
    """The round's settings (as stored) and its pairs: ``n_pairs`` test pairs, then the attention check.

    ``model`` is the settings' checkpoint loaded (:func:`core.sampling.load_model`), ``ranker`` the SVM
    that picks and judges.
    """
    if model.spec.n_pitches != bundled_corpus().spec.n_pitches or model.beats_per_bar != BEATS_PER_BAR:
        raise ValueError("this model does not write 4/4 music on the chorales' grid; choose another")
    rng = np.random.default_rng(settings.seed)
    excerpts = real_excerpts(settings.n_pairs + 1, settings.bars, rng)
    samples, sources = generated_pieces(model, ranker, settings)
    judges = Judges(model, ranker)
    generated = [(samples.active[i], samples.onset[i], sources[i]) for i in range(settings.n_pairs)]
    pairs = [
        _pair(i, "test", excerpt, other, judges, settings.program)
        for i, (excerpt, other) in enumerate(zip(excerpts, generated, strict=False))
    ]
    noise = random_notes(rng, settings.bars * model.steps_per_bar, model.spec.n_pitches)
    attention = (noise.active[0], noise.onset[0], "random notes (attention check)")
    pairs.append(_pair(settings.n_pairs, "attention", excerpts[-1], attention, judges, settings.program))
    for pair in pairs:
        render_wav(pair.real_midi)  # renders are cached by content: listeners get them at once
        render_wav(pair.other_midi)
    stored = {**asdict(settings), "pick_label": PICKS[settings.pick], "critic": judges.critic is not None}
    return stored, pairs
