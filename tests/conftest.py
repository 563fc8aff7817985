"""Shared test fixtures: small MIDI files built inside the tests."""

from __future__ import annotations

import io
import json
from dataclasses import asdict
from pathlib import Path

import pretty_midi
import pytest


def make_midi(
    notes: list[tuple[int, float, float]] | None = None,
    *,
    tempo: float = 120.0,
    program: int = 0,
    is_drum: bool = False,
    resolution: int = 480,
) -> bytes:
    """Return the bytes of a one-instrument MIDI file with (pitch, start_s, end_s) notes."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo, resolution=resolution)
    inst = pretty_midi.Instrument(program=program, is_drum=is_drum)
    for pitch, start, end in notes or [(60, 0.0, 0.5), (64, 0.5, 1.0), (67, 1.0, 2.0)]:
        inst.notes.append(pretty_midi.Note(velocity=90, pitch=pitch, start=start, end=end))
    pm.instruments.append(inst)
    buf = io.BytesIO()
    pm.write(buf)
    return buf.getvalue()


@pytest.fixture
def midi_bytes() -> bytes:
    return make_midi()


@pytest.fixture(scope="session")
def small_checkpoint_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained small generator in the shipped format, with a quickly fitted ranker beside it."""
    import torch

    from core.evaluate import checkpoint_generator, corpus_real_data
    from core.models import LSTMGenerator, ModelConfig
    from core.ranker import RankerConfig, fit_on_rolls
    from core.train import TrainConfig

    small = ModelConfig(n_pitches=48, latent_dim=8, noise_dim=4, g_hidden=32, d_hidden=8, d_layers=1)
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("checkpoints") / "ckpt"
    folder.mkdir()
    torch.save(LSTMGenerator(small).state_dict(), folder / "model.pt")
    (folder / "config.json").write_text(json.dumps(asdict(TrainConfig(model=small))))
    real = corpus_real_data()
    generated = checkpoint_generator(folder)(64, 99)
    quick_svm = RankerConfig(c_grid=(1.0,), gamma_scales=(1.0,), cv_folds=2)
    ranker = fit_on_rolls((real.train[0][:200], real.train[1][:200]), generated, config=quick_svm)
    ranker.save(folder / "ranker.npz")
    return folder
