"""Training engine: tiny runs on synthetic windows, run files, resume, stop, NaN, DDP, CLI."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from core.cli import train as train_cli
from core.data.config import DataConfig
from core.families import FAMILIES
from core.models.lstm_gan import ModelConfig
from core.models.objectives import generator_loss
from core.paths import REPO_ROOT
from core.training.config import RunConfig, config_from_dict, config_to_dict, flat_config, with_changes
from core.training.context import Context
from core.training.data import WindowSet
from core.training.loop import train_run
from core.training.lstm_gan import GANTrainConfig, GANTrainer
from core.training.runfiles import read_metrics, read_status, request_stop
from tests.support.midi_files import make_midi

pytestmark = pytest.mark.usefixtures("one_thread")

ROOT = REPO_ROOT
TINY_MODEL = ModelConfig(n_pitches=12, latent_dim=4, noise_dim=2, g_hidden=16, d_hidden=8, d_layers=1)


def synthetic_windows(
    n: int, steps: int = 16, pitches: int = 12, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Three-voice chords that change every four steps."""
    rng = np.random.default_rng(seed)
    active = np.zeros((n, steps, pitches), bool)
    onset = np.zeros_like(active)
    for start in range(0, steps, 4):
        chord = rng.choice(pitches, size=(n, 3))
        for voice in range(3):
            active[np.arange(n), start : start + 4, chord[:, voice]] = True
            onset[np.arange(n), start, chord[:, voice]] = True
    return active, onset


def train(cfg: GANTrainConfig, run_dir: Path, resume: bool = False):
    return train_run(GANTrainer, cfg, run_dir, resume=resume)


@pytest.fixture
def tiny_config(tmp_path: Path) -> GANTrainConfig:
    active, onset = synthetic_windows(40)
    valid_active, valid_onset = synthetic_windows(10, seed=1)
    data = tmp_path / "windows.npz"
    np.savez(data, train_active=active, train_onset=onset, valid_active=valid_active, valid_onset=valid_onset)
    return GANTrainConfig(
        net=TINY_MODEL,
        data=DataConfig(data_dir=str(data), bars=1),
        run=RunConfig(
            log_every=1, eval_every=3, eval_samples=8, sample_every=3, sample_midis=1, checkpoint_every=2
        ),
        mle_steps=3,
        gan_steps=3,
        batch_size=4,
    )


def test_tiny_run_writes_the_run_files(tiny_config: GANTrainConfig, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    status = train(tiny_config, run_dir)
    assert status.state == "finished" and status.step == 6
    records = read_metrics(run_dir)
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5, 6]
    assert [r["phase"] for r in records] == ["mle"] * 3 + ["gan"] * 3
    for record in records:
        assert math.isfinite(record["loss_g"]) and record["samples_per_s"] > 0
    gan = records[-1]
    for key in ("loss_d", "d_real", "d_fake", "grad_norm_d", "grad_norm_g", "lr_g", "q_score"):
        assert math.isfinite(gan[key]), key
    saved = read_status(run_dir)
    assert saved["state"] == "finished" and saved["total_steps"] == 6 and saved["phase"] == "gan"
    assert config_from_dict(GANTrainConfig, json.loads((run_dir / "config.json").read_text())) == tiny_config
    checkpoint = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)
    assert checkpoint["step"] == 6 and set(checkpoint) >= {
        "model",
        "config",
        "step",
        "optim",
        "mle_generator",
    }
    assert set(torch.load(run_dir / "checkpoints" / "best.pt", weights_only=True)) >= {
        "model",
        "discriminator",
    }
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["best.pt", "last.pt"]
    assert sorted(p.name for p in (run_dir / "samples").iterdir()) == [
        "step_0000003.npz",
        "step_0000003_0.mid",
        "step_0000006.npz",
        "step_0000006_0.mid",
    ]


