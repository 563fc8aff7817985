"""AppTest: with the four-voice model, Generate & rank writes freely, harmonises a chorale's soprano and
continues a piece, and offers each kept piece voice by voice as MIDI and MusicXML."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from core.models.satb import SATBGenerator, SATBNetConfig
from core.paths import RUNS_ENV
from core.studio import choices, roles
from core.training.config import config_to_dict
from core.training.satb import SATBTrainConfig
from tests.support.runs import run_checkpoint_from_folder

PAGE = "../../pages/generate.py"
SIZES = {"pitch_embed": 8, "articulation_embed": 4, "g_hidden": 16, "head_hidden": 16, "d_hidden": 8}
TINY = SATBNetConfig(latent_dim=4, **SIZES)


@pytest.fixture(autouse=True)
def four_voice_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv(RUNS_ENV, str(tmp_path / "runs"))
    monkeypatch.setenv("GMS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(roles.TEACHER_PIN_ENV, raising=False)
    folder = tmp_path / "satb"
    folder.mkdir()
    torch.manual_seed(0)
    torch.save(SATBGenerator(TINY).state_dict(), folder / "model.pt")
    (folder / "config.json").write_text(json.dumps(config_to_dict(SATBTrainConfig(net=TINY))))
    checkpoint = run_checkpoint_from_folder(folder, tmp_path / "runs", "class-satb")
    choices.set_active_checkpoint(checkpoint)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield checkpoint
    torch.set_num_threads(threads)


def write(at: AppTest) -> AppTest:
    next(b for b in at.button if b.label == "Write and rank").click()
    return at.run()


def test_free_pieces_are_shown_voice_by_voice_with_both_downloads() -> None:
    at = AppTest.from_file(PAGE, default_timeout=90).run()
    assert not at.exception
    assert at.radio(key="gen_voice_mode").value == "free"
    at.selectbox(key="gen_voice_key").set_value("D minor").run()
    at = write(at)
    assert not at.exception
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    voices = [figure for figure in figures if figure["layout"]["title"]["text"].startswith("Four voices")]
    assert voices and [trace["name"] for trace in voices[0]["data"]] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert "D minor" in voices[0]["layout"]["title"]["text"]
    labels = [button.proto.label for button in at.get("download_button")]
    assert "MIDI (four tracks)" in labels and "MusicXML (opens in MuseScore)" in labels


def test_a_chorale_soprano_is_harmonised_and_a_changed_setting_asks_again() -> None:
    at = AppTest.from_file(PAGE, default_timeout=90).run()
    at.radio(key="gen_voice_mode").set_value("harmonise").run()
    assert at.radio(key="gen_voice_source_harmonise").value == "a held-out chorale"
    at = write(at)
    assert not at.exception and at.get("plotly_chart")
    at.radio(key="gen_voice_mode").set_value("continue").run()
    assert any("settings changed" in info.value for info in at.info)
    at = write(at)
    assert not at.exception and not at.error
