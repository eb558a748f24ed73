"""Text → samples: Piper (a neural voice per language) or espeak-ng (a fallback, only when chosen).

An engine is a small callable seam, :class:`SpeechEngine`: ``synthesize(text, language)`` returns
:class:`SpokenAudio`. It runs in the voice's one worker thread, never on the event loop. Piper and
onnxruntime are imported on the first synthesis, so a daemon with the voice off never loads them.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from .settings import VoiceSettings

FETCH_HINT = "pushkin models fetch piper-joe"


class VoiceMissing(RuntimeError):
    """No voice can say this language; the message names the setting to change."""


@dataclass(frozen=True)
class SpokenAudio:
    samples: np.ndarray  # (T,) int16, mono
    sample_rate: int
    language: str
    voice: str  # what spoke: a file name or "espeak-ng:<voice>"

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


class SpeechEngine(Protocol):
    def synthesize(self, text: str, language: str) -> SpokenAudio: ...

    def describe(self) -> str: ...


def piper_voice_path(settings: VoiceSettings, language: str) -> Path:
    """The .onnx voice file for ``language``, checked to exist; VoiceMissing names the setting otherwise."""
    configured = settings.voice_ru if language == "ru" else settings.voice_en
    key = "voice_ru" if language == "ru" else "voice_en"
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise VoiceMissing(f"the voice file {path} ([voice] {key}) does not exist")
        if not Path(f"{path}.json").is_file():
            raise VoiceMissing(f"the voice file {path} ([voice] {key}) has no {path.name}.json beside it")
        return path
    if language == "ru":
        raise VoiceMissing("no Russian voice is installed: set [voice] voice_ru to a Piper .onnx voice "
                           "(e.g. ru_RU-irina-medium.onnx), or [voice] engine = \"espeak-ng\"")
    from pushkin.model import catalog  # the catalog is the one owner of where models live

    try:
        folder = catalog.verified_path("piper-joe")
    except catalog.CatalogError as error:
        raise VoiceMissing(f"the English voice does not check out: {error}") from None
    if folder is None:
        raise VoiceMissing(f"no English voice is installed: run `{FETCH_HINT}`, or set [voice] voice_en "
                           "to a Piper .onnx voice file")
    path = Path(folder)  # the catalog names the entry's main file (the .onnx), or its folder
    return path if path.is_file() else path / "en_US-joe-medium.onnx"


class PiperEngine:
    """Piper voices, one loaded per language on first use (under the worker thread that calls it)."""

    def __init__(self, settings: VoiceSettings) -> None:
        self.settings = settings
        self._voices: dict[str, object] = {}

    def describe(self) -> str:
        return "piper"

    def voice_for(self, language: str):
        if language not in self._voices:
            path = piper_voice_path(self.settings, language)
            try:
                from piper import PiperVoice
            except ImportError as error:
                raise VoiceMissing(f"piper-tts is not installed ({error}); `pip install piper-tts` or set "
                                   "[voice] engine = \"espeak-ng\"") from None
            self._voices[language] = (PiperVoice.load(path), path.name)
        return self._voices[language]

    def synthesize(self, text: str, language: str) -> SpokenAudio:
        voice, name = self.voice_for(language)
        chunks = [chunk.audio_int16_array for chunk in voice.synthesize(text)]
        samples = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
        return SpokenAudio(samples.astype(np.int16, copy=False), voice.config.sample_rate, language, name)


class EspeakEngine:
    """espeak-ng through its command line: robotic, but installed nearly everywhere, Russian included."""

    VOICES = {"en": "en-us", "ru": "ru"}

    def describe(self) -> str:
        return "espeak-ng"

    def synthesize(self, text: str, language: str) -> SpokenAudio:
        program = shutil.which("espeak-ng")
        if program is None:
            raise VoiceMissing("espeak-ng is not installed ([voice] engine = \"espeak-ng\"); install it or use "
                               f"engine = \"piper\" (`{FETCH_HINT}`)")
        voice = self.VOICES.get(language, "en-us")
        # "--" ends the options: a text that begins with "-" is read, not parsed.
        done = subprocess.run([program, "-v", voice, "--stdout", "--", text], capture_output=True, timeout=60)
        if done.returncode != 0:
            raise VoiceMissing(f"espeak-ng failed: {done.stderr.decode(errors='replace').strip()[:200]}")
        with wave.open(io.BytesIO(done.stdout)) as reader:
            rate = reader.getframerate()
            samples = np.frombuffer(reader.readframes(reader.getnframes()), np.int16)
        return SpokenAudio(samples.copy(), rate, language, f"espeak-ng:{voice}")


def build_engine(settings: VoiceSettings) -> SpeechEngine:
    return EspeakEngine() if settings.engine == "espeak-ng" else PiperEngine(settings)
