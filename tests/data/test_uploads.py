"""Uploads: batches with zips, accepted files only, safe names, content-addressed corpus folders."""

from __future__ import annotations

import io
import zipfile

import pytest

from core.data import load_folder, uploads
from tests.support.midi_files import make_midi


@pytest.fixture(autouse=True)
def cache_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("GMS_CACHE_DIR", str(tmp_path / "cache"))


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bach.mid", "bach.mid"),
        ("../../etc/passwd", "passwd.mid"),
        ("C:\\Users\\x\\song.MIDI", "song.midi"),
        ("folder/inner/piece.mid", "piece.mid"),
        ("bell\x07\x1b[31m.mid", "bell_31m.mid"),
        ("right\u202eto-left.mid", "rightto-left.mid"),
        ("...", "piece.mid"),
        ("a;b|c$.mid", "a_b_c_.mid"),
        ("Ich dank’ dir.mid", "Ich dank_ dir.mid"),
        ("notes.txt", "notes.txt.mid"),
    ],
)
def test_safe_file_name(name: str, expected: str) -> None:
    assert uploads.safe_file_name(name) == expected


def test_safe_file_name_is_bounded() -> None:
    name = uploads.safe_file_name("x" * 500 + ".mid")
    assert len(name) == uploads.MAX_NAME_CHARS and name.endswith(".mid")


def test_unique_names_ignore_case() -> None:
    assert uploads.unique_names(["a.mid", "A.mid", "a.mid", "b.mid"]) == [
        "a.mid",
        "A (2).mid",
        "a (3).mid",
        "b.mid",
    ]


def test_display_name_drops_control_characters() -> None:
    assert uploads.display_name("a\x00b\u202ec\n") == "abc"
    assert len(uploads.display_name("y" * 300, limit=50)) == 50


def test_store_corpus_writes_safe_deduplicated_files(tmp_path) -> None:
    one, two = make_midi(), make_midi([(62, 0.0, 1.0)])
    folder = uploads.store_corpus([("dir/song.mid", one), ("../song.mid", two)])
    assert folder.parent == tmp_path / "cache" / "corpora"
    stored = {path.name: path.read_bytes() for path in folder.iterdir()}
    assert sorted(stored) == ["song (2).mid", "song.mid"]
    assert sorted(stored.values()) == sorted([one, two])
    assert not [path for path in folder.parent.iterdir() if path.name.startswith(".")]


def test_store_corpus_is_content_addressed() -> None:
    one, two = make_midi(), make_midi([(62, 0.0, 1.0)])
    first = uploads.store_corpus([("a.mid", one), ("b.mid", two)])
    assert uploads.store_corpus([("b.mid", two), ("a.mid", one)]) == first
    assert uploads.store_corpus([("a.mid", two), ("b.mid", one)]) != first


def test_store_corpus_refuses_nothing() -> None:
    with pytest.raises(ValueError, match="no accepted"):
        uploads.store_corpus([])


def test_store_corpus_honours_the_cache_variable(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GMS_CACHE_DIR", str(tmp_path / "elsewhere"))
    folder = uploads.store_corpus([("a.mid", make_midi())])
    assert folder.parent == tmp_path / "elsewhere" / "corpora"


def test_batch_of_midis_and_a_zip_keeps_only_accepted_files() -> None:
    good, other = make_midi(), make_midi([(65, 0.0, 1.0), (69, 1.0, 2.0)])
    files = [
        ("broken.mid", b"MThd\x00\x00"),
        ("set.zip", zip_of({"inner/other.mid": other, "readme.txt": b"hello", "bad.mid": b"junk"})),
        ("photo.png", b"\x89PNG"),
        ("good.MID", good),
    ]
    corpus = uploads.load_upload_batch(files)
    status = [(report.name, report.accepted) for report in corpus.reports]
    assert status == [
        ("broken.mid", False),
        ("inner/other.mid", True),  # members in archive order, refused ones included
        ("readme.txt", False),
        ("bad.mid", False),
        ("photo.png", False),
        ("good.MID", True),
    ]
    assert corpus.reports[4].message == uploads.UNSUPPORTED
    assert [piece.name for piece in corpus.pieces] == ["inner/other.mid", "good.MID"]
    assert uploads.accepted_files(files, corpus) == [("inner/other.mid", other), ("good.MID", good)]


def test_stored_upload_loads_as_a_training_folder() -> None:
    files = [("good.mid", make_midi()), ("broken.mid", b"not midi")]
    corpus = uploads.load_upload_batch(files)
    folder = uploads.store_corpus(uploads.accepted_files(files, corpus))
    again = load_folder(folder)
    assert [piece.name for piece in again.pieces] == ["good.mid"] and not again.rejected
