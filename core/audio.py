"""MIDI → WAV: FluidSynth with the soundfont bundled in pretty_midi, bounded in time and size.

FluidSynth is run directly with :mod:`subprocess`, not through the ``midi2audio`` package: midi2audio ignores
FluidSynth's exit status, has no timeout and no gain setting, and a wrong soundfont path silently falls back
to whatever system soundfont exists. Here the command is the one midi2audio would build
(``fluidsynth -ni -g GAIN -F OUT.wav -r SR SOUNDFONT IN.mid``) plus a timeout that kills the process group,
an output-size limit (``RLIMIT_FSIZE``) and a check of the exit status and of the WAV it wrote.

FluidSynth renders until every voice is silent, so a stuck note can make it write for ever. Every MIDI is
therefore rewritten through pretty_midi before rendering: explicit note-offs, notes shorter than a few
milliseconds lengthened (a zero-length note would be written note-off first and stick), one channel per
instrument (at most 15 melodic ones, drums on channel 10), notes past ``max_seconds`` dropped or cut, and an
"all sound off" on every channel shortly after the end.

When FluidSynth is not installed, ``PrettyMIDI.synthesize`` (sine waves, pure numpy) is the fallback; the
result says so in ``engine`` and ``note``. Both engines are normalised to the same loudness (a target RMS
with a peak limit) and written as 16-bit PCM. Renders are cached by content hash under ``.cache/audio/``
(or ``$GMS_CACHE_DIR/audio``).

MIDI given as bytes is parsed with pretty_midi directly: pass untrusted uploads through
:func:`core.midi_io.load_midi` first (the command line does).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import wave
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pretty_midi

from core.cache import cache_subdir

Engine = Literal["auto", "fluidsynth", "sine"]

MAX_MELODIC_INSTRUMENTS = 15
"""MIDI has 16 channels and channel 10 is reserved for drums."""
MIN_NOTE_S = 0.01
"""Shorter notes are lengthened: pretty_midi writes a zero-length note's note-off before its note-on."""
MIN_OUTPUT_LIMIT_BYTES = 96 * 2**20
"""FluidSynth creates a 64 MiB shared-memory file at start, which counts against ``RLIMIT_FSIZE``."""
SILENCE_DBFS = -60.0
CLIPPED_FRACTION = 1e-4
"""FluidSynth output with more full-scale samples than this is rendered again at a quarter of the gain."""
FADE_OUT_S = 0.2
SINE_RELEASE_S = 0.1
"""pretty_midi fades each sine note out over 0.1 s after its end."""
CACHE_FORMAT = 1
_ALL_SOUND_OFF = 120
_SUSTAIN_PEDAL = 64


class AudioRenderError(Exception):
    """Audio could not be rendered. ``str(error)`` says why in words a user understands."""


@dataclass(frozen=True)
class RenderConfig:
    """How to render. Sizes in bytes, times in seconds, levels in dB relative to full scale."""

    sample_rate: int = 22050
    gain: float = 0.5
    timeout_s: float = 60.0
    max_seconds: float = 600.0
    max_output_bytes: int = 256 * 2**20
    target_rms_dbfs: float = -20.0
    peak_dbfs: float = -1.0
    tail_s: float = 2.0
    engine: Engine = "auto"
    soundfont: Path | None = None
    fluidsynth_binary: str = "fluidsynth"
    cache_dir: Path | None = None
    use_cache: bool = True

    def __post_init__(self) -> None:
        if not 8000 <= self.sample_rate <= 96000:
            raise ValueError(f"sample_rate must be between 8000 and 96000 Hz, not {self.sample_rate}")
        if not 0 < self.gain < 10:
            raise ValueError(f"gain must be between 0 and 10 (FluidSynth's range), not {self.gain}")
        if self.max_output_bytes < MIN_OUTPUT_LIMIT_BYTES:
            raise ValueError(
                f"max_output_bytes must be at least {MIN_OUTPUT_LIMIT_BYTES} (FluidSynth needs it)"
            )
        if self.engine not in ("auto", "fluidsynth", "sine"):
            raise ValueError(f"engine must be 'auto', 'fluidsynth' or 'sine', not {self.engine!r}")
        if self.timeout_s <= 0 or self.max_seconds <= 0 or self.tail_s < 0:
            raise ValueError("timeout_s and max_seconds must be positive and tail_s not negative")


