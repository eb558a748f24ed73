"""A room around synthetic speech: pauses between spoken pieces, generated noise at a set SNR, a level change.

:func:`mix` joins int16 speech pieces with silences (a lead-in, the pauses, a tail), brings the speech to a
reference level (RMS :data:`REFERENCE_RMS_DBFS`), adds pink or brown noise over the whole clip at ``snr_db``
below the speech's RMS, and applies ``gain_db``; when the gain would clip, it is lowered to fit (the clip
reports the gain it got). All randomness comes from the ``rng`` passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16000
REFERENCE_RMS_DBFS = -26.0  # the speech level a gain of 0 dB means
PEAK_LIMIT = 0.98  # of full scale: nothing louder is written
NOISE_COLOURS = ("pink", "brown")


@dataclass(frozen=True)
class MixedClip:
    samples: np.ndarray  # (T,) int16
    speech_spans: tuple[tuple[float, float], ...]  # seconds: where each piece is
    pauses_s: tuple[float, ...]  # the silences between pieces
    noise: str
    snr_db: float  # speech RMS over noise RMS
    gain_db: float  # applied, relative to the reference level


def coloured_noise(colour: str, length: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS noise whose power falls as 1/f (pink) or 1/f² (brown), float64 (length,)."""
    if length == 0:
        return np.zeros(0)
    spectrum = np.fft.rfft(rng.standard_normal(length))
    frequencies = np.fft.rfftfreq(length)
    frequencies[0] = frequencies[1] if length > 1 else 1.0
    exponent = {"pink": 0.5, "brown": 1.0}[colour]
    spectrum /= frequencies ** exponent
    spectrum[0] = 0.0  # no DC offset
    noise = np.fft.irfft(spectrum, n=length)
    rms = float(np.sqrt(np.mean(noise ** 2)))
    return noise / rms if rms > 0 else noise


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(samples, np.float64) ** 2))) if len(samples) else 0.0


def mix(pieces: Sequence[np.ndarray], pauses_s: Sequence[float], *, lead_s: float, tail_s: float, noise: str,
        snr_db: float, gain_db: float, rng: np.random.Generator) -> MixedClip:
    """The clip: lead-in, piece, pause, piece, ..., tail; speech at the reference level plus noise, times gain."""
    if len(pauses_s) != len(pieces) - 1:
        raise ValueError(f"{len(pieces)} pieces need {len(pieces) - 1} pauses, got {len(pauses_s)}")
    gaps = [lead_s, *pauses_s, tail_s]
    chunks, spans, cursor = [], [], 0
    for i, piece in enumerate(pieces):
        gap = np.zeros(int(round(gaps[i] * SAMPLE_RATE)))
        chunks.append(gap)
        cursor += len(gap)
        chunks.append(piece.astype(np.float64))
        spans.append((cursor / SAMPLE_RATE, (cursor + len(piece)) / SAMPLE_RATE))
        cursor += len(piece)
    chunks.append(np.zeros(int(round(gaps[-1] * SAMPLE_RATE))))
    clip = np.concatenate(chunks)
    speech_rms = rms(np.concatenate([p.astype(np.float64) for p in pieces]))
    if speech_rms == 0:
        raise ValueError("the speech pieces are silent")
    reference = 10 ** (REFERENCE_RMS_DBFS / 20) * 32768
    clip *= reference / speech_rms
    clip += coloured_noise(noise, len(clip), rng) * reference / 10 ** (snr_db / 20)
    peak = float(np.max(np.abs(clip)))
    # The loudest gain that keeps the peak under the limit; a smaller one is used as asked.
    headroom_db = 20 * np.log10(PEAK_LIMIT * 32767 / peak)
    applied = float(min(gain_db, headroom_db))
    clip *= 10 ** (applied / 20)
    samples = np.clip(np.round(clip), -32767, 32767).astype(np.int16)
    return MixedClip(samples, tuple(spans), tuple(pauses_s), noise, float(snr_db), applied)
