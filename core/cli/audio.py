"""``python -m core.audio render IN.mid OUT.wav``: render a MIDI file to WAV with the app's guards."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pretty_midi

from core.audio.config import AudioRenderError, RenderConfig
from core.audio.render import render_wav
from core.audio.wav import wav_rms_dbfs
from core.files import write_bytes_atomic
from core.midi.parser import load_midi
from core.midi.score import MidiRejected


def _load_midi_file(path: Path) -> pretty_midi.PrettyMIDI:
    """Read a MIDI file through the guarded loader; its rejection message is the error."""
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
        write_bytes_atomic(args.wav, audio.wav)
    except (AudioRenderError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"engine: {audio.engine}{' (cached)' if audio.cached else ''}")
    print(f"audio: {audio.seconds:.2f} s at {audio.sample_rate} Hz, {wav_rms_dbfs(audio.wav):.1f} dBFS RMS")
    print(f"render time: {time.perf_counter() - started:.2f} s")
    print(f"note: {audio.note}")
    return 0