def test_resume_continues_the_step_count_exactly(tiny_config: GANTrainConfig, tmp_path: Path) -> None:
    straight = tmp_path / "straight"
    train(tiny_config, straight)
    split = tmp_path / "split"
    train(replace(tiny_config, gan_steps=1), split)
    status = train(tiny_config, split, resume=True)
    assert status.step == 6
    assert [r["step"] for r in read_metrics(split)] == [1, 2, 3, 4, 5, 6]
    one = torch.load(straight / "checkpoints" / "last.pt", weights_only=True)["model"]
    two = torch.load(split / "checkpoints" / "last.pt", weights_only=True)["model"]
    for name, tensor in one.items():
        assert torch.equal(tensor, two[name]), name


def test_resume_applies_changed_learning_rates(tiny_config: GANTrainConfig, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    train(replace(tiny_config, gan_steps=1), run_dir)
    train(replace(tiny_config, lr_d=3e-5, lr_g=2e-5), run_dir, resume=True)
    optim = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)["optim"]
    assert optim["d"]["param_groups"][0]["lr"] == 3e-5
    assert optim["g"]["param_groups"][0]["lr"] == 2e-5


def test_stop_file_ends_the_run_with_a_checkpoint(tiny_config: GANTrainConfig, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    request_stop(run_dir)
    status = train(tiny_config, run_dir)
    assert status.state == "stopped" and status.step == 1
    assert torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)["step"] == 1


def test_nan_loss_fails_with_a_clear_status(
    tiny_config: GANTrainConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(GANTrainer, "mle_step", lambda trainer, real: {"loss_g": float("nan")})
    status = train(tiny_config, tmp_path / "run")
    assert status.state == "failed" and "NaN" in status.message
    assert read_status(tmp_path / "run")["state"] == "failed"


def test_objectives_all_train(tiny_config: GANTrainConfig, tmp_path: Path) -> None:
    for objective in ("minimax", "nonsaturating", "wgan_gp"):
        cfg = with_changes(
            tiny_config, objective=objective, mle_steps=1, gan_steps=2, eval_every=0, sample_every=0
        )
        assert train(cfg, tmp_path / objective).state == "finished"
        assert math.isfinite(read_metrics(tmp_path / objective)[-1]["loss_d"])


def test_g_first_takes_the_generator_gradient_through_the_discriminator_before_its_update(
    tiny_config: GANTrainConfig, tmp_path: Path
) -> None:
    """One discriminator pass serves both updates; G's gradient is that of its own pass through D."""
    cfg = with_changes(tiny_config, g_first=True, instance_noise=0.0, d_dropout=0.0, adv_weight=2.0)
    active, onset = synthetic_windows(4)
    trainer = GANTrainer(cfg, Context(device=torch.device("cpu")), WindowSet(active, onset, active, onset))
    assert trainer.shares_d_pass()
    real = torch.from_numpy(np.concatenate([active, onset], -1)).float()
    fake = torch.rand(4, 16, 24, requires_grad=True)
    before = [p.detach().clone() for p in trainer.d_raw.parameters()]
    expected_loss = generator_loss(cfg.objective, trainer.d_raw(fake)[0])
    (expected,) = torch.autograd.grad(cfg.adv_weight * expected_loss, fake)
    record, adversarial, grad = trainer.joint_step(real, fake)
    assert torch.allclose(grad, expected, rtol=1e-4, atol=1e-8)
    assert float(adversarial) == pytest.approx(float(expected_loss.detach()))
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.d_raw.parameters(), strict=True))
    assert math.isfinite(record["loss_d"])
    assert train(with_changes(tiny_config, g_first=True), tmp_path / "run").state == "finished"


def test_config_from_dict_accepts_flat_nested_and_first_version_shapes_and_rejects_unknown() -> None:
    nested = config_from_dict(GANTrainConfig, {"net": {"g_hidden": 32}, "batch_size": 8})
    flat = config_from_dict(GANTrainConfig, {"g_hidden": 32, "batch_size": 8})
    first_version = config_from_dict(GANTrainConfig, {"model": {"g_hidden": 32}, "batch_size": 8, "seed": 0})
    assert nested == flat == first_version and flat.net.g_hidden == 32
    assert config_from_dict(GANTrainConfig, config_to_dict(flat)) == flat
    with pytest.raises(ValueError, match="unknown config keys for lstm_gan: colour"):
        config_from_dict(GANTrainConfig, {"colour": "red"})


