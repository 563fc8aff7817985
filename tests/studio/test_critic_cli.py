"""``python -m core.critic``: a small checkpoint's discriminator judges a MIDI file bar by bar (the bars add
up to its logit), beside the SVM's grade; a corrupt file, a checkpoint without a discriminator and a missing
checkpoint exit with code 2 and say why."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from core.cli.critic import main
from core.models.checkpoint import write_checkpoint_folder
from core.models.lstm_gan import LSTMDiscriminator, LSTMGenerator, ModelConfig
from core.training.config import config_to_dict
from core.training.lstm_gan import GANTrainConfig
from tests.support.hostile_midi import truncated
from tests.support.midi_files import make_midi

pytestmark = pytest.mark.usefixtures("one_thread")

SMALL = ModelConfig(n_pitches=48, latent_dim=8, noise_dim=4, g_hidden=32, d_hidden=8, d_layers=1)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained small LSTM GAN saved with its discriminator."""
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("checkpoints") / "small_gan"
    critic = {"discriminator": LSTMDiscriminator(SMALL).state_dict()}
    config = config_to_dict(GANTrainConfig(net=SMALL))
    return write_checkpoint_folder(folder, LSTMGenerator(SMALL).state_dict(), config, critic)


@pytest.fixture
def piece(tmp_path: Path) -> Path:
    """Six bars of chords at 120 bpm (two seconds a bar)."""
    notes = [(pitch + bar % 3, 2.0 * bar, 2.0 * bar + 1.9) for bar in range(6) for pitch in (48, 55, 64, 72)]
    path = tmp_path / "piece.mid"
    path.write_bytes(make_midi(notes))
    return path


def test_the_verdict_is_split_over_the_bars_of_the_models_window(checkpoint, piece, capsys) -> None:
    assert main([str(piece), "--checkpoint", str(checkpoint), "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["bars"] == len(found["per_bar"]) == 4  # the model's training window, not the file's six
    assert found["bias"] + sum(found["per_bar"]) == pytest.approx(found["logit"], abs=1e-5)
    assert found["probability_real"] == pytest.approx(1 / (1 + math.exp(-found["logit"])), abs=1e-6)
    assert 0 <= found["svm_grade"] <= 100 and len(found["svm_lowest_features"]) <= 5
    assert main([str(piece), "--checkpoint", str(checkpoint), "--bars", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{piece}: D(x) = ") and "2 bars judged" in lines[0]
    assert [line.split(":")[0] for line in lines[1:3]] == ["  bar 1", "  bar 2"]
    assert lines[3].startswith("SVM chorale-likeness: ")


def test_a_corrupt_file_is_refused_with_the_parsers_reason(checkpoint, tmp_path, capsys) -> None:
    broken = tmp_path / "broken.mid"
    case = truncated()
    broken.write_bytes(case.data)
    assert main([str(broken), "--checkpoint", str(checkpoint)]) == 2
    captured = capsys.readouterr()
    assert case.error in captured.err and captured.out == ""


def test_a_checkpoint_without_a_discriminator_is_refused(small_checkpoint_folder, piece, capsys) -> None:
    assert main([str(piece), "--checkpoint", str(small_checkpoint_folder)]) == 2
    assert "has no saved discriminator" in capsys.readouterr().err


def test_a_missing_checkpoint_is_refused(piece, tmp_path, capsys) -> None:
    assert main([str(piece), "--checkpoint", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.startswith("error: ")
