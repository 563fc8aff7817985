"""Renders cached by content hash under ``.cache/audio/`` (or ``$GMS_CACHE_DIR/audio``), within the disk
budget :attr:`core.budgets.Budgets.disk_audio_bytes` (least recently played renders deleted first)."""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from core.audio.config import AudioRenderError, RenderConfig, RenderedAudio
from core.audio.engines import soundfont_path
from core.audio.wav import decode_wav
from core.budgets import BUDGETS
from core.eviction import budget_for, touch
from core.files import write_bytes_atomic
from core.paths import cache_subdir

CACHE_FORMAT = 1


def cache_folder(config: RenderConfig) -> Path:
    """``config.cache_dir``, else ``audio`` in the cache folder."""
    if config.cache_dir is not None:
        return Path(config.cache_dir)
    return cache_subdir("audio")


def cache_key(midi_data: bytes, config: RenderConfig, engine: str) -> str:
    """Hash of everything that changes the audio: the rewritten MIDI, the sound settings, the engine."""
    settings = {
        name: value
        for name, value in asdict(config).items()
        if name in ("sample_rate", "gain", "max_seconds", "target_rms_dbfs", "peak_dbfs", "tail_s")
    }
    if engine == "fluidsynth":
        font = soundfont_path(config.soundfont)
        settings["soundfont"] = [font.name, font.stat().st_size]
    settings.update(engine=engine, requested_engine=config.engine, format=CACHE_FORMAT)
    digest = hashlib.sha256(midi_data)
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()[:32]


def load_cached(key: str, config: RenderConfig) -> RenderedAudio | None:
    """The cached render under ``key``, or None (missing or unreadable)."""
    wav_path, meta_path = cache_folder(config) / f"{key}.wav", cache_folder(config) / f"{key}.json"
    try:
        meta = json.loads(meta_path.read_text())
        wav_bytes = wav_path.read_bytes()
        samples, rate = decode_wav(wav_bytes)
    except (OSError, ValueError, AudioRenderError):
        return None
    touch(wav_path)
    return RenderedAudio(wav_bytes, rate, len(samples) / rate, meta["engine"], meta["note"], cached=True)


def store_cached(key: str, audio: RenderedAudio, config: RenderConfig) -> None:
    """Write the WAV, then its metadata, each atomically, then keep the folder within its disk budget; a
    cache that cannot be written is skipped."""
    folder = cache_folder(config)
    meta = json.dumps({"engine": audio.engine, "note": audio.note}).encode()
    paths = folder / f"{key}.wav", folder / f"{key}.json"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(paths[0], audio.wav)
        write_bytes_atomic(paths[1], meta)
    except OSError:  # a full or read-only disk: no half entry is left behind
        for path in paths:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
        return
    with contextlib.suppress(OSError):
        budget_for(folder, BUDGETS.disk_audio_bytes).wrote(folder, len(audio.wav) + len(meta))
