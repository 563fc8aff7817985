"""The shipped four-voice checkpoint: it loads safely, writes four voices in range, keeps a given soprano,
and its pieces are far closer to chorale voice leading than an untrained model's."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core.music.musicianship import theory_metrics
from core.paths import CHECKPOINTS_DIR
from core.sampling import load_model
from core.sampling.satb import chorale_pieces, free_pieces, harmonise, writes_voices

pytestmark = pytest.mark.usefixtures("one_thread")

SHIPPED = CHECKPOINTS_DIR / "satb"


def test_the_folder_holds_weights_a_config_and_a_card() -> None:
    assert {p.name for p in SHIPPED.iterdir()} >= {"model.pt", "config.json", "README.md"}
    assert json.loads((SHIPPED / "config.json").read_text())["model"] == "satb"
    state = torch.load(SHIPPED / "model.pt", weights_only=True, map_location="cpu")
    assert all(isinstance(value, torch.Tensor) for value in state.values())


def test_free_pieces_sing_in_four_voices_with_few_parallels() -> None:
    model = load_model(SHIPPED)
    assert writes_voices(model)
    pieces = free_pieces(model, n=32, bars=4, phrase_bars=2, key=(0, "major"), seed=3)
    assert all(voices.range_problem() is None for voices in pieces.voices)
    samples = pieces.samples
    values = theory_metrics(
        samples.active, samples.onset, phrase_end=samples.phrase_end, voices=samples.voices
    )
    # These 32 pieces: 0.09 parallels per bar, 64 % triads, 100 % of steps in four voices; the same
    # network untrained: 0.46 parallels per bar, 4 % triads, 89 % of steps in four voices.
    assert np.nanmean(values["four_voice_step_share"]) > 0.95
    assert np.nanmean(values["parallel_perfects_per_bar"]) < 0.3
    assert np.nanmean(values["triad_share"]) > 0.45


def test_a_held_out_soprano_is_kept_note_for_note() -> None:
    model = load_model(SHIPPED)
    tune = chorale_pieces("test")[0].voices
    written = harmonise(model, tune, n=2, seed=0)
    for voices in written.voices:
        assert np.array_equal(voices.pitch[:, 0], tune.pitch[:, 0])
        assert (voices.pitch[:, 1:] >= 0).mean() > 0.9
