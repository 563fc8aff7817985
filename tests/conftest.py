"""Shared test fixtures. Builders of MIDI files and rolls live in ``tests/support``; test modules import
those, never each other."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.paths import RUNS_ENV
from core.studio.roles import TEACHER_PIN_ENV
from tests.support.midi_files import make_midi


@pytest.fixture
def midi_bytes() -> bytes:
    return make_midi()


@pytest.fixture(scope="session")
def small_checkpoint_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained small generator in the shipped format (ranked by the shipped ranker, like every model)."""
    import torch

    from core.models.lstm_gan import LSTMGenerator, ModelConfig
    from core.training.config import config_to_dict
    from core.training.lstm_gan import GANTrainConfig

    small = ModelConfig(n_pitches=48, latent_dim=8, noise_dim=4, g_hidden=32, d_hidden=8, d_layers=1)
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("checkpoints") / "ckpt"
    folder.mkdir()
    torch.save(LSTMGenerator(small).state_dict(), folder / "model.pt")
    (folder / "config.json").write_text(json.dumps(config_to_dict(GANTrainConfig(net=small))))
    return folder


@pytest.fixture
def one_thread():
    """One torch thread: on a shared machine, more threads make these small networks several times slower."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def fresh_server_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A server of its own for a page test: runs and caches under ``tmp_path``, no teacher PIN (everyone is
    the teacher, as on a laptop). Returns the runs folder."""
    monkeypatch.setenv(RUNS_ENV, str(tmp_path / "runs"))
    monkeypatch.setenv("GMS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(TEACHER_PIN_ENV, raising=False)
    return tmp_path / "runs"
