"""The critic's two judges of one piece, as the GAN Lab page and ``python -m core.critic`` show them: the
discriminator of a checkpoint (:mod:`core.models.critic`, its verdict split over the piece's steps) and the
SVM's chorale-likeness grade with its lowest feature grades.

A MIDI file is read through the guarded parser (:func:`core.midi.load_midi`, the path uploads take) and
judged on its first bars, as many as the model's training windows hold.
"""

from __future__ import annotations

import os

import numpy as np

from core.midi import load_midi
from core.models.base import Samples
from core.models.checkpoint import CheckpointError
from core.models.critic import build_critic
from core.models.lstm_gan import LSTMDiscriminator
from core.music.pianoroll import PianoRoll, RollSpec, score_to_roll, window
from core.ranking.features import RANKER_FEATURE_LABELS, RANKER_FEATURE_NAMES
from core.ranking.pipeline import window_features
from core.ranking.reference import load_ranker
from core.ranking.svm import Ranker
from core.sampling import LoadedModel

SHOWN_FEATURES = 5
"""How many of the SVM's lowest feature grades are shown."""


def critic_of(model: LoadedModel) -> LSTMDiscriminator | None:
    """The checkpoint's discriminator in eval mode, or None when it saved none (only LSTM GANs do).

    Raises :class:`CheckpointError` when the saved weights do not fit the network its config describes.
    """
    if model.critic is None or model.kind != "lstm_gan":
        return None
    try:
        return build_critic(model.config.net, model.critic)
    except (RuntimeError, KeyError) as error:
        reason = str(error).splitlines()[0][:160]
        raise CheckpointError(
            f"the discriminator of {model.source.name} does not fit its config ({reason})"
        ) from None


def file_window(source: bytes | str | os.PathLike, name: str | None, spec: RollSpec, bars: int) -> PianoRoll:
    """A MIDI file's first ``bars`` bars as a piano-roll on ``spec`` (padded with silence when shorter).

    Raises :class:`core.midi.MidiRejected`, with a sentence for people, for a file the guards refuse.
    """
    roll = score_to_roll(load_midi(source, name), spec)
    return window(roll, 0, bars * roll.steps_per_bar)


def svm_grades(roll: PianoRoll, ranker: Ranker | None = None) -> tuple[float, list[tuple[float, str]]]:
    """The SVM's 0–100 chorale-likeness of a piece and its lowest-graded features (grade, sentence)."""
    ranker = ranker or load_ranker()
    features = window_features(ranker, Samples(roll.active[None], roll.onset[None]))
    grade = float(ranker.grade(ranker.score(features))[0])
    grades = ranker.feature_grades(features)[0]
    reasons = {reason.feature: reason.text for reason in ranker.explain(features, k=len(grades))[0]}
    lowest = [int(j) for j in np.argsort(grades)[:SHOWN_FEATURES] if np.isfinite(grades[j])]
    sentences = []
    for j in lowest:
        name = RANKER_FEATURE_NAMES[j]
        fallback = RANKER_FEATURE_LABELS[name][0].upper() + RANKER_FEATURE_LABELS[name][1:]
        sentences.append((float(grades[j]), reasons.get(name, fallback)))
    return grade, sentences
