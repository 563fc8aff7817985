"""Loading models, sampling pieces, exporting, and the generate CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
import torch

from core.cli.generate import main
from core.models.lstm_gan import LSTMGenerator, ModelConfig
from core.sampling import LoadedModel, export_checkpoint, load_model
from core.training.config import config_to_dict
from core.training.lstm_gan import GANTrainConfig

pytestmark = pytest.mark.usefixtures("one_thread")

SMALL = ModelConfig(n_pitches=48, latent_dim=8, noise_dim=4, g_hidden=32, d_hidden=8, d_layers=1)


@pytest.fixture
def checkpoint_dir(tmp_path: Path) -> Path:
    """A shipped-format checkpoint folder: model.pt (state_dict) + config.json."""
    torch.manual_seed(0)
    folder = tmp_path / "ckpt"
    folder.mkdir()
    torch.save(LSTMGenerator(SMALL).state_dict(), folder / "model.pt")
    (folder / "config.json").write_text(json.dumps(config_to_dict(GANTrainConfig(net=SMALL))))
    return folder


def sample_rolls(
    model: LoadedModel,
    n: int,
    bars: int = 4,
    seed: int = 0,
    temperature: float = 1.0,
    tempo_bpm: float = 100.0,
    threshold: float | None = None,
) -> list:
    return model.to_rolls(model.sample(n, bars, seed, temperature, threshold), tempo_bpm)


def test_sampling_is_deterministic_for_a_seed(checkpoint_dir: Path) -> None:
    generator = load_model(checkpoint_dir)
    first = sample_rolls(generator, 3, bars=2, seed=5)
    again = sample_rolls(generator, 3, bars=2, seed=5)
    other = sample_rolls(generator, 3, bars=2, seed=6)
    assert [r.n_steps for r in first] == [32, 32, 32]
    assert all(
        np.array_equal(a.active, b.active) and np.array_equal(a.onset, b.onset)
        for a, b in zip(first, again, strict=True)
    )
    assert not all(np.array_equal(a.active, b.active) for a, b in zip(first, other, strict=True))
    assert all(not (r.onset & ~r.active).any() for r in first)


def test_tempo_and_temperature_reach_the_rolls(checkpoint_dir: Path) -> None:
    generator = load_model(checkpoint_dir)
    (roll,) = sample_rolls(generator, 1, bars=1, seed=0, tempo_bpm=72.0)
    assert roll.tempo_bpm == 72.0 and roll.spec == generator.spec
    cold = sample_rolls(generator, 8, bars=1, seed=0, temperature=0.2)
    hot = sample_rolls(generator, 8, bars=1, seed=0, temperature=5.0)
    distinct = [len({r.active.tobytes() for r in rolls}) for rolls in (cold, hot)]
    assert distinct[1] >= distinct[0]
    with pytest.raises(ValueError):
        sample_rolls(generator, 1, temperature=0.0)


def test_threshold_decoding_has_no_sampling_noise(checkpoint_dir: Path) -> None:
    generator = load_model(checkpoint_dir)
    first = sample_rolls(generator, 2, bars=1, seed=3, threshold=0.5)
    again = sample_rolls(generator, 2, bars=1, seed=3, threshold=0.5)
    assert all(np.array_equal(a.active, b.active) for a, b in zip(first, again, strict=True))


def test_run_checkpoint_exports_to_a_small_state_dict(checkpoint_dir: Path, tmp_path: Path) -> None:
    model = LSTMGenerator(SMALL)
    config = json.loads((checkpoint_dir / "config.json").read_text())
    run_checkpoint = tmp_path / "last.pt"
    torch.save({"model": model.state_dict(), "config": config, "step": 7, "optim": {}}, run_checkpoint)
    out = export_checkpoint(run_checkpoint, tmp_path / "exported")
    state = torch.load(out / "model.pt", weights_only=True)
    assert set(state) == set(model.state_dict())
    loaded = load_model(out)
    assert loaded.config == GANTrainConfig(net=SMALL)
    assert torch.equal(loaded.net.pitch_head.weight, model.pitch_head.weight)


def test_cli_writes_valid_midi(checkpoint_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "midi"
    code = main(
        [
            "--checkpoint",
            str(checkpoint_dir),
            "--n",
            "3",
            "--bars",
            "2",
            "--seed",
            "1",
            "--tempo",
            "90",
            "--program",
            "19",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    paths = sorted(out.glob("*.mid"))
    assert len(paths) == 3 and capsys.readouterr().out.count(".mid") == 3
    for path in paths:
        midi = pretty_midi.PrettyMIDI(io.BytesIO(path.read_bytes()))
        assert midi.instruments[0].program == 19 and midi.instruments[0].notes
        assert midi.get_tempo_changes()[1][0] == pytest.approx(90.0, abs=0.01)
        assert midi.get_end_time() == pytest.approx(2 * 4 * 60 / 90, abs=0.05)


def test_cli_rejects_a_missing_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["--checkpoint", str(tmp_path / "none"), "--out", str(tmp_path / "x")]) == 2
    assert "error" in capsys.readouterr().err
