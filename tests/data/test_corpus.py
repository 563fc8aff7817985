"""Tests of corpora: folder, upload and zip loading, the roll cache, windows, statistics and the CLI."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core.cli import dataset as dataset_cli
from core.data import Corpus, Piece, ZipLimits, corpus_stats, load_folder, load_uploads, load_zip, windows
from core.data import corpus as dataset
from core.midi.score import MidiLimits
from core.music.pianoroll import RollSpec, roll_from_arrays
from core.music.theory import estimate_key
from core.paths import DEFAULT_CORPUS
from tests.support.midi_files import make_midi

MANIFEST = "id,title,key,mode,time_signature,parts,split\nfirst,First Tune,C,major,4/4,1,train\n"
MANIFEST += "second,Second Tune,G,major,4/4,1,valid\n"


@pytest.fixture(autouse=True)
def cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GMS_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "rolls"


def scale(start_pitch: int, steps: tuple[int, ...], tempo: float = 120.0) -> bytes:
    """A melody of eighth notes (at 120 bpm) climbing by ``steps`` semitones."""
    pitches = np.cumsum((start_pitch, *steps)).tolist()
    return make_midi([(p, i * 0.25, (i + 1) * 0.25) for i, p in enumerate(pitches)], tempo=tempo)


@pytest.fixture
def corpus_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "first.mid").write_bytes(scale(60, (2, 2, 1, 2, 2, 2, 1)))
    (folder / "second.MIDI").write_bytes(make_midi([(67, 0.0, 1.0), (71, 0.0, 1.0)]))
    (folder / "third.mid").write_bytes(make_midi([(48, 0.0, 2.0)]))
    (folder / "broken.mid").write_bytes(b"this is not a MIDI file at all")
    (folder / "notes.txt").write_text("not read")
    (folder / "manifest.csv").write_text(MANIFEST)
    return folder


class NoParser:
    def __init__(self, *args, **kwargs) -> None:
        raise AssertionError("a worker was started although every file is cached")


def test_load_folder_reads_manifest_and_reports_every_file(corpus_folder: Path) -> None:
    corpus = load_folder(corpus_folder)
    assert [piece.name for piece in corpus.pieces] == ["first.mid", "second.MIDI", "third.mid"]
    assert [piece.split for piece in corpus.pieces] == ["train", "valid", "upload"]
    assert corpus.pieces[0].meta["title"] == "First Tune" and corpus.pieces[0].meta["parts"] == 1
    assert corpus.pieces[2].meta["time_signature"] == "4/4"
    names = ["broken.mid", "first.mid", "second.MIDI", "third.mid"]
    assert [report.name for report in corpus.reports] == names
    (rejected,) = corpus.rejected
    assert rejected.name == "broken.mid" and "MIDI" in rejected.message
    assert corpus.pieces[0].roll.n_steps == 16 and corpus.n_steps == 16 + 8 + 16
    assert [piece.name for piece in corpus.split("valid").pieces] == ["second.MIDI"]


def test_second_load_comes_from_the_cache_without_a_worker(
    corpus_folder: Path, cache_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_folder(corpus_folder)
    corpus_folder.joinpath("broken.mid").unlink()
    assert len(list(cache_folder.glob("*.npz"))) == 3
    monkeypatch.setattr(dataset, "MidiParser", NoParser)
    second = load_folder(corpus_folder)
    for old, new in zip(first.pieces, second.pieces, strict=True):
        assert (old.name, old.split, old.meta) == (new.name, new.split, new.meta)
        np.testing.assert_array_equal(old.roll.active, new.roll.active)
        np.testing.assert_array_equal(old.roll.onset, new.roll.onset)
        np.testing.assert_array_equal(old.roll.velocity, new.roll.velocity)
        assert (old.roll.tempo_bpm, old.roll.beats_per_bar) == (new.roll.tempo_bpm, new.roll.beats_per_bar)
    assert [r.message for r in second.reports] == [r.message for r in first.reports if r.accepted]
    with pytest.raises(AssertionError, match="worker"):
        load_folder(corpus_folder, spec=RollSpec(steps_per_beat=2))


def test_damaged_cache_entries_are_rebuilt(corpus_folder: Path, cache_folder: Path) -> None:
    first = load_folder(corpus_folder)
    for entry in cache_folder.glob("*.npz"):
        entry.write_bytes(b"damaged")
    second = load_folder(corpus_folder)
    assert [p.roll.active.sum() for p in second.pieces] == [p.roll.active.sum() for p in first.pieces]
    assert all(zipfile.is_zipfile(entry) for entry in cache_folder.glob("*.npz"))


def test_load_uploads_accepts_and_rejects_by_content() -> None:
    corpus = load_uploads([("good.mid", make_midi()), ("bad.mid", b"\x00" * 40)])
    assert [piece.name for piece in corpus.pieces] == ["good.mid"]
    assert corpus.pieces[0].split == "upload"
    assert [(r.name, r.accepted) for r in corpus.reports] == [("good.mid", True), ("bad.mid", False)]
    assert "notes" in corpus.reports[0].message


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_load_zip_reads_midi_members_and_refuses_the_rest() -> None:
    members = {
        "songs/good.mid": make_midi(),
        "../escape.mid": make_midi(),
        "/absolute.mid": make_midi(),
        "readme.txt": b"hello",
        "__MACOSX/songs/._good.mid": b"\x00\x05\x16\x07",
        "bomb.mid": b"\x00" * (900 << 10),
        "a/b/c/deep.mid": make_midi(),
    }
    corpus = load_zip(zip_bytes(members), zip_limits=ZipLimits(max_depth=2))
    assert [piece.name for piece in corpus.pieces] == ["songs/good.mid"]
    reasons = {report.name: report.message for report in corpus.rejected}
    assert set(reasons) == {"../escape.mid", "/absolute.mid", "readme.txt", "bomb.mid", "a/b/c/deep.mid"}
    assert "leaves the archive" in reasons["../escape.mid"]
    assert "only .mid" in reasons["readme.txt"]
    assert "zip bomb" in reasons["bomb.mid"]
    assert "nested" in reasons["a/b/c/deep.mid"]


def test_load_zip_guards_the_whole_archive() -> None:
    assert "not a readable zip" in load_zip(b"PK\x03\x04 truncated").reports[0].message
    many = zip_bytes({f"{i}.mid": make_midi() for i in range(3)})
    (report,) = load_zip(many, zip_limits=ZipLimits(max_members=2)).reports
    assert not report.accepted and "3 files" in report.message
    big = load_zip(many, zip_limits=ZipLimits(max_total_bytes=100))
    assert big.pieces == [] and "unpacks to" in big.reports[0].message
    small = load_zip(many, limits=MidiLimits(max_bytes=50))
    assert small.pieces == [] and all("the limit is 50 bytes" in r.message for r in small.reports)


def piece(active: np.ndarray, beats_per_bar: int = 4, name: str = "p") -> Piece:
    return Piece(name, roll_from_arrays(active, beats_per_bar=beats_per_bar), "train")


def test_windows_cut_pieces_of_the_meter_by_bars() -> None:
    long_active = np.zeros((16 * 6 + 5, 48), bool)
    long_active[:, 10] = True
    waltz = np.ones((12 * 8, 48), bool)
    short = np.ones((16 * 3, 48), bool)
    corpus = Corpus([piece(long_active), piece(waltz, 3), piece(short)], [])
    active, onset = windows(corpus, bars=4, hop_bars=1)
    assert active.shape == (3, 64, 48) and onset.shape == active.shape
    assert active.dtype == bool and onset.dtype == bool
    assert onset[:, 0, 10].all() and not onset[:, 1:, 10].any()
    waltz_windows, _ = windows(corpus, bars=2, hop_bars=2, beats_per_bar=3)
    assert waltz_windows.shape == (4, 24, 48)


def test_windows_transpose_skips_shifts_that_leave_the_range() -> None:
    low, high = np.zeros((64, 48), bool), np.zeros((64, 48), bool)
    low[:, 1] = True
    high[:, 46] = True
    active, onset = windows(Corpus([piece(low), piece(high)], []), transpose=(-2, 1, 0))
    assert active.shape[0] == 2 + 1 + 2
    columns = [tuple(np.nonzero(window.any(axis=0))[0]) for window in active]
    assert columns == [(1,), (46,), (44,), (2,), (47,)]
    assert (onset <= active).all()


def test_estimate_key_finds_major_and_minor() -> None:
    c_major = np.bincount([0, 2, 4, 5, 7, 9, 11, 0, 4, 7, 0], minlength=12)
    assert estimate_key(c_major).name == "C major"
    a_minor = np.bincount([9, 11, 0, 2, 4, 5, 8, 9, 0, 4, 9, 4], minlength=12)
    assert estimate_key(a_minor).name == "A minor"
    assert estimate_key(np.zeros(12)) is None


def test_corpus_stats_describe_pitches_polyphony_and_keys(corpus_folder: Path) -> None:
    stats = corpus_stats(load_folder(corpus_folder))
    assert (stats.n_files, stats.n_accepted, stats.n_rejected, stats.n_pieces) == (4, 3, 1, 3)
    assert (stats.lowest_pitch, stats.highest_pitch) == (48, 72)
    assert stats.pitch_histogram[60] == 1 and stats.pitch_histogram[72] == 1
    assert stats.n_notes == 8 + 2 + 1 and stats.n_steps == 40
    assert stats.polyphony_histogram == {1: 32, 2: 8}
    assert stats.mean_polyphony == pytest.approx(48 / 40)
    assert stats.note_length_histogram == {2: 8, 8: 2, 16: 1}
    assert stats.piece_keys["first.mid"] == "C major"
    assert stats.time_signatures == {"4/4": 3}
    assert stats.bars == [1.0, 0.5, 1.0]
    assert sum(stats.pitch_class_histogram) == pytest.approx(1.0, abs=1e-3)
    assert json.loads(json.dumps(stats.to_dict()))["splits"] == {"train": 1, "valid": 1, "upload": 1}
    assert "C2" not in stats.summary() and "C3–C5" in stats.summary()


def test_cli_prints_a_summary_and_json(corpus_folder: Path, capsys: pytest.CaptureFixture) -> None:
    assert dataset_cli.main(["stats", str(corpus_folder)]) == 0
    text = capsys.readouterr().out
    assert "files: 4 (3 accepted, 1 rejected)" in text and "rejected broken.mid" in text
    assert dataset_cli.main(["stats", str(corpus_folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_pieces"] == 3
    assert dataset_cli.main(["stats", str(corpus_folder / "missing")]) == 2


def test_default_corpus_dir_is_the_bundled_chorales() -> None:
    folder = DEFAULT_CORPUS
    assert folder.parts[-2:] == ("data", "chorales")
    assert (folder.parent.parent / "core" / "dataset.py").is_file()
