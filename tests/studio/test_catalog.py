"""How the app names the shipped checkpoints and lists them."""

from __future__ import annotations

from core.paths import CHECKPOINTS_DIR, DEFAULT_CHECKPOINT
from core.studio.catalog import checkpoint_key, checkpoint_label, shipped_checkpoints


def test_every_shipped_folder_has_a_name_a_key_and_no_path() -> None:
    shipped = shipped_checkpoints()
    assert {"lstm_gan", "lstm_lm", "cnn_gan", "satb"} <= set(shipped)
    for kind, folder in shipped.items():
        assert checkpoint_key(folder) == kind
        assert "/" not in checkpoint_label(folder)


def test_the_default_the_baselines_and_the_four_voice_model_are_told_apart() -> None:
    assert checkpoint_label(DEFAULT_CHECKPOINT).startswith("Shipped default: ")
    assert checkpoint_label(CHECKPOINTS_DIR / "lstm_lm").startswith("Shipped baseline: Next-step LSTM")
    assert checkpoint_label(CHECKPOINTS_DIR / "cnn_gan").startswith("Shipped baseline: CNN-GAN")
    assert checkpoint_label(CHECKPOINTS_DIR / "satb") == "Shipped model: Four-voice (SATB) LSTM-vs-LSTM GAN"
