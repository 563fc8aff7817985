"""The bundled corpora are consistent: data/chorales (MIDI + manifest) and data/jsb (JSON split)."""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import sys
from collections import Counter

import mido
import pretty_midi
import pytest

from core.paths import REPO_ROOT

DATA = REPO_ROOT / "data"
CHORALES = DATA / "chorales"
JSB = DATA / "jsb"
EXPORT_SCRIPT = REPO_ROOT / "scripts" / "export_chorales.py"
COLUMNS = ["id", "title", "key", "mode", "time_signature", "parts", "fermatas", "split"]
JSB_FILES = ("jsb-chorales-quarter.json", "jsb-chorales-16th.json", "Jsb16thSeparated.json")
JSB_SIZES = {"train": 229, "valid": 76, "test": 77}


@pytest.fixture(scope="module")
def manifest() -> list[dict[str, str]]:
    with (CHORALES / "manifest.csv").open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == COLUMNS
        return list(reader)


@pytest.fixture(scope="module")
def jsb() -> dict[str, dict[str, list]]:
    return {name: json.loads((JSB / name).read_text()) for name in JSB_FILES}


def sample_rows(manifest: list[dict[str, str]], n: int = 8) -> list[dict[str, str]]:
    """A fixed handful of rows spread over the corpus (parsing all of them would be slow)."""
    rows = sorted(manifest, key=lambda row: row["id"])
    return rows[:: max(len(rows) // n, 1)]


def load_export_script():
    """scripts/export_chorales.py as a module (it imports music21 only inside its functions)."""
    spec = importlib.util.spec_from_file_location("export_chorales", EXPORT_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def test_every_manifest_row_has_its_file_and_every_file_its_row(manifest):
    ids = [row["id"] for row in manifest]
    assert len(ids) == len(set(ids)) > 300
    assert {path.stem for path in CHORALES.glob("*.mid")} == set(ids)
    assert all(re.fullmatch(r"bwv[0-9A-Za-z_-]+", piece_id) for piece_id in ids)


def test_manifest_values_are_well_formed(manifest):
    for row in manifest:
        assert row["title"].strip()
        assert re.fullmatch(r"[A-G][b#]?", row["key"]), row
        assert row["mode"] in {"major", "minor"}
        assert re.fullmatch(r"\d+/\d+", row["time_signature"]), row
        assert int(row["parts"]) >= 4
        assert int(row["fermatas"]) >= 0
    assert sum(int(row["fermatas"]) > 0 for row in manifest) >= 0.95 * len(manifest)
    assert Counter(row["parts"] for row in manifest)["4"] > 0.9 * len(manifest)


def test_splits_are_about_80_10_10(manifest):
    counts = Counter(row["split"] for row in manifest)
    assert set(counts) == {"train", "valid", "test"}
    fractions = {split: count / len(manifest) for split, count in counts.items()}
    assert fractions["train"] == pytest.approx(0.8, abs=0.05)
    assert fractions["valid"] == pytest.approx(0.1, abs=0.04)
    assert fractions["test"] == pytest.approx(0.1, abs=0.04)


def test_splits_follow_the_documented_hash_of_the_id(manifest):
    split_for = load_export_script().split_for
    assert all(row["split"] == split_for(row["id"]) for row in manifest)


def test_every_file_is_midi_at_480_ticks_per_quarter(manifest):
    for row in manifest:
        header = (CHORALES / f"{row['id']}.mid").read_bytes()[:14]
        assert header[:4] == b"MThd", row["id"]
        assert int.from_bytes(header[4:8], "big") == 6
        assert int.from_bytes(header[8:10], "big") == 1  # format 1: conductor track + one per part
        assert int.from_bytes(header[12:14], "big") == 480, row["id"]


def test_total_size_is_sensible(manifest):
    sizes = [(CHORALES / f"{row['id']}.mid").stat().st_size for row in manifest]
    assert 0.5e6 < sum(sizes) < 3e6
    assert min(sizes) > 500 and max(sizes) < 64 * 1024


def test_sampled_files_match_their_manifest_rows(manifest):
    for row in sample_rows(manifest):
        midi = pretty_midi.PrettyMIDI(str(CHORALES / f"{row['id']}.mid"))
        assert midi.resolution == 480
        assert len(midi.instruments) == int(row["parts"])
        assert all(instrument.name and instrument.notes for instrument in midi.instruments)
        first_meter = midi.time_signature_changes[0]
        assert f"{first_meter.numerator}/{first_meter.denominator}" == row["time_signature"]
        assert midi.time_signature_changes[0].time == 0.0
        assert midi.key_signature_changes and midi.get_tempo_changes()[1][0] > 0
        assert 10.0 < midi.get_end_time() < 300.0


def test_sampled_files_start_within_the_first_bar_and_give_each_part_a_channel(manifest):
    for row in sample_rows(manifest):
        midi_file = mido.MidiFile(CHORALES / f"{row['id']}.mid")
        numerator, denominator = (int(part) for part in row["time_signature"].split("/"))
        ticks_per_bar = numerator * midi_file.ticks_per_beat * 4 // denominator
        channels = []
        for track in midi_file.tracks[1:]:
            track_channels = {message.channel for message in track if message.type == "note_on"}
            assert len(track_channels) == 1, row["id"]
            channels += track_channels
        assert len(set(channels)) == len(channels) and 9 not in channels
        first_onset = min(
            next(tick for tick, message in absolute_ticks(track) if message.type == "note_on")
            for track in midi_file.tracks[1:]
        )
        assert 0 <= first_onset < ticks_per_bar


def test_fermata_markers_sit_on_melody_onsets_and_match_the_manifest(manifest):
    for row in sample_rows(manifest, n=16):
        midi_file = mido.MidiFile(CHORALES / f"{row['id']}.mid")
        markers = [tick for tick, message in absolute_ticks(midi_file.tracks[0]) if message.type == "marker"]
        texts = {message.text for message in midi_file.tracks[0] if message.type == "marker"}
        assert len(markers) == int(row["fermatas"]) and texts <= {"fermata"}, row["id"]
        assert markers == sorted(set(markers)), row["id"]
        assert midi_file.tracks[0][-1].type == "end_of_track"
        soprano = next(t for t in midi_file.tracks[1:] if any(m.type == "track_name" for m in t))
        onsets = {tick for tick, m in absolute_ticks(soprano) if m.type == "note_on" and m.velocity > 0}
        if markers and int(row["parts"]) == 4:
            assert set(markers) <= onsets, row["id"]


def absolute_ticks(track: mido.MidiTrack):
    tick = 0
    for message in track:
        tick += message.time
        yield tick, message


def test_jsb_split_has_229_76_77_pieces_in_every_resolution(jsb):
    for name, splits in jsb.items():
        assert {split: len(pieces) for split, pieces in splits.items()} == JSB_SIZES, name


def test_jsb_frames_hold_midi_pitches(jsb):
    quarter = [frame for pieces in jsb["jsb-chorales-quarter.json"].values() for p in pieces for frame in p]
    assert all(21 <= pitch <= 108 for frame in quarter for pitch in frame)
    separated = jsb["Jsb16thSeparated.json"]
    for split, pieces in jsb["jsb-chorales-16th.json"].items():  # same pieces, in another order
        assert sorted(map(len, pieces)) == sorted(map(len, separated[split]))
    assert all(len(frame) == 4 for pieces in separated.values() for p in pieces for frame in p)
