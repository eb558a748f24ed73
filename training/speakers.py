"""Synthetic voices for the spoken training set: espeak-ng, the Piper neural voice, Festival's Russian voice.

A :class:`Voice` is an engine, a voice of it, a speed (1.0 = the engine's normal rate) and a pitch shift in
semitones (sox's ``pitch`` effect, the same for every engine). :func:`render` returns the voice saying a text
as 16 kHz mono int16, trimmed to where the voice is, from a content-addressed cache when it has been said
before. Festival pays about a second to load its voice, so :func:`render_many` says all of one voice's
texts in one Festival process; Piper is loaded once per process, on one onnxruntime thread.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
_RENDER_VERSION = "1"  # part of every cache key: bump when rendering changes
ESPEAK_NORMAL_WPM = 175
FESTIVAL_RU_VOICE = "msu_ru_nsh_clunits"


class VoiceUnavailable(RuntimeError):
    """An engine or voice that is not installed; the message says what to install."""


@dataclass(frozen=True)
class Voice:
    engine: str  # "espeak-ng", "piper" or "festival"
    name: str  # espeak-ng: "en-us+m3"; piper: the .onnx path; festival: its voice name
    language: str  # "en" or "ru"
    speed: float = 1.0
    pitch: float = 0.0  # semitones

    @property
    def label(self) -> str:
        """The voice id written to manifests ("espeak-ng:ru+f2:s1.15:p-1.0")."""
        name = Path(self.name).stem if self.engine == "piper" else self.name
        return f"{self.engine}:{name}:s{self.speed:.2f}:p{self.pitch:+.1f}"


def require_engine(engine: str) -> None:
    """Raise VoiceUnavailable naming what to install when ``engine`` (or sox) is missing."""
    needed = {"espeak-ng": ["espeak-ng"], "festival": ["festival"], "piper": []}[engine] + ["sox"]
    missing = [tool for tool in needed if shutil.which(tool) is None]
    if missing:
        raise VoiceUnavailable(f"{', '.join(missing)} not found: install the Debian packages "
                               f"{' '.join('festival festvox-ru' if t == 'festival' else t for t in missing)}")
    if engine == "piper":
        try:
            import piper  # noqa: F401
        except ImportError as error:
            raise VoiceUnavailable(f"piper-tts is not installed ({error}): pip install piper-tts") from None


def festival_voice_installed(name: str = FESTIVAL_RU_VOICE) -> bool:
    """Whether Festival and its voice ``name`` (Debian's festvox-ru by default) are installed."""
    if shutil.which("festival") is None:
        return False
    return any(Path(root).glob(f"*/{name}") for root in ("/usr/share/festival/voices", "/usr/local/share/festival/voices"))


def cache_key(voice: Voice, text: str) -> str:
    return hashlib.sha256(f"{_RENDER_VERSION}|{voice.label}|{voice.name}|{text}".encode()).hexdigest()[:24]


def render(voice: Voice, text: str, cache_dir: str | Path) -> np.ndarray:
    """``voice`` saying ``text``: 16 kHz int16 (T,), trimmed; from the cache when it is there."""
    return render_many(voice, [text], cache_dir)[0]


def render_many(voice: Voice, texts: Sequence[str], cache_dir: str | Path) -> list[np.ndarray]:
    """``voice`` saying each of ``texts`` (one Festival process for all that are not cached yet)."""
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    paths = [cache_dir / f"{cache_key(voice, text)}.wav" for text in texts]
    missing = sorted({text: path for text, path in zip(texts, paths) if not path.is_file()}.items())
    if missing:
        require_engine(voice.engine)
        spoken = _say(voice, [text for text, _ in missing])
        for (_, path), raw in zip(missing, spoken):
            write_wav(path, trim(_to_16k(raw, voice.pitch)))
    return [_read_wav(path) for path in paths]


def _say(voice: Voice, texts: list[str]) -> list[bytes]:
    """The engine's own WAV bytes for each text."""
    if voice.engine == "espeak-ng":
        wpm = str(round(ESPEAK_NORMAL_WPM * voice.speed))
        # "--" ends the options, so a text that begins with "-" is read.
        return [subprocess.run(["espeak-ng", "-v", voice.name, "-s", wpm, "--stdout", "--", text],
                               check=True, capture_output=True).stdout for text in texts]
    if voice.engine == "piper":
        return [_piper(voice, text) for text in texts]
    if voice.engine == "festival":
        return _festival(voice, texts)
    raise ValueError(f"unknown engine {voice.engine!r}")


@cache
def _piper_voice(path: str):
    import json

    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig
    from piper.voice import ESPEAK_DATA_DIR

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # the build is single-process and shares its cores
    options.inter_op_num_threads = 1
    config = PiperConfig.from_dict(json.loads(Path(f"{path}.json").read_text(encoding="utf-8")))
    session = onnxruntime.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])
    return PiperVoice(config=config, session=session, espeak_data_dir=Path(ESPEAK_DATA_DIR),
                      download_dir=Path(tempfile.gettempdir()))


def _piper(voice: Voice, text: str) -> bytes:
    from piper import SynthesisConfig

    model = _piper_voice(str(voice.name))
    # No noise inside the model: the same text and settings always give the same audio.
    config = SynthesisConfig(length_scale=1.0 / voice.speed, noise_scale=0.0, noise_w_scale=0.0)
    chunks = [chunk.audio_int16_array for chunk in model.synthesize(text, syn_config=config)]
    samples = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
    return _wav_bytes(samples, model.config.sample_rate)


def _festival(voice: Voice, texts: list[str]) -> list[bytes]:
    with tempfile.TemporaryDirectory() as folder:
        lines = [f"(voice_{voice.name})", f"(Parameter.set 'Duration_Stretch {1.0 / voice.speed:.3f})"]
        outputs = [Path(folder) / f"{i}.wav" for i in range(len(texts))]
        for text, out in zip(texts, outputs):
            quoted = text.replace("\\", " ").replace('"', " ")
            lines.append(f'(utt.save.wave (utt.synth (Utterance Text "{quoted}")) "{out}" \'riff)')
        script = Path(folder) / "say.scm"
        script.write_text("\n".join(lines) + "\n", encoding="utf-8")
        subprocess.run(["festival", "-b", str(script)], check=True, capture_output=True)
        return [out.read_bytes() for out in outputs]


def _to_16k(wav: bytes, pitch: float) -> np.ndarray:
    effects = ["pitch", f"{pitch * 100:.0f}"] if pitch else []
    done = subprocess.run(["sox", "-t", "wav", "-", "-t", "raw", "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16",
                           "-e", "signed-integer", "-", *effects], input=wav, check=True, capture_output=True)
    return np.frombuffer(done.stdout, np.int16).copy()


def trim(samples: np.ndarray, threshold: float = 0.02, window: int = 80) -> np.ndarray:
    """``samples`` from the first to the last 5 ms window whose peak passes ``threshold`` of full scale."""
    usable = len(samples) - len(samples) % window
    peaks = np.abs(samples[:usable].astype(np.int32)).reshape(-1, window).max(axis=1)
    loud = np.flatnonzero(peaks > threshold * 32768)
    if len(loud) == 0:
        return samples[:0]
    return samples[loud[0] * window:(loud[-1] + 1) * window]


def _wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype(np.int16).tobytes())
    return buffer.getvalue()


def write_wav(path: Path, samples: np.ndarray) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(_wav_bytes(samples, SAMPLE_RATE))
    tmp.replace(path)  # a cache file is whole or absent


def _read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as reader:
        return np.frombuffer(reader.readframes(reader.getnframes()), np.int16).copy()
