"""Training faults: a run killed with SIGKILL resumes losing at most one checkpoint interval; bad checkpoint
files give clear errors in the command line and the app; NaN stops a run with a status that says so; a
full disk while checkpointing leaves the previous checkpoint intact."""

from __future__ import annotations

import errno
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from core.data.config import DataConfig
from core.models.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from core.models.lstm_gan import ModelConfig
from core.paths import REPO_ROOT, RUNS_ENV
from core.sampling import load_model
from core.studio import jobs
from core.studio.choices import set_active_checkpoint
from core.training import adversarial
from core.training.config import RunConfig, config_from_dict, config_to_dict, with_changes
from core.training.context import Context
from core.training.data import WindowSet
from core.training.loop import train_run
from core.training.lstm_gan import GANTrainConfig, GANTrainer
from core.training.runfiles import read_metrics, read_status

REPO = REPO_ROOT
TINY = ModelConfig(n_pitches=12, latent_dim=4, noise_dim=2, g_hidden=16, d_hidden=8, d_layers=1)
EVERY = 5
"""Checkpoint interval of the runs here."""
UNREADABLE = "is not a readable checkpoint"
WRONG_SHAPE = "does not fit"


@pytest.fixture(autouse=True)
def isolated_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(RUNS_ENV, str(tmp_path / "runs"))
    monkeypatch.setenv("GMS_CACHE_DIR", str(tmp_path / "cache"))
    yield
    for info in jobs.list_runs():
        if info.alive:
            jobs.stop_run(info.run_id, wait_s=30)


def train(cfg: GANTrainConfig, run_dir: Path, resume: bool = False):
    return train_run(GANTrainer, cfg, run_dir, resume=resume)


@pytest.fixture
def config(tmp_path: Path) -> GANTrainConfig:
    rng = np.random.default_rng(0)
    active = rng.random((32, 16, 12)) < 0.25
    data = tmp_path / "windows.npz"
    np.savez(data, train_active=active, train_onset=active)
    return GANTrainConfig(
        net=TINY, data=DataConfig(data_dir=str(data), bars=1), mle_steps=8, gan_steps=4, batch_size=4,
        run=RunConfig(log_every=1, eval_every=0, sample_every=0, checkpoint_every=EVERY),
    )  # fmt: skip


