"""The disk budgets, end to end (core.studio.storage, core.eviction): caches filled far past small budgets
(audio, rolls, four-voice conversions, corpora) stay within them, while the shipped data, the class's corpus
and the class's generator are never touched."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from core import budgets as budgets_module
from core.audio import RenderConfig, cache, render_wav
from core.audio.config import RenderedAudio
from core.audio.wav import encode_wav
from core.budgets import BUDGETS
from core.data import rollcache
from core.data import voices as voices_cache
from core.eviction import tree_bytes
from core.music.pianoroll import notes_to_roll
from core.music.voice_parts import Conversion
from core.music.voices import Voices
from core.paths import CHECKPOINTS_DIR, DATA_DIR, cache_subdir
from core.studio import storage
from core.studio.choices import active_checkpoint, active_corpus, set_active_checkpoint, set_active_corpus
from core.studio.roles import OPERATOR
from tests.support.midi_files import make_midi

SMALL = replace(
    BUDGETS,
    disk_audio_bytes=300_000,
    disk_rolls_bytes=60_000,
    disk_voices_bytes=20_000,
    disk_corpora_bytes=40_000,
)


@pytest.fixture
def small_budgets(tmp_path, monkeypatch):
    monkeypatch.setenv("GMS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GMS_RUNS_DIR", str(tmp_path / "runs"))
    for module in (cache, rollcache, voices_cache, storage, budgets_module):
        monkeypatch.setattr(module, "BUDGETS", SMALL)


def snapshot(*folders: Path) -> dict[Path, tuple[int, float]]:
    return {path: (path.stat().st_size, path.stat().st_mtime) for f in folders for path in f.rglob("*")}


def noise_wav(seed: int) -> bytes:
    samples = np.random.default_rng(seed).uniform(-0.5, 0.5, (8000, 1))
    return encode_wav(samples, 8000)  # one second, 16 KB


def random_conversion(seed: int) -> Conversion:
    """Four voices of random notes, 400 steps: a conversion of about 2 KB once compressed."""
    pitch = np.random.default_rng(seed).integers(40, 80, (400, 4))
    return Conversion(Voices(pitch), (0, 1, 2, 3))


def corpus_files(seed: int) -> list[tuple[str, bytes]]:
    return [(f"piece_{seed}_{index}.mid", make_midi([(60 + index, 0.0, 1.0 + seed)])) for index in range(8)]


def test_filling_every_cache_past_its_budget_keeps_each_under_it(small_budgets, tmp_path) -> None:
    shipped = snapshot(DATA_DIR, CHECKPOINTS_DIR)
    run = tmp_path / "runs" / "class-run" / "checkpoints"
    run.mkdir(parents=True)
    (run / "best.pt").write_bytes(bytes(50_000))
    set_active_checkpoint(run / "best.pt")
    class_corpus = storage.store_uploaded_corpus(corpus_files(0))
    set_active_corpus(class_corpus, by=OPERATOR)

    config = RenderConfig(sample_rate=8000)
    for seed in range(40):  # 640 KB of audio into a 300 KB budget
        audio = RenderedAudio(noise_wav(seed), 8000, 1.0, "sine", "note")
        cache.store_cached(f"render{seed:03d}", audio, config)
        assert tree_bytes(cache_subdir("audio")) <= SMALL.disk_audio_bytes
    rng = np.random.default_rng(1)
    for seed in range(60):  # rolls of random notes, a few KB each, into 60 KB
        starts = rng.integers(0, 400, 200)
        roll = notes_to_roll(rng.integers(36, 84, 200), starts, starts + 4, rng.integers(1, 127, 200))
        rollcache.write_roll(f"roll{seed:03d}", roll, {"summary": "x"})
        assert tree_bytes(cache_subdir("rolls")) <= SMALL.disk_rolls_bytes
    for seed in range(40):  # four-voice conversions of about 2 KB each into 20 KB
        voices_cache._write_cached(f"voices{seed:03d}", random_conversion(seed))
        assert tree_bytes(cache_subdir("voices")) <= SMALL.disk_voices_bytes
    for seed in range(1, 12):  # corpora of 8 files into 40 KB
        storage.store_uploaded_corpus(corpus_files(seed))
        assert tree_bytes(cache_subdir("corpora")) <= SMALL.disk_corpora_bytes
    assert storage.tidy(SMALL) == 0

    assert active_corpus() == class_corpus and len(list(class_corpus.iterdir())) == 8
    assert active_checkpoint() == run / "best.pt" and (run / "best.pt").stat().st_size == 50_000
    assert snapshot(DATA_DIR, CHECKPOINTS_DIR) == shipped
    assert (cache_subdir("audio") / "render039.wav").exists()  # the newest stay
    assert not (cache_subdir("audio") / "render000.wav").exists()
    assert (cache_subdir("voices") / "voices039.npz").exists()
    assert not (cache_subdir("voices") / "voices000.npz").exists()


def test_a_render_read_again_is_kept_over_newer_ones(small_budgets) -> None:
    config = RenderConfig(sample_rate=8000)
    for seed in range(30):
        cache.store_cached(f"r{seed:02d}", RenderedAudio(noise_wav(seed), 8000, 1.0, "sine", "n"), config)
        if seed % 5 == 0:
            assert cache.load_cached("r00", config) is not None  # the first render keeps being played
    assert (cache_subdir("audio") / "r00.wav").exists() and not (cache_subdir("audio") / "r01.wav").exists()


def test_a_four_voice_conversion_read_again_is_kept_over_newer_ones(small_budgets) -> None:
    for seed in range(40):
        voices_cache._write_cached(f"v{seed:02d}", random_conversion(seed))
        if seed % 5 == 0:
            assert voices_cache._read_cached("v00") is not None  # the first conversion keeps being read
    folder = cache_subdir("voices")
    assert (folder / "v00.npz").exists() and not (folder / "v01.npz").exists()
    assert tree_bytes(folder) <= SMALL.disk_voices_bytes


def test_a_real_render_goes_through_the_budget(small_budgets) -> None:
    audio = render_wav(make_midi(), RenderConfig(engine="sine", sample_rate=8000))
    assert audio.seconds > 0 and tree_bytes(cache_subdir("audio")) <= SMALL.disk_audio_bytes


def test_the_status_line_counts_folders_against_their_budgets(small_budgets) -> None:
    storage.store_uploaded_corpus(corpus_files(3))
    line = storage.status_line(SMALL)
    assert line.startswith("Disk: caches ") and " of 410.2 KB, training runs 0 bytes of 4 GB." in line
    assert "Memory: cached uploads and audio " in line
