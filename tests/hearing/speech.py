"""Real speech for tests and benchmarks: espeak-ng sentences, trimmed to their voiced extent, joined with
known silences so the truth (where speech starts and ends) is known to the sample."""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass

import numpy as np

from pushkin.daemon.hearing.sources import read_audio_file

RATE = 16000


def speak(text: str, voice: str = "en", speed: int = 170) -> np.ndarray:
    """espeak-ng's rendering of ``text`` at 16 kHz, int16 (T,), trimmed to where the voice is."""
    with tempfile.TemporaryDirectory() as folder:
        raw = os.path.join(folder, "raw.wav")
        wav = os.path.join(folder, "speech.wav")
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", raw, text], check=True, capture_output=True)
        # sox does the resampling here so the fixture does not depend on the code under test.
        subprocess.run(["sox", raw, "-r", str(RATE), "-c", "1", "-b", "16", wav], check=True, capture_output=True)
        samples = read_audio_file(wav)
    return trim(samples)


def voiced_extent(samples: np.ndarray, threshold: float = 0.02, window: int = 80) -> tuple[int, int]:
    """First and one-past-last sample of the 5 ms windows whose peak is above ``threshold`` of full scale."""
    usable = len(samples) - len(samples) % window
    peaks = np.abs(samples[:usable].astype(np.int32)).reshape(-1, window).max(axis=1)
    loud = np.flatnonzero(peaks > threshold * 32768)
    if len(loud) == 0:
        return 0, 0
    return int(loud[0] * window), int((loud[-1] + 1) * window)


def trim(samples: np.ndarray) -> np.ndarray:
    start, end = voiced_extent(samples)
    return samples[start:end]


@dataclass(frozen=True)
class Scene:
    """Audio built from clips and silences; ``spans`` are the clips' (start_s, end_s)."""

    audio: np.ndarray
    spans: tuple[tuple[float, float], ...]


def compose(pieces: list, noise_dbfs: float | None = None, seed: int = 0) -> Scene:
    """Join clips (int16 arrays) and silences (floats, seconds); optionally add steady white noise."""
    chunks, spans, cursor = [], [], 0
    for piece in pieces:
        if isinstance(piece, (int, float)):
            n = int(round(piece * RATE))
            chunks.append(np.zeros(n, dtype=np.int16))
        else:
            n = len(piece)
            chunks.append(piece)
            spans.append((cursor / RATE, (cursor + n) / RATE))
        cursor += n
    audio = np.concatenate(chunks)
    if noise_dbfs is not None:
        rng = np.random.default_rng(seed)
        noise = rng.standard_normal(len(audio)) * (10 ** (noise_dbfs / 20) * 32768)
        audio = np.clip(audio.astype(np.float64) + noise, -32768, 32767).astype(np.int16)
    return Scene(audio, tuple(spans))


def speak_piper(text: str, voice_path) -> np.ndarray:
    """The Piper neural voice (``voice_path``: its .onnx) saying ``text``: 16 kHz int16 (T,), trimmed.

    Piper samples noise inside its model, so each rendering differs; with the noise at zero the same text
    gives the same audio, and a test the same result.
    """
    import wave

    from piper import PiperVoice, SynthesisConfig

    with tempfile.TemporaryDirectory() as folder:
        raw = os.path.join(folder, "raw.wav")
        wav = os.path.join(folder, "speech.wav")
        with wave.open(raw, "wb") as out:
            PiperVoice.load(str(voice_path)).synthesize_wav(text, out, syn_config=SynthesisConfig(noise_scale=0.0,
                                                                                                   noise_w_scale=0.0))
        subprocess.run(["sox", raw, "-r", str(RATE), "-c", "1", "-b", "16", wav], check=True, capture_output=True)
        samples = read_audio_file(wav)
    return trim(samples)


def speak_festival(text: str, voice: str = "msu_ru_nsh_clunits") -> np.ndarray:
    """Festival (Debian's festvox-ru voice by default) saying ``text``: 16 kHz int16 (T,), trimmed."""
    with tempfile.TemporaryDirectory() as folder:
        script = os.path.join(folder, "text.txt")
        raw = os.path.join(folder, "raw.wav")
        wav = os.path.join(folder, "speech.wav")
        with open(script, "w", encoding="utf-8") as handle:
            handle.write(text)
        subprocess.run(["text2wave", "-eval", f"(voice_{voice})", script, "-o", raw], check=True, capture_output=True)
        subprocess.run(["sox", raw, "-r", str(RATE), "-c", "1", "-b", "16", wav], check=True, capture_output=True)
        samples = read_audio_file(wav)
    return trim(samples)
