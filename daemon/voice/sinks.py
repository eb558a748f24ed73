"""Where spoken audio goes: the default output device, or WAV files in a folder (tests, headless use).

A sink's ``play`` blocks (in the voice's worker thread) for as long as the audio sounds, so the voice
knows when the room is quiet again. The file sink waits the audio's duration too: its WAV stands for a
loudspeaker, and the microphone must stay deaf exactly as long as it would with one.
"""

from __future__ import annotations

import itertools
import time
import wave
from pathlib import Path
from typing import Protocol

from .engines import SpokenAudio


class NoOutputDevice(RuntimeError):
    """No sound card to speak through; the message says what to install or set."""


class AudioSink(Protocol):
    def play(self, audio: SpokenAudio) -> str:
        """Sound ``audio`` and return once it has finished; returns where it went (a device or file name)."""

    def describe(self) -> str: ...


class FileSink:
    """Each reply as ``NNNN-<language>.wav`` in ``folder`` (mono int16 at the voice's rate)."""

    def __init__(self, folder: Path, *, real_time: bool = True) -> None:
        self.folder = folder
        self.real_time = real_time
        self._numbers = itertools.count(1)

    def describe(self) -> str:
        return f"file:{self.folder}"

    def play(self, audio: SpokenAudio) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{next(self._numbers):04d}-{audio.language or 'xx'}.wav"
        partial = path.with_suffix(".wav.partial")
        with wave.open(str(partial), "wb") as writer:
            writer.setnchannels(1)
            writer.setsampwidth(2)
            writer.setframerate(audio.sample_rate)
            writer.writeframes(audio.samples.tobytes())
        partial.replace(path)  # a reader never sees half a file
        if self.real_time:
            time.sleep(audio.duration_s)
        return str(path)


class DeviceSink:
    """The default output device through sounddevice (PortAudio)."""

    def describe(self) -> str:
        return "the default output device"

    def check(self) -> str:
        """The output device's name; NoOutputDevice when there is none."""
        sd = self._sounddevice()
        try:
            index = sd.default.device[1]
            info = sd.query_devices(index if index is not None and index >= 0 else None, "output")
        except (sd.PortAudioError, ValueError) as error:
            raise NoOutputDevice(f"no audio output device ({error}); the voice stays silent. Set "
                                 "[voice] sink = \"file:/a/folder\" to keep its replies as WAV files") from None
        return str(info["name"])

    def play(self, audio: SpokenAudio) -> str:
        sd = self._sounddevice()
        name = self.check()
        try:
            sd.play(audio.samples, audio.sample_rate, blocking=True)
        except sd.PortAudioError as error:
            raise NoOutputDevice(f"the output device {name!r} failed: {error}") from None
        return name

    @staticmethod
    def _sounddevice():
        try:
            import sounddevice
        except OSError as error:  # libportaudio2 missing
            raise NoOutputDevice(f"PortAudio is not installed ({error}); install libportaudio2, or set "
                                 "[voice] sink = \"file:/a/folder\"") from None
        return sounddevice


def build_sink(sink: str) -> AudioSink:
    if sink.startswith("file:"):
        return FileSink(Path(sink[len("file:"):]).expanduser())
    return DeviceSink()
