"""The two synthesisers: FluidSynth run directly with a timeout and an output-size limit, and sine waves.

FluidSynth is run directly with :mod:`subprocess`, not through the ``midi2audio`` package: midi2audio ignores
FluidSynth's exit status, has no timeout and no gain setting, and a wrong soundfont path silently falls back
to whatever system soundfont exists. Here the command is the one midi2audio would build
(``fluidsynth -ni -g GAIN -F OUT.wav -r SR SOUNDFONT IN.mid``) plus a timeout that kills the process group,
an output-size limit (``RLIMIT_FSIZE``) and a check of the exit status and of the WAV it wrote.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pretty_midi

from core.audio.config import AudioRenderError, RenderConfig
from core.audio.prepare import PreparedMidi
from core.audio.wav import decode_wav

CLIPPED_FRACTION = 1e-4
"""FluidSynth output with more full-scale samples than this is rendered again at a quarter of the gain."""
SINE_RELEASE_S = 0.1
"""pretty_midi fades each sine note out over 0.1 s after its end."""


def fluidsynth_available(binary: str = "fluidsynth") -> bool:
    """True when the FluidSynth program can be found (a name on PATH or a path to an executable)."""
    return shutil.which(binary) is not None


def soundfont_path(override: str | os.PathLike | None = None) -> Path:
    """The soundfont to use: ``override`` or TimGM6mb.sf2 from the pretty_midi package. Raises if missing."""
    path = Path(override) if override is not None else Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    if not path.is_file():
        raise AudioRenderError(f"the soundfont {path.name} was not found, so FluidSynth cannot play anything")
    return path


def render_fluidsynth(prepared: PreparedMidi, config: RenderConfig) -> np.ndarray:
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
        samples, sample_rate = decode_wav(wav_path.read_bytes())
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


def render_sine(prepared: PreparedMidi, config: RenderConfig) -> np.ndarray:
    """Sine-wave synthesis of the melodic parts (pretty_midi ignores drums), as a mono float array."""
    melodic = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=120.0)
    melodic.instruments = [inst for inst in prepared.pm.instruments if not inst.is_drum]
    if not melodic.instruments:
        raise AudioRenderError("the MIDI has only drums, which sine waves cannot play")
    samples = melodic.synthesize(fs=config.sample_rate, normalize=False)[:, None]
    samples = samples[: round((prepared.end_s + SINE_RELEASE_S) * config.sample_rate)]
    peak = float(np.max(np.abs(samples)))
    return samples / peak if peak > 0 else samples


def sine_note(config: RenderConfig) -> str:
    """The note a sine render carries: why there are no instrument sounds."""
    if config.engine == "sine":
        return "Rendered with plain sine waves, as asked (no instrument sounds, drums are silent)."
    return (
        "FluidSynth is not installed, so this was rendered with plain sine waves instead "
        "(no instrument sounds, drums are silent); install fluidsynth for real instruments."
    )
