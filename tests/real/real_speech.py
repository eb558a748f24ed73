"""Speech WAVs for the real tier: the Piper voice (English) and espeak-ng (Russian), 16 kHz mono int16.

Piper runs with its noise scales at 0, so the same text always gives the same samples (its default draws
random noise): a real-tier test then hears exactly the audio it was written against. Each clip gets known
silence before and after, so the daemon's VAD sees a whole utterance and its end.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

LEAD_S = 0.3
TAIL_S = 0.8


def _to_16k(raw: Path, out: Path) -> Path:
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out), "pad", str(LEAD_S), str(TAIL_S)],
                   check=True, capture_output=True)
    return out


def piper_wav(voice: Path, text: str, out: Path) -> Path:
    """``text`` read by the Piper voice (an .onnx with its .onnx.json beside it), written to ``out``."""
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder) / "raw.wav"
        subprocess.run([sys.executable, "-m", "piper", "-m", str(voice), "--noise-scale", "0", "--noise-w-scale", "0",
                        "-f", str(raw)], input=text.encode(), check=True, capture_output=True)
        return _to_16k(raw, out)


def espeak_wav(text: str, out: Path, voice: str = "ru", speed: int = 150) -> Path:
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder) / "raw.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text], check=True, capture_output=True)
        return _to_16k(raw, out)