def test_help_lists_every_config_field() -> None:
    text = train_cli.build_parser(FAMILIES["lstm_gan"]).format_help()
    missing = [
        n for n in flat_config(GANTrainConfig()) if n != "model" and f"--{n.replace('_', '-')}" not in text
    ]
    assert not missing


def test_flags_override_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps({"batch_size": 8, "model": {"g_hidden": 32}}))
    family = FAMILIES["lstm_gan"]
    args = train_cli.build_parser(family).parse_args(
        ["--config", str(path), "--g-hidden", "48", "--no-voices"]
    )
    cfg = train_cli.resolve_config(family, args)
    assert (cfg.batch_size, cfg.net.g_hidden, cfg.net.voices) == (8, 48, False)


def _run_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}


def test_two_process_gloo_run_agrees_with_the_config(tiny_config: GANTrainConfig, tmp_path: Path) -> None:
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps(config_to_dict(tiny_config)))
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "core.train",
        "--config",
        str(config),
        "--run-dir",
        str(tmp_path / "ddp"),
    ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=_run_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:  # end the launcher and both workers
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, stderr[-2000:]
    records = read_metrics(tmp_path / "ddp")
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5, 6]
    assert {r["world_size"] for r in records} == {2}
    assert (
        config_from_dict(GANTrainConfig, json.loads((tmp_path / "ddp" / "config.json").read_text()))
        == tiny_config
    )
    assert read_status(tmp_path / "ddp")["state"] == "finished"


def test_sigterm_stops_the_cli_cleanly(tiny_config: GANTrainConfig, tmp_path: Path) -> None:
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps(config_to_dict(replace(tiny_config, mle_steps=100_000))))
    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "core.train", "--config", str(config), "--run-dir", str(run_dir)]
    process = subprocess.Popen(
        command, cwd=ROOT, env=_run_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while (read_status(run_dir) or {}).get("state") != "running" and time.monotonic() < deadline:
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    status = read_status(run_dir)
    assert status["state"] == "stopped"
    assert torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)["step"] == status["step"] > 0


def test_trains_on_a_folder_of_midi_files(tmp_path: Path) -> None:
    folder = tmp_path / "midi"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for index in range(2):  # 8 bars of 4/4 at 120 bpm, a three-note chord per beat
        notes = [
            (int(p), beat * 0.5, beat * 0.5 + 0.5) for beat in range(32) for p in rng.choice(range(48, 72), 3)
        ]
        (folder / f"piece{index}.mid").write_bytes(make_midi(notes, tempo=120.0))
    cfg = GANTrainConfig(
        net=replace(TINY_MODEL, n_pitches=48),
        data=DataConfig(data_dir=str(folder)),
        run=RunConfig(eval_every=0, sample_every=0, log_every=1),
        mle_steps=2,
        gan_steps=1,
        batch_size=4,
    )
    assert train(cfg, tmp_path / "run").state == "finished"


def test_resume_after_a_crash_logs_each_step_once(tiny_config: GANTrainConfig, tmp_path: Path) -> None:
    """A run killed after its last checkpoint repeats those steps on resume; the log must not."""
    crashed, early = tmp_path / "crashed", tmp_path / "early"
    train(tiny_config, crashed)
    train(with_changes(tiny_config, mle_steps=2, gan_steps=0), early)
    shutil.copy(early / "checkpoints" / "last.pt", crashed / "checkpoints" / "last.pt")  # as if killed at 6
    assert train(tiny_config, crashed, resume=True).step == 6
    assert [r["step"] for r in read_metrics(crashed)] == [1, 2, 3, 4, 5, 6]