def wait_for(condition, timeout_s: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def checkpoint_step(path: Path) -> int | None:
    try:
        return int(torch.load(path, weights_only=True)["step"])
    except (OSError, RuntimeError, EOFError, KeyError):
        return None


# --- kill -9 and resume ------------------------------------------------------------------------------------


def test_sigkill_mid_run_loses_at_most_one_interval_and_resumes(config: GANTrainConfig) -> None:
    endless = replace(config, mle_steps=1_000_000, gan_steps=0)
    run_id = jobs.start_run(config_to_dict(endless), run_id="killed")
    last = jobs.runs_root() / run_id / "checkpoints" / "last.pt"
    wait_for(lambda: (checkpoint_step(last) or 0) >= 3 * EVERY, what="three checkpoints")
    pid = json.loads((jobs.runs_root() / run_id / "job.json").read_text())["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not jobs.run_info(run_id).alive, 10, "the process to die")

    info = jobs.run_info(run_id)
    assert info.state == "interrupted" and "resume" in info.message
    saved = checkpoint_step(last)
    reached = max(record["step"] for record in read_metrics(info.path))
    assert saved is not None and saved % EVERY == 0
    assert 0 <= reached - saved <= EVERY  # at most one checkpoint interval lost
    for path in (info.path / "checkpoints").glob("*.pt"):
        assert checkpoint_step(path) is not None, f"{path.name} is corrupt"

    resumed = replace(endless, mle_steps=saved + 3)
    status = train(resumed, info.path, resume=True)
    assert (status.state, status.step) == ("finished", saved + 3)
    steps = [record["step"] for record in read_metrics(info.path)]
    assert steps[-3:] == [saved + 1, saved + 2, saved + 3]


# --- NaN and a full disk -----------------------------------------------------------------------------------


def test_nan_in_the_adversarial_loss_fails_the_run_and_keeps_a_finite_checkpoint(
    config: GANTrainConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_loss = adversarial.generator_loss
    monkeypatch.setattr(adversarial, "generator_loss", lambda *args: real_loss(*args) * float("nan"))
    run_dir = tmp_path / "runs" / "nan"
    status = train(config, run_dir)  # MLE for 8 steps (checkpoint at 5), then the GAN phase
    assert status.state == "failed" and status.step == config.mle_steps  # the last good step
    saved = read_status(run_dir)
    assert saved["state"] == "failed" and "NaN" in saved["message"] and "step 9" in saved["message"]
    state = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)
    assert state["step"] == EVERY
    assert all(torch.isfinite(tensor).all() for tensor in state["model"].values())
    (run_dir / "job.json").write_text(json.dumps({"pid": 0}))
    assert jobs.run_info("nan").state == "failed"  # what the Train page shows


def _save_until_full(real_save):
    """A ``torch.save`` that writes half the file, then fails as a full disk does."""

    def save(obj, handle, *args, **kwargs):
        real_save(obj, handle, *args, **kwargs)
        handle.seek(handle.tell() // 2)
        handle.truncate()
        raise OSError(errno.ENOSPC, "No space left on device")

    return save


def test_disk_full_while_checkpointing_keeps_the_previous_checkpoint(
    config: GANTrainConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = tmp_path / "full"
    train(with_changes(config, mle_steps=EVERY, gan_steps=0), run_dir)
    before = (run_dir / "checkpoints" / "last.pt").read_bytes()
    monkeypatch.setattr(torch, "save", _save_until_full(torch.save))
    with pytest.raises(OSError, match="No space left"):
        train(with_changes(config, mle_steps=2 * EVERY, gan_steps=0), run_dir, resume=True)
    assert (run_dir / "checkpoints" / "last.pt").read_bytes() == before
    assert read_status(run_dir)["state"] == "failed" and "No space left" in read_status(run_dir)["message"]


def test_a_failed_checkpoint_write_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_checkpoint({"step": 1}, tmp_path / "last.pt")
    monkeypatch.setattr(torch, "save", _save_until_full(torch.save))
    with pytest.raises(OSError, match="No space left"):
        save_checkpoint({"step": 2}, tmp_path / "last.pt")
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"], "the partial file keeps the disk full"


# --- bad checkpoint files ----------------------------------------------------------------------------------


class _Payload:
    """Unpickling this runs ``os.system``."""

    def __reduce__(self):
        return (os.system, ("echo owned",))


class _MakeFolder:
    """Unpickling this creates a folder: a visible side effect."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (str(self.path),))


def checkpoint_of(config: GANTrainConfig) -> dict:
    """A fresh trainer's ``last.pt`` dict."""
    empty = np.zeros((1, config.data.n_steps, config.net.n_pitches), bool)
    trainer = GANTrainer(config, Context(device=torch.device("cpu")), WindowSet(empty, empty, empty, empty))
    return {
        "model": trainer.sampler_state(),
        "config": config_to_dict(config),
        "step": 0,
        **trainer.state_dict(),
    }


def bad_checkpoints(folder: Path, config: GANTrainConfig) -> dict[str, tuple[Path, str]]:
    """Name → (file, words the error must contain)."""
    good = folder / "good.pt"
    torch.save(checkpoint_of(config), good)
    other = checkpoint_of(replace(config, net=replace(TINY, g_hidden=24)))
    other["config"] = config_to_dict(config)  # claims this config, holds other weights
    files = {
        "truncated": (good.read_bytes()[: good.stat().st_size // 2], UNREADABLE),
        "empty": (b"", UNREADABLE),
        "text": (b"these are not the weights you are looking for", UNREADABLE),
        "pickle": (pickle.dumps({"model": _Payload()}), UNREADABLE),
    }
    paths = {}
    for name, (data, words) in files.items():
        (folder / f"{name}.pt").write_bytes(data)
        paths[name] = (folder / f"{name}.pt", words)
    torch.save(other, folder / "architecture.pt")
    paths["architecture"] = (folder / "architecture.pt", WRONG_SHAPE)
    return paths


@pytest.fixture
def bad_files(tmp_path: Path, config: GANTrainConfig) -> dict[str, tuple[Path, str]]:
    folder = tmp_path / "bad"
    folder.mkdir()
    return bad_checkpoints(folder, config)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def test_generate_cli_explains_each_bad_checkpoint(bad_files, tmp_path: Path) -> None:
    for name, (path, words) in bad_files.items():
        done = run_cli(
            "-m", "core.generate", "--checkpoint", str(path), "--n", "1", "--out", str(tmp_path / "o")
        )
        assert done.returncode == 2, (name, done.stderr[-800:])
        assert "Traceback" not in done.stderr and words in done.stderr, (name, done.stderr[-800:])
        assert "owned" not in done.stdout


def test_resuming_from_a_bad_checkpoint_fails_with_a_clear_status(config: GANTrainConfig, bad_files) -> None:
    for name, (path, words) in bad_files.items():
        run_dir = jobs.runs_root() / f"resume-{name}"
        (run_dir / "checkpoints").mkdir(parents=True)
        (run_dir / "config.json").write_text(json.dumps(config_to_dict(config)))
        (run_dir / "checkpoints" / "last.pt").write_bytes(path.read_bytes())
        done = run_cli("-m", "core.train", "--run-dir", str(run_dir), "--resume")
        assert done.returncode != 0 and "Traceback" not in done.stderr, (name, done.stderr[-800:])
        status = read_status(run_dir)
        assert status["state"] == "failed" and words in status["message"], (name, status)


def test_generate_page_shows_an_error_for_a_bad_checkpoint(bad_files) -> None:
    for name, (path, words) in bad_files.items():
        set_active_checkpoint(path)
        at = AppTest.from_file("../../pages/generate.py", default_timeout=60).run()
        next(b for b in at.button if b.label == "Generate and rank").click().run()
        assert not at.exception, (name, at.exception)
        assert at.error and words in at.error[0].value, (name, [e.value for e in at.error])


def test_a_good_checkpoint_from_the_same_fixture_loads(bad_files, tmp_path: Path) -> None:
    """The bad files are bad only by their defect: the file they were cut from loads."""
    good = tmp_path / "bad" / "good.pt"
    assert config_from_dict(GANTrainConfig, torch.load(good, weights_only=True)["config"]).net == TINY
    assert load_model(good).net.cfg == TINY


def test_a_checkpoint_holding_code_is_refused_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "evil.pt"
    torch.save({"model": _MakeFolder(marker)}, path)
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(path)
    assert not marker.exists()
    pickle.loads(pickle.dumps(_MakeFolder(marker)))  # the payload is live: plain unpickling runs it
    assert marker.is_dir()