@dataclass(frozen=True)
class RenderedAudio:
    """A rendered WAV file (16-bit PCM) and how it was made."""

    wav: bytes
    sample_rate: int
    seconds: float
    engine: Literal["fluidsynth", "sine"]
    note: str
    cached: bool = False


@dataclass
class PreparedMidi:
    """MIDI rewritten so that a synthesiser can play it and stop: the object, its bytes and what changed."""

    pm: pretty_midi.PrettyMIDI
    data: bytes
    end_s: float
    changes: list[str] = field(default_factory=list)


# --- public helpers


def fluidsynth_available(binary: str = "fluidsynth") -> bool:
    """True when the FluidSynth program can be found (a name on PATH or a path to an executable)."""
    return shutil.which(binary) is not None


def soundfont_path(override: str | os.PathLike | None = None) -> Path:
    """The soundfont to use: ``override`` or TimGM6mb.sf2 from the pretty_midi package. Raises if missing."""
    path = Path(override) if override is not None else Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    if not path.is_file():
        raise AudioRenderError(f"the soundfont {path.name} was not found, so FluidSynth cannot play anything")
    return path


def wav_rms_dbfs(wav_bytes: bytes) -> float:
    """RMS level of a PCM WAV file in dB relative to full scale (``-inf`` for digital silence)."""
    samples, _ = _decode_wav(wav_bytes)
    rms = float(np.sqrt(np.mean(np.square(samples)))) if samples.size else 0.0
    return 20 * np.log10(rms) if rms > 0 else float("-inf")


def prepare_midi(pm: pretty_midi.PrettyMIDI, max_seconds: float, tail_s: float = 2.0) -> PreparedMidi:
    """Rewrite ``pm`` so it plays and stops: bounded notes, one channel per part, all sound off at the end."""
    counts: Counter = Counter()
    melodic = [_bounded_copy(inst, max_seconds, counts) for inst in pm.instruments if not inst.is_drum]
    drums = [_bounded_copy(inst, max_seconds, counts) for inst in pm.instruments if inst.is_drum]
    changes = _describe_bounds(counts, max_seconds)
    melodic = _fit_channels([inst for inst in melodic if inst.notes], changes)
    drums = [inst for inst in drums if inst.notes]
    if len(drums) > 1:
        changes.append(f"{len(drums)} drum parts were merged onto the drum channel")
    parts = melodic + ([_merge(drums, program=0, is_drum=True)] if drums else [])
    out = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=120.0)
    out.instruments = parts
    end_s = max((note.end for inst in parts for note in inst.notes), default=0.0)
    for inst in parts:
        inst.control_changes.append(pretty_midi.ControlChange(_SUSTAIN_PEDAL, 0, end_s))
        inst.control_changes.append(pretty_midi.ControlChange(_ALL_SOUND_OFF, 0, end_s + tail_s))
    buffer = io.BytesIO()
    out.write(buffer)
    return PreparedMidi(pm=out, data=buffer.getvalue(), end_s=end_s, changes=changes)


# --- rendering


def render_wav(midi: pretty_midi.PrettyMIDI | bytes, config: RenderConfig = RenderConfig()) -> RenderedAudio:
    """Render MIDI to a normalised 16-bit WAV with FluidSynth, or with sine waves when it is not installed.

    Raises :class:`AudioRenderError` for unreadable or empty MIDI, a missing soundfont, a FluidSynth that
    fails, times out or writes too much, and audio that comes out silent.
    """
    prepared = prepare_midi(_as_pretty_midi(midi), config.max_seconds, config.tail_s)
    if prepared.end_s <= 0:
        raise AudioRenderError("the MIDI has no notes to play")
    engine = _choose_engine(config)
    key = _cache_key(prepared.data, config, engine)
    if config.use_cache and (hit := _cache_load(key, config)) is not None:
        return hit
    if engine == "fluidsynth":
        samples = _render_fluidsynth(prepared, config)
        note = "Rendered with FluidSynth and the TimGM6mb General MIDI soundfont."
    else:
        samples = _render_sine(prepared, config)
        note = _sine_note(config)
    samples = _normalise(_trim(samples, prepared.end_s, config), config)
    note = " ".join([note, *(change[0].upper() + change[1:] + "." for change in prepared.changes)])
    result = RenderedAudio(
        wav=_encode_wav(samples, config.sample_rate),
        sample_rate=config.sample_rate,
        seconds=len(samples) / config.sample_rate,
        engine=engine,
        note=note,
    )
    if config.use_cache:
        _cache_store(key, result, config)
    return result


