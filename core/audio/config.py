"""What a render is asked to do and what it gives back, and the one error it raises."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from core.budgets import BUDGETS

Engine = Literal["auto", "fluidsynth", "sine"]

MIN_OUTPUT_LIMIT_BYTES = 96 * 2**20
"""FluidSynth creates a 64 MiB shared-memory file at start, which counts against ``RLIMIT_FSIZE``."""


class AudioRenderError(Exception):
    """Audio could not be rendered. ``str(error)`` says why in words a user understands."""


@dataclass(frozen=True)
class RenderConfig:
    """How to render. Sizes in bytes, times in seconds, levels in dB relative to full scale; the budgets
    (``timeout_s``, ``max_seconds``) come from :data:`core.budgets.BUDGETS`."""

    sample_rate: int = 22050
    gain: float = 0.5
    timeout_s: float = BUDGETS.render_seconds
    max_seconds: float = BUDGETS.audio_seconds
    """Seconds of the piece rendered; a longer piece renders its beginning, and the note says so."""
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


DEFAULT_RENDER = RenderConfig()
"""The settings the app renders with."""
