"""Links: Generate's settings to an address and back, refusals in words, download names."""

from __future__ import annotations

import urllib.parse

from core.studio.links import GenerateSettings, VoiceSettings, settings_from_query, voice_settings_from_query


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


def test_four_voice_settings_travel_in_an_address_as_far_as_a_link_can_carry_them() -> None:
    free = VoiceSettings(mode="free", key="Bb major", phrase_bars=4, phrases=3, ensemble="strings")
    assert free.linkable and free.to_query() == {
        "mode": "free", "phrase_bars": "4", "phrases": "3", "ensemble": "strings", "key": "Bb major"
    }  # fmt: skip
    back, problems = voice_settings_from_query(free.to_query(), chorales=[])
    assert back == free and not problems
    continued = VoiceSettings(mode="continue", chorale="bwv257", keep_bars=3)
    assert continued.to_query()["chorale"] == "bwv257" and continued.to_query()["keep_bars"] == "3"
    assert voice_settings_from_query(continued.to_query(), chorales=["bwv257"])[0] == continued
    assert not VoiceSettings(mode="harmonise").linkable  # an uploaded melody stays on its visitor's screen


def test_a_four_voice_address_keeps_defaults_for_what_it_gets_wrong() -> None:
    query = {"mode": "sing", "key": "H major", "phrases": "0", "phrase_bars": "3", "keep_bars": "x"}
    settings, problems = voice_settings_from_query({**query, "chorale": "bwv0"}, chorales=["bwv257"])
    assert settings == VoiceSettings()
    assert len(problems) == 6 and any("bwv0" in problem for problem in problems)