def _as_pretty_midi(midi: pretty_midi.PrettyMIDI | bytes) -> pretty_midi.PrettyMIDI:
    if isinstance(midi, pretty_midi.PrettyMIDI):
        return midi
    try:
        return pretty_midi.PrettyMIDI(io.BytesIO(bytes(midi)))
    except Exception as error:  # mido/pretty_midi raise many unrelated types on bad input
        raise AudioRenderError(
            f"the MIDI data could not be read ({type(error).__name__}: {error})"
        ) from error


def _choose_engine(config: RenderConfig) -> Literal["fluidsynth", "sine"]:
    if config.engine == "sine":
        return "sine"
    if fluidsynth_available(config.fluidsynth_binary):
        soundfont_path(config.soundfont)  # a missing soundfont is an error, never a silent fallback
        return "fluidsynth"
    if config.engine == "fluidsynth":
        raise AudioRenderError(f"FluidSynth ({config.fluidsynth_binary}) is not installed")
    return "sine"


def _sine_note(config: RenderConfig) -> str:
    if config.engine == "sine":
        return "Rendered with plain sine waves, as asked (no instrument sounds, drums are silent)."
    return (
        "FluidSynth is not installed, so this was rendered with plain sine waves instead "
        "(no instrument sounds, drums are silent); install fluidsynth for real instruments."
    )


# --- MIDI rewrite


def _bounded_copy(
    inst: pretty_midi.Instrument, max_seconds: float, counts: Counter
) -> pretty_midi.Instrument:
    """Copy an instrument keeping notes inside [0, max_seconds], each at least MIN_NOTE_S long."""
    copy = pretty_midi.Instrument(program=inst.program, is_drum=inst.is_drum, name=inst.name)
    for note in inst.notes:
        start = max(0.0, note.start)
        if start > max_seconds - MIN_NOTE_S or note.end < start or not 0 <= note.pitch <= 127:
            counts["dropped"] += 1
            continue
        end = max(note.end, start + MIN_NOTE_S)
        if end > max_seconds:
            end = max_seconds
            counts["cut"] += 1
        velocity = int(np.clip(note.velocity, 1, 127))
        copy.notes.append(pretty_midi.Note(velocity, int(note.pitch), start, end))
    copy.control_changes = [cc for cc in inst.control_changes if 0 <= cc.time < max_seconds]
    copy.pitch_bends = [bend for bend in inst.pitch_bends if 0 <= bend.time < max_seconds]
    return copy


def _describe_bounds(counts: Counter, max_seconds: float) -> list[str]:
    changes = []
    if dropped := counts["dropped"]:
        changes.append(f"{_plural(dropped, 'note')} outside 0–{max_seconds:g} s {_were(dropped)} left out")
    if cut := counts["cut"]:
        changes.append(f"{_plural(cut, 'note')} {_were(cut)} cut at {max_seconds:g} s")
    return changes


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _were(count: int) -> str:
    return "was" if count == 1 else "were"


def _fit_channels(melodic: list[pretty_midi.Instrument], changes: list[str]) -> list[pretty_midi.Instrument]:
    """At most 15 melodic parts: merge parts that share a program, then fold the smallest together."""
    if len(melodic) <= MAX_MELODIC_INSTRUMENTS:
        return melodic
    by_program: dict[int, list[pretty_midi.Instrument]] = {}
    for inst in melodic:
        by_program.setdefault(inst.program, []).append(inst)
    groups = sorted(by_program.values(), key=lambda group: -sum(len(inst.notes) for inst in group))
    merged = [_merge(group, program=group[0].program, is_drum=False) for group in groups]
    if len(merged) > MAX_MELODIC_INSTRUMENTS:
        rest = merged[MAX_MELODIC_INSTRUMENTS - 1 :]
        merged = [
            *merged[: MAX_MELODIC_INSTRUMENTS - 1],
            _merge(rest, program=rest[0].program, is_drum=False),
        ]
    changes.append(f"{len(melodic)} parts were merged into {len(merged)} to fit the MIDI channels")
    return merged


def _merge(parts: list[pretty_midi.Instrument], program: int, is_drum: bool) -> pretty_midi.Instrument:
    merged = pretty_midi.Instrument(program=program, is_drum=is_drum)
    for part in parts:
        merged.notes.extend(part.notes)
        merged.control_changes.extend(part.control_changes)
        merged.pitch_bends.extend(part.pitch_bends)
    merged.notes.sort(key=lambda note: note.start)
    return merged


# --- engines


