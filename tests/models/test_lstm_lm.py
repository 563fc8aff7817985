"""Next-step LSTM: causality, the within-frame ordering, sampling, annealing and a tiny training run."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from core.cli.generate import main as generate_main
from core.cli.train import main as train_main
from core.cli.train import requested_family
from core.models.lstm_lm import LMConfig, LSTMLanguageModel, frame_nll, sample_frames
from core.sampling import load_model
from core.training.config import config_from_dict, model_kind
from core.training.context import Context
from core.training.data import WindowSet
from core.training.lstm_lm import LMTrainConfig, LMTrainer, sequence_nll
from tests.support.corpus import write_corpus

pytestmark = pytest.mark.usefixtures("one_thread")


def tiny(**changes) -> LMConfig:
    return replace(LMConfig(n_pitches=12, hidden=16, layers=2, dropout=0.0), **changes)


def random_frames(batch: int, steps: int, cfg: LMConfig, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    active = (torch.rand(batch, steps, cfg.n_pitches, generator=g) < 0.3).float()
    if not cfg.onsets:
        return active
    return torch.cat([active, active * (torch.rand(active.shape, generator=g) < 0.5).float()], dim=-1)


@pytest.mark.parametrize("within", [False, True])
def test_logits_do_not_see_the_future(within: bool) -> None:
    torch.manual_seed(0)
    cfg = tiny(within_frame=within)
    model = LSTMLanguageModel(cfg).eval()
    frames = random_frames(2, 6, cfg)
    changed = frames.clone()
    changed[:, 3:] = 1.0 - changed[:, 3:]
    a, b = model(frames), model(changed)
    assert torch.allclose(a.active[:, :3], b.active[:, :3])
    assert torch.allclose(a.restrike[:, :4], b.restrike[:, :4])


def test_within_frame_logits_see_only_lower_pitches_of_the_same_frame() -> None:
    torch.manual_seed(0)
    cfg = tiny(within_frame=True, onsets=False)
    model = LSTMLanguageModel(cfg).eval()
    with torch.no_grad():
        model.within.normal_()
    frames = random_frames(1, 3, cfg)
    changed = frames.clone()
    changed[0, 2, 7] = 1.0 - changed[0, 2, 7]
    a, b = model(frames).active, model(changed).active
    assert torch.allclose(a[0, 2, :8], b[0, 2, :8])
    assert not torch.allclose(a[0, 2, 8:], b[0, 2, 8:])


def test_restrike_loss_counts_only_held_notes() -> None:
    cfg = tiny()
    model = LSTMLanguageModel(cfg)
    frames = torch.zeros(1, 2, 2 * cfg.n_pitches)
    out = model(frames)
    out.active = torch.full_like(out.active, -30.0)
    out.restrike = torch.full_like(out.restrike, 30.0)
    assert float(frame_nll(out, frames, cfg).sum()) < 1e-6


def test_sampling_is_reproducible_and_onsets_lie_inside_active_cells() -> None:
    torch.manual_seed(0)
    cfg = tiny(within_frame=True)
    model = LSTMLanguageModel(cfg).eval()
    a = sample_frames(model, 3, 10, generator=torch.Generator().manual_seed(5))
    b = sample_frames(model, 3, 10, generator=torch.Generator().manual_seed(5))
    assert a.shape == (3, 10, 24) and torch.equal(a, b)
    active, onset = a[..., :12], a[..., 12:]
    assert bool((onset <= active).all())
    starts = active * (1 - torch.nn.functional.pad(active[:, :-1], (0, 0, 1, 0)))
    assert bool((onset >= starts).all())
    cold = sample_frames(model, 3, 10, temperature=0.05, generator=torch.Generator().manual_seed(1))
    assert set(cold.unique().tolist()) <= {0.0, 1.0}


def trainer_on(cfg: LMTrainConfig, pieces: np.ndarray) -> LMTrainer:
    """A trainer whose training and validation sequences are ``pieces`` bool [N, T, P]."""
    silent = np.zeros_like(pieces)
    return LMTrainer(cfg, Context(device=torch.device("cpu")), WindowSet(pieces, silent, pieces, silent))


def test_lr_is_cut_after_patience_stale_epochs() -> None:
    cfg = LMTrainConfig(net=tiny(), lr=1e-2, patience=2, lr_factor=0.5, min_lr=3e-3)
    trainer = trainer_on(cfg, np.zeros((1, 4, 12), bool))
    assert trainer.anneal(5.0) and trainer.best_state is not None
    assert trainer.anneal(5.5)
    assert trainer.anneal(5.5) and trainer.optimizer.param_groups[0]["lr"] == pytest.approx(5e-3)
    trainer.anneal(5.5)
    assert not trainer.anneal(5.5)  # 2.5e-3 < min_lr: the schedule ends


def test_tiny_model_learns_a_repeating_progression() -> None:
    chords = [[0, 4, 7], [5, 9], [7, 11, 2], [0, 4, 7]]
    piece = np.zeros((32, 12), dtype=bool)
    for t in range(32):
        piece[t, chords[(t // 2) % 4]] = True
    cfg = LMTrainConfig(net=tiny(onsets=False), epochs=120, batch_size=4, lr=1e-2, patience=50)
    cfg = replace(cfg, run=replace(cfg.run, seed=1))
    pieces = [piece.astype(np.float32)] * 4
    before = sequence_nll(LSTMLanguageModel(cfg.net), pieces)
    trainer = trainer_on(cfg, np.stack([piece] * 4))
    for _ in range(cfg.epochs):
        trainer.train_step(None)
    after = sequence_nll(trainer.model, pieces)
    assert before > 12 * math.log(2) * 0.8
    assert after < 2.0 < 6.0 < before


def test_training_run_writes_the_run_folder_and_a_loadable_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GMS_CACHE_DIR", str(tmp_path / "cache"))
    corpus = write_corpus(tmp_path / "corpus")
    run = tmp_path / "run"
    flags = ["--model", "lstm_lm", "--run-dir", str(run), "--data-dir", str(corpus), "--epochs", "2"]
    flags += [
        "--hidden",
        "16",
        "--eval-every",
        "1",
        "--sample-every",
        "1",
        "--eval-samples",
        "4",
        "--within-frame",
    ]
    assert train_main(flags) == 0
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "finished" and status["step"] == 2
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["epoch"] for m in metrics] == [1, 2] and all("q_score" in m for m in metrics)
    assert (run / "samples" / "step_0000001_0.mid").exists()
    config = json.loads((run / "config.json").read_text())
    assert model_kind(config) == "lstm_lm" and config_from_dict(LMTrainConfig, config).net.within_frame
    model = load_model(run / "checkpoints" / "best.pt")
    rolls = model.to_rolls(model.sample(2, bars=3, seed=4), tempo_bpm=90)
    assert [r.active.shape for r in rolls] == [(48, 48)] * 2 and rolls[0].tempo_bpm == 90
    export = ["--checkpoint", str(run / "checkpoints" / "last.pt"), "--export", str(tmp_path / "export")]
    assert generate_main(export) == 0
    loaded = load_model(tmp_path / "export")  # the one loader dispatches on the config's "model"
    assert loaded.kind == "lstm_lm" and loaded.sample(2, bars=1, seed=0).active.shape[1] == 16


def test_the_training_cli_serves_every_family(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert train_main(["--model", "lstm_lm", "--print-config", "--hidden", "8"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["model"] == "lstm_lm" and printed["net"]["hidden"] == 8
    config = tmp_path / "cnn.json"
    config.write_text(json.dumps({"model": "cnn_gan", "steps": 7}))
    assert requested_family(["--config", str(config)]).kind == "cnn_gan"
    assert requested_family(["--run-dir", "x"]).kind == "lstm_gan"
    assert train_main(["--config", str(config), "--print-config"]) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 7


def test_unknown_config_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown config keys"):
        config_from_dict(LMTrainConfig, {"model": "lstm_lm", "hiden": 3})
    assert model_kind({"model": {"g_hidden": 3}}) == "lstm_gan"
