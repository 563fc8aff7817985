"""Atomic writes (core.files): a failed write, a full disk among them, leaves nothing behind and the
previous file as it was; the stores built on them do the same."""

from __future__ import annotations

import errno

import pytest

from core import files
from core.audio import RenderConfig, cache
from core.audio.config import RenderedAudio
from core.data import uploads
from core.files import atomic_folder, write_bytes_atomic, write_json_atomic
from tests.support.midi_files import make_midi


class DiskFull:
    """A file object that accepts ``allowed`` bytes, then fails as a full disk does."""

    def __init__(self, handle, allowed: int) -> None:
        self.handle, self.allowed = handle, allowed

    def write(self, data: bytes) -> int:
        if len(data) > self.allowed:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.allowed -= len(data)
        return self.handle.write(data)

    def __getattr__(self, name: str):
        return getattr(self.handle, name)

    def __enter__(self) -> DiskFull:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.handle.close()


@pytest.fixture
def disk_full_after(monkeypatch):
    """Make every atomic write fail once ``allowed`` bytes of it were written."""

    def install(allowed: int) -> None:
        real = files.os.fdopen
        monkeypatch.setattr(files.os, "fdopen", lambda fd, mode: DiskFull(real(fd, mode), allowed))

    return install


def test_a_full_disk_leaves_the_old_file_and_no_temporary(tmp_path, disk_full_after) -> None:
    target = write_json_atomic(tmp_path / "active_checkpoint.json", {"path": "old"})
    disk_full_after(10)
    with pytest.raises(OSError, match="No space left"):
        write_json_atomic(target, {"path": "new" * 100})
    assert target.read_text() == '{\n  "path": "old"\n}' and sorted(tmp_path.iterdir()) == [target]


def test_a_failed_folder_leaves_nothing(tmp_path) -> None:
    with pytest.raises(RuntimeError), atomic_folder(tmp_path / "corpus") as staging:
        (staging / "a.mid").write_bytes(b"x")
        raise RuntimeError("the disk filled up")
    assert list(tmp_path.iterdir()) == []


def test_storing_a_corpus_on_a_full_disk_leaves_no_staging_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GMS_CACHE_DIR", str(tmp_path))
    real = uploads.Path.write_bytes

    def fill_up(path, data):
        if path.name == "b.mid":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, data)

    monkeypatch.setattr(uploads.Path, "write_bytes", fill_up)
    with pytest.raises(OSError):
        uploads.store_corpus([("a.mid", make_midi()), ("b.mid", make_midi([(62, 0.0, 1.0)]))])
    assert list((tmp_path / "corpora").iterdir()) == []


def test_a_render_whose_metadata_cannot_be_cached_leaves_no_half_entry(tmp_path, monkeypatch) -> None:
    def metadata_fails(path, data):
        if path.suffix == ".json":
            raise OSError(errno.ENOSPC, "No space left on device")
        return write_bytes_atomic(path, data)

    monkeypatch.setattr(cache, "write_bytes_atomic", metadata_fails)
    audio = RenderedAudio(bytes(5000), 22050, 0.1, "sine", "n")
    cache.store_cached("key", audio, RenderConfig(cache_dir=tmp_path))
    assert list(tmp_path.iterdir()) == []