def _render_fluidsynth(prepared: PreparedMidi, config: RenderConfig) -> np.ndarray:
    """Run FluidSynth; render again at a quarter of the gain if its 16-bit output clipped."""
    samples = _run_fluidsynth_once(prepared, config, config.gain)
    if np.mean(np.abs(samples) >= 32767 / 32768) > CLIPPED_FRACTION:
        samples = _run_fluidsynth_once(prepared, config, config.gain / 4)
    return samples


def _run_fluidsynth_once(prepared: PreparedMidi, config: RenderConfig, gain: float) -> np.ndarray:
    with tempfile.TemporaryDirectory(prefix="gms-audio-") as tmp:
        midi_path, wav_path = Path(tmp) / "in.mid", Path(tmp) / "out.wav"
        midi_path.write_bytes(prepared.data)
        command = [
            shutil.which(config.fluidsynth_binary) or config.fluidsynth_binary,
            *("-n", "-i", "-q", "-g", f"{gain:g}", "-r", str(config.sample_rate)),
            *("-T", "wav", "-O", "s16", "-F", str(wav_path)),
            str(soundfont_path(config.soundfont)),
            str(midi_path),
        ]
        _run_bounded(command, config)
        if not wav_path.is_file():
            raise AudioRenderError("FluidSynth finished without writing a WAV file")
        samples, sample_rate = _decode_wav(wav_path.read_bytes())
    if sample_rate != config.sample_rate:
        raise AudioRenderError(f"FluidSynth wrote {sample_rate} Hz audio instead of {config.sample_rate} Hz")
    rendered_s = len(samples) / sample_rate
    if rendered_s < prepared.end_s - 0.05:
        raise AudioRenderError(
            f"FluidSynth stopped after {rendered_s:.1f} s of a {prepared.end_s:.1f} s piece"
        )
    return samples


def _run_bounded(command: list[str], config: RenderConfig) -> None:
    """Run a command in its own process group with a timeout and a file-size limit; raise on failure."""
    limit = config.max_output_bytes

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=limit_file_size,
        )
    except OSError as error:
        raise AudioRenderError(f"FluidSynth could not be started ({error})") from error
    try:
        _, stderr = process.communicate(timeout=config.timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise AudioRenderError(
            f"FluidSynth did not finish within {config.timeout_s:g} s and was stopped"
        ) from None
    if process.returncode == -signal.SIGXFSZ:
        raise AudioRenderError(f"FluidSynth wrote more than {limit / 2**20:.0f} MiB and was stopped")
    if process.returncode != 0:
        detail = stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise AudioRenderError(f"FluidSynth failed with exit status {process.returncode}: {' '.join(detail)}")


def _kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def _render_sine(prepared: PreparedMidi, config: RenderConfig) -> np.ndarray:
    """Sine-wave synthesis of the melodic parts (pretty_midi ignores drums), as a mono float array."""
    melodic = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=120.0)
    melodic.instruments = [inst for inst in prepared.pm.instruments if not inst.is_drum]
    if not melodic.instruments:
        raise AudioRenderError("the MIDI has only drums, which sine waves cannot play")
    samples = melodic.synthesize(fs=config.sample_rate, normalize=False)[:, None]
    samples = samples[: round((prepared.end_s + SINE_RELEASE_S) * config.sample_rate)]
    peak = float(np.max(np.abs(samples)))
    return samples / peak if peak > 0 else samples


# --- samples and WAV


def _trim(samples: np.ndarray, end_s: float, config: RenderConfig) -> np.ndarray:
    """Keep the piece plus at most ``tail_s`` of release; fade out if the tail was cut."""
    keep = round((end_s + config.tail_s) * config.sample_rate)
    if len(samples) <= keep:
        return samples
    samples = samples[:keep].copy()
    fade = min(int(FADE_OUT_S * config.sample_rate), keep)
    samples[keep - fade :] *= np.linspace(1.0, 0.0, fade)[:, None]
    return samples


def _normalise(samples: np.ndarray, config: RenderConfig) -> np.ndarray:
    """Scale to the target RMS, or less where that would push a peak above ``peak_dbfs``; reject silence."""
    rms = float(np.sqrt(np.mean(np.square(samples)))) if samples.size else 0.0
    if rms <= 10 ** (SILENCE_DBFS / 20):
        raise AudioRenderError("the rendered audio is silent")
    peak = float(np.max(np.abs(samples)))
    gain = min(10 ** (config.target_rms_dbfs / 20) / rms, 10 ** (config.peak_dbfs / 20) / peak)
    return samples * gain


