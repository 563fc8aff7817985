"""16-bit PCM WAV: encode, decode, measure, trim and normalise sample arrays."""

from __future__ import annotations

import io
import wave

import numpy as np

from core.audio.config import AudioRenderError, RenderConfig

SILENCE_DBFS = -60.0
FADE_OUT_S = 0.2


def wav_rms_dbfs(wav_bytes: bytes) -> float:
    """RMS level of a PCM WAV file in dB relative to full scale (``-inf`` for digital silence)."""
    samples, _ = decode_wav(wav_bytes)
    rms = float(np.sqrt(np.mean(np.square(samples)))) if samples.size else 0.0
    return 20 * np.log10(rms) if rms > 0 else float("-inf")


def trim(samples: np.ndarray, end_s: float, config: RenderConfig) -> np.ndarray:
    """Keep the piece plus at most ``tail_s`` of release; fade out if the tail was cut."""
    keep = round((end_s + config.tail_s) * config.sample_rate)
    if len(samples) <= keep:
        return samples
    samples = samples[:keep].copy()
    fade = min(int(FADE_OUT_S * config.sample_rate), keep)
    samples[keep - fade :] *= np.linspace(1.0, 0.0, fade)[:, None]
    return samples


def normalise(samples: np.ndarray, config: RenderConfig) -> np.ndarray:
    """Scale to the target RMS, or less where that would push a peak above ``peak_dbfs``; reject silence."""
    rms = float(np.sqrt(np.mean(np.square(samples)))) if samples.size else 0.0
    if rms <= 10 ** (SILENCE_DBFS / 20):
        raise AudioRenderError("the rendered audio is silent")
    peak = float(np.max(np.abs(samples)))
    gain = min(10 ** (config.target_rms_dbfs / 20) / rms, 10 ** (config.peak_dbfs / 20) / peak)
    return samples * gain


def encode_wav(samples: np.ndarray, sample_rate: int) -> bytes:
    """Float samples [frames, channels] in [-1, 1] → 16-bit PCM WAV bytes."""
    pcm = np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(samples.shape[1])
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


def decode_wav(wav_bytes: bytes) -> tuple[np.ndarray, int]:
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
