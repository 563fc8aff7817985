"""Links: Generate's settings to an address and back, refusals in words, download names."""

from __future__ import annotations

import urllib.parse

from core.studio.links import GenerateSettings, settings_from_query


def test_settings_survive_the_round_trip_through_an_address() -> None:
    settings = GenerateSettings("class-1.best", 8, 3, 2, 7, 0.85, 90, "Church organ")
    link = settings.link("http://studio.example/generate?seed=1#top")
    assert link.startswith("http://studio.example/generate?")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link).query))
    assert query["show"] == "1"
    assert settings_from_query(query) == (settings, [])
    assert "show" not in settings.to_query(show=False)


def test_an_address_sets_only_what_it_names() -> None:
    settings, problems = settings_from_query({"seed": "7", "candidates": "8", "utm_source": "mail"})
    assert (settings.seed, settings.candidates, settings.keep, settings.bars) == (7, 8, 4, 4)
    assert not problems


def test_keep_is_at_most_the_candidates() -> None:
    settings, _ = settings_from_query({"candidates": "2", "keep": "9"})
    assert settings.keep == 2


def test_refused_values_keep_their_defaults_and_are_named() -> None:
    query = {"seed": "1e99", "temperature": "hot", "tempo": "500", "instrument": "Kazoo", "bars": "-1"}
    settings, problems = settings_from_query(query)
    assert settings == GenerateSettings()
    assert len(problems) == 5 and any("Kazoo" in p for p in problems)


def test_download_names_carry_model_seed_and_rank_and_nothing_unsafe() -> None:
    assert GenerateSettings(model="lstm_gan", seed=7).file_name(1, "mid") == "lstm_gan_seed7_rank01.mid"
    assert GenerateSettings(model="../x y", seed=0).file_name(12, "wav") == "___x_y_seed0_rank12.wav"
