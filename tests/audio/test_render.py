"""Tests for core.audio: FluidSynth rendering, the sine fallback, bounds, the cache and the command line."""

from __future__ import annotations

import io
import time
import wave
from pathlib import Path

import mido
import numpy as np
import pretty_midi
import pytest

from core.audio import AudioRenderError, RenderConfig, engines, render, render_wav, wav_rms_dbfs
from core.audio.config import MIN_OUTPUT_LIMIT_BYTES
from core.audio.prepare import prepare_midi
from core.audio.wav import encode_wav
from core.cli import audio as audio_cli
from tests.support.midi_files import make_midi

needs_fluidsynth = pytest.mark.skipif(
    not engines.fluidsynth_available(), reason="fluidsynth is not installed"
)
PEAK_LIMIT = 10 ** (-1 / 20)


@pytest.fixture(autouse=True)
def cache_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep every render's cache out of the repository."""
    monkeypatch.setenv("GMS_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "audio"


def fake_fluidsynth(tmp_path: Path, body: str) -> str:
    """A stand-in for the fluidsynth program: a shell script that ignores its arguments."""
    script = tmp_path / "fake-fluidsynth"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(0o755)
    return str(script)


def read_wav(data: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(data), "rb") as wav_in:
        assert wav_in.getsampwidth() == 2
        frames = np.frombuffer(wav_in.readframes(wav_in.getnframes()), dtype="<i2")
        return frames.reshape(-1, wav_in.getnchannels()), wav_in.getframerate()


def assert_loud_and_unclipped(data: bytes) -> None:
    samples, _ = read_wav(data)
    assert wav_rms_dbfs(data) == pytest.approx(-20.0, abs=1.0)
    assert np.max(np.abs(samples.astype(int))) <= PEAK_LIMIT * 32768 + 1


@needs_fluidsynth
def test_fluidsynth_renders_a_valid_wav_of_the_right_length_and_loudness() -> None:
    result = render_wav(make_midi(), RenderConfig(use_cache=False))
    samples, rate = read_wav(result.wav)
    assert result.engine == "fluidsynth"
    assert rate == result.sample_rate == 22050
    assert samples.shape[1] == 2
    assert 2.0 <= result.seconds <= 2.0 + RenderConfig.tail_s + 0.01
    assert result.seconds == pytest.approx(len(samples) / rate)
    assert_loud_and_unclipped(result.wav)


@needs_fluidsynth
def test_a_zero_length_organ_note_does_not_make_fluidsynth_render_for_ever() -> None:
    pm = pretty_midi.PrettyMIDI()
    organ = pretty_midi.Instrument(program=19)
    organ.notes = [pretty_midi.Note(90, 60, 0.5, 0.5), pretty_midi.Note(90, 64, 0.0, 1.0)]
    pm.instruments.append(organ)
    started = time.monotonic()
    result = render_wav(pm, RenderConfig(timeout_s=10, use_cache=False))
    assert time.monotonic() - started < 5
    assert result.seconds <= 1.0 + RenderConfig.tail_s + 0.01


def test_sine_fallback_when_fluidsynth_is_missing_says_so() -> None:
    config = RenderConfig(fluidsynth_binary="no-such-fluidsynth-binary", use_cache=False)
    result = render_wav(make_midi(), config)
    samples, rate = read_wav(result.wav)
    assert result.engine == "sine"
    assert "FluidSynth is not installed" in result.note
    assert samples.shape[1] == 1 and rate == 22050
    assert 2.0 <= result.seconds <= 2.0 + engines.SINE_RELEASE_S + 0.01
    assert_loud_and_unclipped(result.wav)


def test_asking_for_fluidsynth_when_it_is_missing_raises() -> None:
    config = RenderConfig(engine="fluidsynth", fluidsynth_binary="no-such-fluidsynth-binary")
    with pytest.raises(AudioRenderError, match="not installed"):
        render_wav(make_midi(), config)


def test_a_missing_soundfont_is_an_error_not_a_fallback(tmp_path: Path) -> None:
    binary = fake_fluidsynth(tmp_path, "exit 0")
    config = RenderConfig(fluidsynth_binary=binary, soundfont=tmp_path / "missing.sf2", use_cache=False)
    with pytest.raises(AudioRenderError, match="soundfont"):
        render_wav(make_midi(), config)


def test_the_bundled_soundfont_is_found() -> None:
    assert engines.soundfont_path().name == "TimGM6mb.sf2"
    assert engines.soundfont_path().stat().st_size > 1_000_000


def test_a_fluidsynth_that_hangs_is_killed_with_its_children(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    binary = fake_fluidsynth(tmp_path, f"sleep 30 &\necho $! > {pid_file}\nwait")
    started = time.monotonic()
    with pytest.raises(AudioRenderError, match=r"did not finish within 0\.5 s"):
        render_wav(make_midi(), RenderConfig(fluidsynth_binary=binary, timeout_s=0.5, use_cache=False))
    assert time.monotonic() - started < 3
    stat = Path(f"/proc/{pid_file.read_text().strip()}/stat")
    assert not stat.exists() or stat.read_text().split(") ")[1].startswith("Z")


def test_a_failing_fluidsynth_raises_with_its_message(tmp_path: Path) -> None:
    binary = fake_fluidsynth(tmp_path, "echo 'bad soundfont data' >&2\nexit 3")
    with pytest.raises(AudioRenderError, match="exit status 3: bad soundfont data"):
        render_wav(make_midi(), RenderConfig(fluidsynth_binary=binary, use_cache=False))


def test_a_fluidsynth_that_writes_too_much_is_stopped(tmp_path: Path) -> None:
    limit = MIN_OUTPUT_LIMIT_BYTES
    big = tmp_path / "big.wav"
    binary = fake_fluidsynth(tmp_path, f"exec head -c {limit + 4096} /dev/zero > {big}")
    config = RenderConfig(fluidsynth_binary=binary, max_output_bytes=limit, use_cache=False)
    with pytest.raises(AudioRenderError, match="wrote more than 96 MiB"):
        render_wav(make_midi(), config)
    assert big.stat().st_size == limit
    big.unlink()


def test_a_fluidsynth_that_writes_no_wav_raises(tmp_path: Path) -> None:
    binary = fake_fluidsynth(tmp_path, "exit 0")
    with pytest.raises(AudioRenderError, match="without writing a WAV"):
        render_wav(make_midi(), RenderConfig(fluidsynth_binary=binary, use_cache=False))


def test_a_cache_hit_returns_the_same_bytes_without_rendering(
    cache_in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    original = render.render_sine
    monkeypatch.setattr(render, "render_sine", lambda *args: calls.append(1) or original(*args))
    config = RenderConfig(engine="sine")
    first = render_wav(make_midi(), config)
    second = render_wav(make_midi(), config)
    assert (first.cached, second.cached, len(calls)) == (False, True, 1)
    assert second.wav == first.wav and second.note == first.note and second.engine == "sine"
    assert sorted(path.suffix for path in cache_in_tmp.iterdir()) == [".json", ".wav"]
    render_wav(make_midi(), RenderConfig(engine="sine", sample_rate=16000))
    assert len(calls) == 2


def test_peaks_are_limited_when_the_target_loudness_would_clip() -> None:
    result = render_wav(make_midi([(69, 0.0, 1.0)]), RenderConfig(engine="sine", target_rms_dbfs=-1.0))
    samples, _ = read_wav(result.wav)
    assert np.max(np.abs(samples.astype(int))) <= PEAK_LIMIT * 32768 + 1
    assert wav_rms_dbfs(result.wav) < -3.5


def test_unreadable_or_empty_midi_raises() -> None:
    with pytest.raises(AudioRenderError, match="could not be read"):
        render_wav(b"this is not a MIDI file", RenderConfig(engine="sine"))
    with pytest.raises(AudioRenderError, match="no notes"):
        render_wav(pretty_midi.PrettyMIDI(), RenderConfig(engine="sine"))


def test_drums_only_cannot_be_played_with_sine_waves() -> None:
    with pytest.raises(AudioRenderError, match="only drums"):
        render_wav(make_midi([(36, 0.0, 0.5)], is_drum=True), RenderConfig(engine="sine"))


def test_prepare_midi_gives_each_part_its_own_channel_and_drums_channel_10() -> None:
    pm = pretty_midi.PrettyMIDI()
    for program in range(20):
        part = pretty_midi.Instrument(program=program)
        part.notes.append(pretty_midi.Note(80, 48 + program, 0.1 * program, 0.1 * program + 1))
        pm.instruments.append(part)
    for _ in range(2):
        drums = pretty_midi.Instrument(program=0, is_drum=True)
        drums.notes.append(pretty_midi.Note(80, 36, 0.0, 0.2))
        pm.instruments.append(drums)
    prepared = prepare_midi(pm, max_seconds=60)
    channels = [
        {msg.channel for msg in track if msg.type == "note_on"}
        for track in mido.MidiFile(file=io.BytesIO(prepared.data)).tracks
    ]
    channels = [c for c in channels if c]
    assert all(len(c) == 1 for c in channels)
    flat = [c.pop() for c in channels]
    assert flat[-1] == 9 and 9 not in flat[:-1]
    assert len(flat[:-1]) == len(set(flat[:-1])) == 15
    assert sum(len(inst.notes) for inst in prepared.pm.instruments) == 22
    assert any("merged" in change for change in prepared.changes)
    assert len(pm.instruments) == 22  # the input is left as it was


def test_prepare_midi_bounds_notes_to_max_seconds() -> None:
    pm = pretty_midi.PrettyMIDI()
    part = pretty_midi.Instrument(program=0)
    part.notes = [
        pretty_midi.Note(80, 60, 0.0, 1.0),
        pretty_midi.Note(80, 62, 1.0, 3600.0),
        pretty_midi.Note(80, 64, 7200.0, 7201.0),
        pretty_midi.Note(80, 65, 4.9999, 5.0),
    ]
    pm.instruments.append(part)
    prepared = prepare_midi(pm, max_seconds=5.0)
    notes = prepared.pm.instruments[0].notes
    assert [(n.pitch, n.end) for n in notes] == [(60, 1.0), (62, 5.0)]
    assert prepared.end_s == 5.0
    assert prepared.changes == [
        "only the first 0:05 of this 120:01 piece were rendered (audio is limited to 0:05 per piece)"
    ]
    reread = pretty_midi.PrettyMIDI(io.BytesIO(prepared.data))
    assert reread.instruments[0].notes[-1].end == pytest.approx(5.0, abs=0.01)


def test_wav_rms_dbfs_of_a_half_scale_sine() -> None:
    t = np.arange(22050) / 22050
    tone = (0.5 * np.sin(2 * np.pi * 440 * t))[:, None]
    assert wav_rms_dbfs(encode_wav(tone, 22050)) == pytest.approx(-9.03, abs=0.05)


def test_config_refuses_an_output_limit_below_fluidsynths_shared_memory() -> None:
    with pytest.raises(ValueError, match="max_output_bytes"):
        RenderConfig(max_output_bytes=64 * 2**20)


def test_cli_renders_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    midi_path, wav_path = tmp_path / "in.mid", tmp_path / "out.wav"
    midi_path.write_bytes(make_midi())
    assert audio_cli.main(["render", str(midi_path), str(wav_path), "--engine", "sine"]) == 0
    out = capsys.readouterr().out
    assert "engine: sine" in out and "render time:" in out and "audio: 2.10 s at 22050 Hz" in out
    assert read_wav(wav_path.read_bytes())[1] == 22050


def test_cli_reports_bad_input_with_exit_code_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    midi_path, wav_path = tmp_path / "bad.mid", tmp_path / "out.wav"
    midi_path.write_bytes(b"MThd but not really a MIDI file")
    assert audio_cli.main(["render", str(midi_path), str(wav_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert not wav_path.exists()
    assert audio_cli.main(["render", str(tmp_path / "missing.mid"), str(wav_path)]) == 1
