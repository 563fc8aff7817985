"""The voices corpus: bundled chorales, uploads with reasons, training windows, the JSB separated split."""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter

import numpy as np
import pytest

import core.data.voices as voices_module
from core.data.corpus import read_manifest
from core.data.jsb import jsb_piece_voices, load_jsb_voices
from core.data.voices import load_chorale_voices, load_voice_files, voice_windows
from core.music.voices import METRE_FEATURES, PITCH_RANGES, REST, Voices, tonic_from_name
from core.paths import DEFAULT_CORPUS
from tests.support.midi_files import make_midi
from tests.support.part_files import chorale_like, make_parts, satb


@pytest.fixture(scope="module")
def chorales(tmp_path_factory: pytest.TempPathFactory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GMS_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield load_chorale_voices()


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GMS_CACHE_DIR", str(tmp_path / "cache"))


# --- the bundled chorales ----------------------------------------------------------------------------------


def test_the_bundled_chorales_give_at_least_329_four_voice_pieces(chorales):
    manifest = read_manifest(DEFAULT_CORPUS)
    assert len(chorales.reports) == len(manifest) == 348
    assert len(chorales.pieces) >= 329
    refused = {report.name: report.message for report in chorales.rejected}
    assert len(refused) <= 348 - 329
    for message in refused.values():
        assert "metre changes" in message or "could both be the soprano" in message


def test_chorale_splits_and_keys_come_from_the_manifest(chorales):
    manifest = read_manifest(DEFAULT_CORPUS)
    assert set(Counter(piece.split for piece in chorales.pieces)) == {"train", "valid", "test"}
    for piece in chorales.pieces:
        row = manifest[piece.name.removesuffix(".mid")]
        assert piece.split == row["split"] and piece.meta["title"] == row["title"]
        assert (piece.voices.tonic, piece.voices.mode) == (tonic_from_name(row["key"]), row["mode"])
    test = chorales.split("test")
    assert test.pieces and {piece.split for piece in test.pieces} == {"test"}
    assert [report.name for report in test.reports] == [piece.name for piece in test.pieces]


def test_phrase_ends_in_nearly_every_chorale_where_the_fermatas_are(chorales):
    with_ends = [piece for piece in chorales.pieces if piece.voices.phrase_end.any()]
    assert len(with_ends) >= 0.97 * len(chorales.pieces)
    matching = sum(int(p.voices.phrase_end.sum()) == p.meta["fermatas"] for p in chorales.pieces)
    assert matching == len(chorales.pieces)
    on_onsets = [p.voices.onset[p.voices.phrase_end, 0] for p in chorales.pieces]  # the melody's note starts
    assert np.concatenate(on_onsets).mean() > 0.99
    counts = [int(piece.voices.phrase_end.sum()) for piece in chorales.pieces]
    assert 6 <= np.median(counts) <= 8


def test_chorale_voices_stay_in_their_ranges_and_mostly_sing(chorales):
    assert all(piece.voices.range_problem() is None for piece in chorales.pieces)
    singing = [float((piece.voices.pitch >= 0).mean()) for piece in chorales.pieces]
    assert sum(share < 0.8 for share in singing) <= 3  # cantata chorales with instrumental interludes
    meters = Counter(piece.voices.time_signature for piece in chorales.pieces)
    assert meters[(4, 4)] > 300 and meters[(3, 4)] > 30


def test_a_second_load_is_served_from_the_cache(tmp_path, monkeypatch):
    folder = tmp_path / "three"
    folder.mkdir()
    for name in ("bwv269", "bwv347", "bwv153_1"):
        (folder / f"{name}.mid").write_bytes((DEFAULT_CORPUS / f"{name}.mid").read_bytes())
    (folder / "manifest.csv").write_text((DEFAULT_CORPUS / "manifest.csv").read_text())
    first = load_chorale_voices(folder)
    assert len(list((tmp_path / "cache" / "voices").glob("*.npz"))) == 3
    monkeypatch.setattr(voices_module, "MidiParser", None)  # a parser would now fail
    second = load_chorale_voices(folder)
    for a, b in zip(first.pieces, second.pieces, strict=True):
        np.testing.assert_array_equal(a.voices.pitch, b.voices.pitch)
        np.testing.assert_array_equal(a.voices.onset, b.voices.onset)
        np.testing.assert_array_equal(a.voices.phrase_end, b.voices.phrase_end)
        assert (a.voices.key_name, a.voices.bar_offset, a.split) == (
            b.voices.key_name,
            b.voices.bar_offset,
            b.split,
        )
    assert [r.message for r in first.reports] == [r.message for r in second.reports]


# --- uploads ---------------------------------------------------------------------------------------------


def test_uploads_become_voices_or_say_why():
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("inner/quartet.mid", chorale_like(bars=2))
        zipped.writestr("inner/../escape.mid", make_midi())
        zipped.writestr("notes.txt", b"hello")
    files = [
        ("choir.mid", chorale_like(bars=2, markers=[("fermata", 7.0)])),
        ("melody.mid", make_midi()),
        ("trio.mid", make_parts({"Violin": [(72, 0, 1)], "Viola": [(60, 0, 1)], "Cello": [(48, 0, 1)]})),
        ("broken.mid", b"MThd nonsense"),
        ("scores.zip", archive.getvalue()),
        ("cover.png", b"\x89PNG"),
        ("high.mid", satb([(100, 0, 1)], [(67, 0, 1)], [(60, 0, 1)], [(48, 0, 1)])),
    ]
    corpus = load_voice_files(files)
    reports = {report.name: report for report in corpus.reports}
    assert [piece.name for piece in corpus.pieces] == ["choir.mid", "inner/quartet.mid"]
    assert all(piece.split == "upload" for piece in corpus.pieces)
    assert reports["choir.mid"].message.startswith("four voices, 2 bars of 4/4")
    assert "1 phrase end" in reports["choir.mid"].message
    assert "has one part" in reports["melody.mid"].message
    assert "has 3 parts" in reports["trio.mid"].message
    assert not reports["broken.mid"].accepted and reports["broken.mid"].message
    assert "leaves the archive" in reports["inner/../escape.mid"].message
    assert "only .mid and .midi" in reports["notes.txt"].message
    assert "only .mid, .midi and .zip" in reports["cover.png"].message
    assert "Soprano part goes up to E7" in reports["high.mid"].message
    assert len(corpus.rejected) == len(corpus.reports) - 2


def test_upload_remarks_are_reported():
    unnamed = make_parts({f"Part {n}": [(p, 0, 2)] for n, p in enumerate((48, 72, 60, 65))})
    corpus = load_voice_files([("quartet.mid", unnamed)])
    assert corpus.pieces[0].voices.pitch[0].tolist() == [72, 65, 60, 48]
    assert "highest down" in corpus.reports[0].message and corpus.pieces[0].meta["remarks"]


# --- windows ---------------------------------------------------------------------------------------------


def piece(n_bars: int, tonic: int = 7, steps_per_beat: int = 4, beats_per_bar: int = 4, **changes) -> Voices:
    steps = n_bars * steps_per_beat * beats_per_bar
    pitch = np.tile(np.array([[72, 67, 60, 48]], np.int16), (steps, 1))
    pitch[::8, 0] = 74
    phrase_end = np.zeros(steps, bool)
    phrase_end[steps - 4] = True
    return Voices(pitch, None, phrase_end, steps_per_beat, beats_per_bar, tonic, "major", **changes)


def test_windows_are_whole_bars_with_every_array_for_a_model():
    windows = voice_windows([piece(6), piece(2), piece(8, beats_per_bar=3)], bars=4, hop_bars=1)
    assert len(windows) == 3 and windows.n_steps == 64  # only the 6-bar 4/4 piece is long enough
    assert windows.pitch.shape == (3, 64, 4) and windows.pitch.dtype == np.int16
    assert windows.onset.shape == (3, 64, 4) and windows.phrase_end.shape == (3, 64)
    assert windows.metre.shape == (3, 64, len(METRE_FEATURES)) and windows.metre.dtype == np.float32
    assert windows.start.tolist() == [0, 16, 32] and windows.piece.tolist() == [0, 0, 0]
    assert windows.onset[:, 0].all()  # held notes start at a window's first step
    assert windows.phrase_end[2, 60] and windows.phrase_end.sum() == 1
    assert (windows.step_in_bar[:, ::16] == 0).all() and windows.key.tolist() == [7, 7, 7]
    in_three = voice_windows([piece(8, beats_per_bar=3)], bars=2, steps_per_bar=12)
    assert len(in_three) == 7 and in_three.n_steps == 24


def test_windows_start_on_the_bar_lines_after_a_pickup():
    windows = voice_windows([piece(5, bar_offset=4)], bars=2, hop_bars=2)
    assert windows.start.tolist() == [4, 36] and (windows.step_in_bar[:, 0] == 0).all()


def test_transposed_windows_move_the_key_and_respect_the_ranges():
    windows = voice_windows([piece(4, tonic=7)], bars=4, transpose=range(-3, 4))
    assert sorted(windows.shift.tolist()) == [-3, -2, -1, 0, 1, 2, 3]
    for row in range(len(windows)):
        shift = int(windows.shift[row])
        assert windows.tonic[row] == (7 + shift) % 12
        np.testing.assert_array_equal(windows.pitch[row], windows.pitch[windows.shift == 0][0] + shift)
    high = voice_windows([piece(4)], bars=4, transpose=[12, 13])  # the soprano's D5 would pass C6
    assert high.shift.tolist() == [0]
    assert int(high.pitch.max()) <= PITCH_RANGES[0][1]


def test_transposition_keeps_rests():
    voices = piece(4)
    pitch = voices.pitch.copy()
    pitch[10:20, 2] = REST
    windows = voice_windows([Voices(pitch)], bars=4, transpose=[2])
    assert (windows.pitch[:, 10:20, 2] == REST).all()


# --- the JSB separated split -----------------------------------------------------------------------------


def test_jsb_separated_split_sizes_and_contents():
    jsb = load_jsb_voices()
    assert {split: len(pieces) for split, pieces in jsb.items()} == {"train": 229, "valid": 76, "test": 77}
    steps = {split: sum(v.n_steps for v in pieces) for split, pieces in jsb.items()}
    assert steps == {"train": 55_228, "valid": 18_408, "test": 18_900}
    everything = [voices for pieces in jsb.values() for voices in pieces]
    assert not any(voices.phrase_end.any() for voices in everything)
    assert all(voices.range_problem() is None for voices in everything)
    keys = Counter(voices.key_name for voices in everything)
    assert len(keys) > 12 and keys.most_common(1)[0][1] < 0.2 * len(everything)
    assert len(voice_windows(jsb["train"], bars=4)) > 2000


def test_a_jsb_piece_becomes_voices():
    frames = [[67, 62, 59, 43]] * 4 + [[67, 62, 59, 43]] * 4 + [[69, -1, 60, 41]] * 4
    voices = jsb_piece_voices(frames)
    assert voices.n_steps == 12 and voices.time_signature == (4, 4)
    assert np.flatnonzero(voices.onset[:, 0]).tolist() == [0, 8]  # a repeated note merges with the last
    assert voices.onset[:, 1].tolist() == [True] + [False] * 11
    assert voices.key_name in ("G major", "C major")


def test_jsb_file_format_is_what_the_loader_expects(tmp_path):
    data = {split: [[[72, 67, 64, 48]] * 16] for split in ("train", "valid", "test")}
    (tmp_path / "Jsb16thSeparated.json").write_text(json.dumps(data))
    loaded = load_jsb_voices(tmp_path)
    assert [len(loaded[split]) for split in ("train", "valid", "test")] == [1, 1, 1]
    assert loaded["test"][0].pitch[0].tolist() == [72, 67, 64, 48]
