"""Training the four-voice GAN: tiny runs on a tiny four-part corpus, both ways through discrete samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.data.config import DataConfig
from core.families import FAMILIES, config_of
from core.models.satb import SATBNetConfig
from core.training.config import RunConfig, config_to_dict, with_changes
from core.training.loop import train_run
from core.training.runfiles import read_metrics, read_status
from core.training.satb import SATBTrainConfig, SATBTrainer, sequence_rewards
from core.training.satb_data import train_and_valid
from tests.support.part_files import make_parts

pytestmark = pytest.mark.usefixtures("one_thread")

CHORDS = ((72, 67, 64, 48), (74, 67, 62, 55), (72, 69, 65, 53), (71, 67, 62, 55))


def four_part_piece(shift: int, bars: int = 6) -> bytes:
    """A four-part file of quarter-note chords cycling through :data:`CHORDS`, a fermata every 2 bars."""
    parts: dict[str, list[tuple[int, float, float]]] = {
        name: [] for name in ("Soprano", "Alto", "Tenor", "Bass")
    }
    for beat in range(4 * bars):
        chord = CHORDS[beat % len(CHORDS)]
        for name, pitch in zip(parts, chord, strict=True):
            parts[name].append((pitch + shift, float(beat), beat + 1.0))
    markers = [("fermata", 8.0 * phrase + 6.0) for phrase in range(bars // 2)]
    return make_parts(parts, markers=markers)


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GMS_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "corpus"
    folder.mkdir()
    for index, shift in enumerate((0, 2, -3)):
        (folder / f"piece{index}.mid").write_bytes(four_part_piece(shift))
    return folder


def tiny_config(corpus: Path, **changes: object) -> SATBTrainConfig:
    net = SATBNetConfig(latent_dim=4, pitch_embed=8, articulation_embed=4, g_hidden=16, head_hidden=16,
                        d_embed=8, d_hidden=8, d_layers=1)  # fmt: skip
    run = RunConfig(
        log_every=1, eval_every=4, eval_samples=4, sample_every=4, sample_midis=1, checkpoint_every=4
    )
    cfg = SATBTrainConfig(
        net=net,
        data=DataConfig(data_dir=str(corpus), bars=2),
        run=run,
        voice_transpose=(-1, 1),
        mle_steps=6,
        gan_steps=4,
        batch_size=4,
    )
    return with_changes(cfg, **changes) if changes else cfg


def test_training_windows_carry_tokens_keys_and_phrase_count_downs(corpus: Path) -> None:
    data = DataConfig(data_dir=str(corpus), bars=2)
    train, valid = train_and_valid(data, (-1, 1))
    assert len(train) == 3 * 5 * 3 and valid is train  # 5 two-bar windows a piece, 3 keys each
    keys = set(train_and_valid(data, ())[0].tonic.tolist())
    assert set(train.tonic.tolist()) == {(key + shift) % 12 for key in keys for shift in (-1, 0, 1)}
    tokens, cond = train.take(torch.arange(4))
    assert tokens.shape == (4, 32, 4) and cond.shape[:2] == (4, 32)
    first = train.to_next[0].tolist()
    assert first[0] == 24 and first[24] == 0  # the fermata on beat 3 of bar 2 (step 24)


@pytest.mark.parametrize(("estimator", "objective"), [("reinforce", "nonsaturating"), ("gumbel", "minimax")])
def test_a_run_pretrains_then_plays_the_game_and_logs_both_discriminator_outputs(
    corpus: Path, tmp_path: Path, estimator: str, objective: str
) -> None:
    cfg = tiny_config(corpus, estimator=estimator, objective=objective)
    status = train_run(SATBTrainer, cfg, tmp_path / "run")
    assert status.state == "finished", status.message
    records = read_metrics(tmp_path / "run")
    gan = [record for record in records if record.get("phase") == "gan"]
    assert len(gan) == 4
    assert all(0 < record["d_real"] < 1 and 0 < record["d_fake"] < 1 for record in gan)
    assert all(np.isfinite(record["loss_adv"]) for record in gan)
    assert any("valid_nll" in record and "q_score" in record for record in records)
    last = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)
    assert "mle_generator" in last and "discriminator" in last


def test_feature_matching_and_a_resumed_run(corpus: Path, tmp_path: Path) -> None:
    cfg = tiny_config(corpus, estimator="gumbel", objective="feature_matching", gan_steps=2)
    assert train_run(SATBTrainer, cfg, tmp_path / "run").state == "finished"
    longer = with_changes(cfg, gan_steps=4)
    status = train_run(SATBTrainer, longer, tmp_path / "run", resume=True)
    assert status.state == "finished" and status.step == 10
    assert read_status(tmp_path / "run")["step"] == 10


def test_config_round_trips_and_refuses_what_cannot_run(corpus: Path) -> None:
    cfg = tiny_config(corpus)
    assert config_of(config_to_dict(cfg)) == cfg
    assert FAMILIES["satb"].config_type is SATBTrainConfig
    for changes in ({"estimator": "exact"}, {"estimator": "reinforce", "objective": "feature_matching"},
                    {"batch_size": 1}):  # fmt: skip
        with pytest.raises(ValueError):
            with_changes(cfg, **changes).validate()


def test_rewards_follow_the_objective() -> None:
    logits = torch.tensor([-2.0, 0.0, 3.0])
    non_saturating = sequence_rewards("nonsaturating", logits)
    assert torch.allclose(non_saturating, torch.nn.functional.logsigmoid(logits))
    assert torch.allclose(sequence_rewards("minimax", logits), torch.nn.functional.softplus(logits))
    assert torch.allclose(sequence_rewards("wgan_gp", logits), logits)


def test_during_the_warm_up_only_the_discriminator_learns(corpus: Path, tmp_path: Path) -> None:
    cfg = tiny_config(corpus, gan_steps=2, d_warmup=2)
    assert train_run(SATBTrainer, cfg, tmp_path / "run").state == "finished"
    last = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)
    for name, value in last["model"].items():
        assert torch.equal(value, last["mle_generator"][name]), name
    gan = [record for record in read_metrics(tmp_path / "run") if record.get("phase") == "gan"]
    assert gan and all("loss_d" in record and "loss_adv" not in record for record in gan)


def test_the_four_voice_classroom_preset_is_a_valid_config() -> None:
    from core.training.presets import preset_config, presets_for

    [preset] = presets_for("satb")
    overrides = {key: value for key, value in preset_config(preset.name).items() if key != "model"}
    cfg = with_changes(SATBTrainConfig(), **overrides)
    cfg.validate()
    assert cfg.net.g_hidden == 128 and cfg.data.bars == 2 and cfg.total_steps == 1240