def _encode_wav(samples: np.ndarray, sample_rate: int) -> bytes:
    """Float samples [frames, channels] in [-1, 1] → 16-bit PCM WAV bytes."""
    pcm = np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(samples.shape[1])
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


def _decode_wav(wav_bytes: bytes) -> tuple[np.ndarray, int]:
    """16-bit PCM WAV bytes → (float samples [frames, channels] in [-1, 1], sample rate)."""
    try:
        with wave.open(io.BytesIO(wav_bytes), "rb") as wav_in:
            channels, width, rate = wav_in.getnchannels(), wav_in.getsampwidth(), wav_in.getframerate()
            frames = wav_in.readframes(wav_in.getnframes())
    except (wave.Error, EOFError) as error:
        raise AudioRenderError(f"the WAV data is not readable ({error})") from error
    if width != 2 or channels not in (1, 2):
        raise AudioRenderError(
            f"expected 16-bit mono or stereo WAV, got {8 * width}-bit with {channels} channels"
        )
    samples = np.frombuffer(frames, dtype="<i2").reshape(-1, channels)
    return samples.astype(np.float64) / 32768.0, rate


# --- cache


def _cache_dir(config: RenderConfig) -> Path:
    if config.cache_dir is not None:
        return Path(config.cache_dir)
    return cache_subdir("audio")


def _cache_key(midi_data: bytes, config: RenderConfig, engine: str) -> str:
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


def _cache_load(key: str, config: RenderConfig) -> RenderedAudio | None:
    wav_path, meta_path = _cache_dir(config) / f"{key}.wav", _cache_dir(config) / f"{key}.json"
    try:
        meta = json.loads(meta_path.read_text())
        wav_bytes = wav_path.read_bytes()
        samples, rate = _decode_wav(wav_bytes)
    except (OSError, ValueError, AudioRenderError):
        return None
    return RenderedAudio(wav_bytes, rate, len(samples) / rate, meta["engine"], meta["note"], cached=True)


def _cache_store(key: str, audio: RenderedAudio, config: RenderConfig) -> None:
    """Write the WAV, then its metadata, each atomically; a cache that cannot be written is skipped."""
    folder = _cache_dir(config)
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(folder / f"{key}.wav", audio.wav)
        _write_atomic(
            folder / f"{key}.json", json.dumps({"engine": audio.engine, "note": audio.note}).encode()
        )


def _write_atomic(path: Path, data: bytes) -> None:
    handle, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as tmp:
            tmp.write(data)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


# --- command line


def _load_midi_file(path: Path) -> pretty_midi.PrettyMIDI:
    """Read a MIDI file through the guarded loader when it exists; its rejection message is the error."""
    try:
        from core.midi_io import MidiRejected, load_midi
    except ModuleNotFoundError as error:
        if error.name != "core.midi_io":
            raise
        return _as_pretty_midi(path.read_bytes())
    try:
        return load_midi(path).to_pretty_midi()
    except MidiRejected as error:
        raise AudioRenderError(str(error)) from error


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m core.audio", description="Render MIDI files to WAV audio."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser("render", help="render one MIDI file to a WAV file")
    render.add_argument("midi", type=Path, help="input .mid file")
    render.add_argument("wav", type=Path, help="output .wav file")
    render.add_argument(
        "--sample-rate", type=int, default=RenderConfig.sample_rate, help="Hz (default 22050)"
    )
    render.add_argument("--engine", choices=["auto", "fluidsynth", "sine"], default="auto")
    render.add_argument(
        "--timeout", type=float, default=RenderConfig.timeout_s, help="seconds for FluidSynth"
    )
    render.add_argument("--no-cache", action="store_true", help="render again even if a cached copy exists")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    args = _build_parser().parse_args(argv)
    started = time.perf_counter()
    try:
        config = RenderConfig(
            sample_rate=args.sample_rate,
            engine=args.engine,
            timeout_s=args.timeout,
            use_cache=not args.no_cache,
        )
        audio = render_wav(_load_midi_file(args.midi), config)
        args.wav.write_bytes(audio.wav)
    except (AudioRenderError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"engine: {audio.engine}{' (cached)' if audio.cached else ''}")
    print(f"audio: {audio.seconds:.2f} s at {audio.sample_rate} Hz, {wav_rms_dbfs(audio.wav):.1f} dBFS RMS")
    print(f"render time: {time.perf_counter() - started:.2f} s")
    print(f"note: {audio.note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
