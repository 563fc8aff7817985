"""JSB Chorales loading, padding and the benchmark's NLL bookkeeping."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from core.data.config import DataConfig
from core.data.jsb import JSB_DIR, load_jsb, piece_to_frames, random_transpositions, uniform_nll_per_frame
from core.models.checkpoint import write_checkpoint_folder
from core.models.lstm_lm import LMConfig, LSTMLanguageModel, frame_nll
from core.paths import REPO_ROOT
from core.training.config import config_to_dict
from core.training.lstm_lm import LMTrainConfig, batches, pad_pieces, sequence_nll

BENCHMARK = REPO_ROOT / "benchmarks" / "jsb_nll.py"


def test_piece_to_frames_marks_the_sounding_pitches() -> None:
    frames = piece_to_frames([[60, 64, 67], [], [21, 108]])
    assert frames.shape == (3, 88) and frames.dtype == bool
    assert np.flatnonzero(frames[0]).tolist() == [39, 43, 46]
    assert not frames[1].any()
    assert np.flatnonzero(frames[2]).tolist() == [0, 87]


def test_piece_to_frames_refuses_pitches_outside_the_range() -> None:
    with pytest.raises(ValueError, match="outside"):
        piece_to_frames([[60], [20]])
    with pytest.raises(ValueError, match="outside"):
        piece_to_frames([[84]], lowest=36, n_pitches=48)


def test_load_jsb_reads_every_split(tmp_path: Path) -> None:
    data = {"train": [[[60, 64], [62]]], "valid": [[[48]]], "test": [[[55], [57], []]]}
    (tmp_path / "jsb-chorales-quarter.json").write_text(json.dumps(data))
    loaded = load_jsb("quarter", folder=tmp_path)
    assert [len(loaded[s]) for s in ("train", "valid", "test")] == [1, 1, 1]
    assert loaded["test"][0].shape == (3, 88)
    assert loaded["train"][0][0, 60 - 21] and loaded["train"][0][0, 64 - 21]
    with pytest.raises(ValueError, match="resolution"):
        load_jsb("eighth", folder=tmp_path)


def test_bundled_split_has_the_benchmark_sizes() -> None:
    data = load_jsb("quarter", folder=JSB_DIR)
    assert [len(data[s]) for s in ("train", "valid", "test")] == [229, 76, 77]
    assert sum(len(p) for p in data["test"]) == 4725


def test_pad_pieces_masks_the_padding() -> None:
    pieces = [np.ones((3, 88), bool), np.ones((5, 88), bool)]
    frames, mask = pad_pieces(pieces)
    assert frames.shape == (2, 5, 88)
    assert mask.tolist() == [[True] * 3 + [False] * 2, [True] * 5]
    assert float(frames[0, 3:].sum()) == 0.0
    seen = sum(int(m.sum()) for _, m in batches(pieces, 1, np.random.default_rng(0)))
    assert seen == 8


def test_random_transpositions_shift_whole_pieces_and_keep_them_on_the_keyboard() -> None:
    middle = piece_to_frames([[60, 64], [62]])
    top = piece_to_frames([[108], [100]])
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(50):
        moved_middle, moved_top = random_transpositions([middle, top], rng, -6, 5)
        shift = int(np.flatnonzero(moved_middle[0])[0]) - 39
        assert -6 <= shift <= 5
        assert np.array_equal(np.roll(middle, shift, axis=1), moved_middle)
        seen.add(shift)
        top_shift = int(np.flatnonzero(moved_top[0])[0]) - 87
        assert top_shift <= 0 and np.array_equal(np.roll(top, top_shift, axis=1), moved_top)
    assert len(seen) > 6
    assert random_transpositions([middle], rng, 0, 0)[0] is middle


def test_a_model_that_says_half_everywhere_scores_the_uniform_nll() -> None:
    model = LSTMLanguageModel(LMConfig(n_pitches=88, hidden=8, layers=2, onsets=False))
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.zero_()
    pieces = [piece_to_frames([[60, 64], [62], [], [70, 71, 72]]), piece_to_frames([[40]] * 7)]
    assert uniform_nll_per_frame() == pytest.approx(61.0, abs=0.01)
    assert sequence_nll(model, pieces) == pytest.approx(88 * math.log(2), rel=1e-6)
    assert sequence_nll(model, pieces, skip_first=True) == pytest.approx(88 * math.log(2), rel=1e-6)


def test_skip_first_leaves_out_each_pieces_first_frame() -> None:
    torch.manual_seed(0)
    model = LSTMLanguageModel(LMConfig(n_pitches=88, hidden=8, layers=1, dropout=0.0, onsets=False))
    pieces = [piece_to_frames([[60], [62], [64]]), piece_to_frames([[50], [52]])]
    with torch.no_grad():
        frames, _ = pad_pieces(pieces)
        nll = frame_nll(model(frames), frames, model.cfg)
    expected = float((nll[0, 1:3].sum() + nll[1, 1:2].sum()) / 3)
    assert sequence_nll(model, pieces, skip_first=True) == pytest.approx(expected, rel=1e-5)


def test_benchmark_script_prints_the_test_nll_last(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    spec = importlib.util.spec_from_file_location("jsb_nll", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    net = LMConfig(n_pitches=88, hidden=8, layers=1, onsets=False)
    cfg = LMTrainConfig(net=net, source="jsb-quarter", data=DataConfig(lowest_pitch=21, steps_per_beat=1))
    model = LSTMLanguageModel(cfg.net)
    write_checkpoint_folder(tmp_path / "ckpt", model.state_dict(), config_to_dict(cfg))
    assert module.main(["--checkpoint", str(tmp_path / "ckpt")]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("test_nll_nats_per_frame=")
    assert 0 < float(last.split("=")[1]) < 200
