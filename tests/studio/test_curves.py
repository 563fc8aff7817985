"""The Train page's curves in words: which records each chart draws, and where the game starts."""

from __future__ import annotations

from core.studio.curves import CURVES, adversarial_start, curve_records, has_data, progress_words


def test_each_chart_draws_its_own_phase_and_only_when_it_has_data() -> None:
    records = [
        {"phase": "mle", "step": 10, "loss_g": 3.0},
        {"phase": "gan", "step": 20, "loss_g": 0.7, "loss_d": 1.3, "d_real": 0.6, "d_fake": 0.4},
    ]
    imitation, game, beliefs = CURVES[0], CURVES[1], CURVES[2]
    assert [r["step"] for r in curve_records(records, imitation)] == [10]
    assert [r["step"] for r in curve_records(records, game)] == [20]
    assert has_data(records, beliefs) and not has_data(records[:1], beliefs)


def test_the_game_starts_after_pretraining_in_both_gan_families() -> None:
    assert adversarial_start({"model": "lstm_gan", "mle_steps": 1200, "gan_steps": 100}) == (1200, 1300)
    assert adversarial_start({"model": "satb", "mle_steps": 1200, "gan_steps": 40}) == (1200, 1240)
    assert adversarial_start({"model": "lstm_lm", "epochs": 30}) is None
    assert adversarial_start({"model": "satb", "mle_steps": 1200, "gan_steps": 0}) is None
    assert progress_words(30, 1300, "mle") == "pretraining (imitation), step 30 of 1,300"
