"""Audio sources: the microphone, audio files, raw PCM chunks and stdin, behind one Protocol.

Every source yields little-endian signed 16-bit mono PCM at 16 kHz as ``bytes`` (whole samples). Sources
that fail say why in an :class:`AudioSourceError` whose message is meant for people.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

import numpy as np

from ..hearing_api import CHANNELS, SAMPLE_RATE, SAMPLE_WIDTH
from .settings import MicrophoneSettings

log = logging.getLogger(__name__)

MAX_PCM_CHUNK_BYTES = 64 * 1024  # the contract's limit for one StreamAudio chunk


class AudioSourceError(Exception):
    """An audio source cannot deliver audio; the message says why and what to do."""


class NoAudioDevice(AudioSourceError):
    """There is no usable input device (no sound card, the named device is absent, or it went away)."""


class AudioFileError(AudioSourceError):
    """An audio file is missing or cannot be decoded."""


class BadAudioFormat(AudioSourceError):
    """Raw PCM that does not follow the contract (rate, channels, width, chunk size)."""


class AudioSource(Protocol):
    # Read-only: a source may name itself by a property (files, the microphone) or a plain field.
    @property
    def name(self) -> str: ...

    def chunks(self) -> AsyncIterator[bytes]:
        """16 kHz mono s16le PCM until the source ends; raises AudioSourceError when it cannot deliver."""


# ---------------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------------


def to_mono_16k(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Downmix and resample to 16 kHz.

    samples: float (T,) or (T, C) in [-1, 1] -> int16 (T * 16000 / sample_rate,)
    """
    audio = np.asarray(samples, dtype=np.float32)
    if audio.ndim == 2:
        audio = audio.mean(axis=1)
    if sample_rate != SAMPLE_RATE:
        from math import gcd

        from scipy.signal import resample_poly

        divisor = gcd(int(sample_rate), SAMPLE_RATE)
        audio = resample_poly(audio, SAMPLE_RATE // divisor, int(sample_rate) // divisor).astype(np.float32)
    return np.clip(np.round(audio * 32768.0), -32768, 32767).astype(np.int16)


def read_audio_file(path: str | Path) -> np.ndarray:
    """Decode an audio file (WAV, FLAC, OGG/Vorbis, MP3, AIFF, ... as libsndfile supports) to 16 kHz mono int16.

    Returns int16 (T,). Raises AudioFileError for a missing, empty or undecodable file.
    """
    import soundfile

    path = Path(path)
    if not path.exists():
        raise AudioFileError(f"Audio file not found: {path}")
    if path.is_dir():
        raise AudioFileError(f"{path} is a folder, not an audio file")
    try:
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as error:
        formats = ", ".join(sorted(soundfile.available_formats()))
        raise AudioFileError(f"Cannot decode {path}: {error}. Readable formats: {formats}.") from error
    if data.shape[0] == 0:
        raise AudioFileError(f"{path} holds no audio")
    return to_mono_16k(data, rate)


@dataclass
class FileSource:
    """An audio file as a source; ``realtime`` paces it like a microphone (for demos and the daemon)."""

    path: Path
    chunk_ms: int = 100
    realtime: bool = False

    @property
    def name(self) -> str:
        return f"file:{self.path}"

    async def chunks(self) -> AsyncIterator[bytes]:
        samples = await asyncio.to_thread(read_audio_file, self.path)
        step = SAMPLE_RATE * self.chunk_ms // 1000
        for start in range(0, len(samples), step):
            yield samples[start : start + step].tobytes()
            if self.realtime:
                await asyncio.sleep(self.chunk_ms / 1000)


# ---------------------------------------------------------------------------------------------------
# Raw PCM (StreamAudio) and stdin
# ---------------------------------------------------------------------------------------------------


def check_audio_start(sample_rate: int, channels: int, sample_width: int) -> None:
    """Raise BadAudioFormat unless the stream is 16 kHz mono 16-bit, the only format the front end takes."""
    problems = []
    if sample_rate != SAMPLE_RATE:
        problems.append(f"sample_rate {sample_rate} (must be {SAMPLE_RATE}; resample before sending)")
    if channels != CHANNELS:
        problems.append(f"channels {channels} (must be {CHANNELS})")
    if sample_width != SAMPLE_WIDTH:
        problems.append(f"sample_width {sample_width} (must be {SAMPLE_WIDTH} bytes)")
    if problems:
        raise BadAudioFormat("Unsupported audio format: " + ", ".join(problems) + "; send 16 kHz mono signed 16-bit PCM.")


def check_pcm_chunk(chunk: bytes, max_bytes: int = MAX_PCM_CHUNK_BYTES) -> None:
    """Raise BadAudioFormat for a chunk that is not whole 16-bit samples or is above the size limit."""
    if len(chunk) % SAMPLE_WIDTH:
        raise BadAudioFormat(f"PCM chunk of {len(chunk)} bytes is not a whole number of 16-bit samples")
    if len(chunk) > max_bytes:
        raise BadAudioFormat(f"PCM chunk of {len(chunk)} bytes is above the limit of {max_bytes} bytes "
                             f"({max_bytes // 1024} KiB); send smaller chunks")


@dataclass
class PcmChunkSource:
    """Raw PCM chunks from elsewhere (a StreamAudio call), checked one by one as they are pulled.

    Pulling lazily is the back-pressure: the sender's next chunk is read only when the front end has
    taken the previous one, so nothing piles up here.
    """

    upstream: AsyncIterator[bytes]
    name: str = "stream"
    max_chunk_bytes: int = MAX_PCM_CHUNK_BYTES

    async def chunks(self) -> AsyncIterator[bytes]:
        async for chunk in self.upstream:
            check_pcm_chunk(chunk, self.max_chunk_bytes)
            if chunk:
                yield chunk


@dataclass
class StdinSource:
    """Raw s16le 16 kHz mono PCM from a byte stream (stdin by default), read off the event loop."""

    stream: BinaryIO | None = None
    chunk_bytes: int = 3200  # 100 ms
    name: str = "stdin"

    async def chunks(self) -> AsyncIterator[bytes]:
        stream = self.stream or sys.stdin.buffer
        carry = b""
        while True:
            data = await asyncio.to_thread(stream.read, self.chunk_bytes)
            if not data:
                break
            data = carry + data
            whole = len(data) - len(data) % SAMPLE_WIDTH
            carry = data[whole:]
            if whole:
                yield data[:whole]


# ---------------------------------------------------------------------------------------------------
# The microphone
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    channels: int
    default_sample_rate: float
    is_default: bool


def _sounddevice():
    try:
        import sounddevice
    except OSError as error:  # libportaudio2 missing
        raise NoAudioDevice(f"PortAudio is not installed ({error}); install libportaudio2 to use a microphone.") from error
    return sounddevice


def list_input_devices() -> list[InputDevice]:
    """The input devices PortAudio sees (empty without a sound card)."""
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
        default_input = sd.default.device[0]
    except sd.PortAudioError as error:
        raise NoAudioDevice(f"Cannot list audio devices: {error}") from error
    return [
        InputDevice(index, info["name"], info["max_input_channels"], info["default_samplerate"], index == default_input)
        for index, info in enumerate(devices)
        if info["max_input_channels"] > 0
    ]


def resolve_input_device(device: str | int | None) -> int | None:
    """The PortAudio index for a configured device (None: the default input); NoAudioDevice if absent."""
    inputs = list_input_devices()
    if not inputs:
        raise NoAudioDevice("No audio input device found (no sound card, or the microphone is unplugged).")
    if device is None or device == "":
        return None
    if isinstance(device, int) or str(device).isdigit():
        index = int(device)
        if any(d.index == index for d in inputs):
            return index
        raise NoAudioDevice(f"Input device #{index} is not present; available: " + ", ".join(f"#{d.index} {d.name}" for d in inputs))
    matches = [d for d in inputs if str(device).lower() in d.name.lower()]
    if not matches:
        raise NoAudioDevice(f"No input device named {device!r}; available: " + ", ".join(f"#{d.index} {d.name}" for d in inputs))
    return matches[0].index


class MicrophoneSource:
    """The microphone through PortAudio, 16 kHz mono int16.

    PortAudio calls back on its own thread; the callback only copies the block and schedules it onto the
    event loop (``call_soon_threadsafe``), where it goes into a bounded queue. When the consumer falls
    behind, the oldest audio is kept and new blocks are dropped and counted (``dropped_blocks``), as are
    PortAudio's own input overflows (``overflows``).
    """

    def __init__(self, settings: MicrophoneSettings = MicrophoneSettings()) -> None:
        self.settings = settings
        self.overflows = 0
        self.dropped_blocks = 0
        self.device_name = ""

    @property
    def name(self) -> str:
        return f"microphone:{self.device_name or self.settings.device or 'default'}"

    def _open(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue, finished: asyncio.Event):
        sd = _sounddevice()
        index = resolve_input_device(self.settings.device)

        def deliver(block: bytes, overflowed: bool) -> None:
            if overflowed:
                self.overflows += 1
            try:
                queue.put_nowait(block)
            except asyncio.QueueFull:
                self.dropped_blocks += 1

        def callback(indata, frames, time_info, status) -> None:  # PortAudio's thread: never block here
            loop.call_soon_threadsafe(deliver, bytes(indata), bool(status.input_overflow))

        try:
            stream = sd.RawInputStream(
                samplerate=SAMPLE_RATE,
                channels=CHANNELS,
                dtype="int16",
                blocksize=SAMPLE_RATE * self.settings.block_ms // 1000,
                device=index,
                callback=callback,
                finished_callback=lambda: loop.call_soon_threadsafe(finished.set),
            )
            stream.start()
        except sd.PortAudioError as error:
            raise NoAudioDevice(f"Cannot open the microphone ({self.settings.device or 'default input'}): {error}") from error
        info = sd.query_devices(stream.device)
        self.device_name = info["name"] if isinstance(info, dict) else str(stream.device)
        return stream

    async def chunks(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=self.settings.queue_blocks)
        finished = asyncio.Event()
        stream = self._open(loop, queue, finished)
        try:
            while True:
                if finished.is_set() and queue.empty():
                    raise NoAudioDevice(f"The microphone {self.device_name!r} stopped delivering audio (unplugged?).")
                getter = asyncio.ensure_future(queue.get())
                waiter = asyncio.ensure_future(finished.wait())
                done, _ = await asyncio.wait({getter, waiter}, timeout=2.0, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                if getter in done:
                    yield getter.result()
                    continue
                getter.cancel()
                if not done and not stream.active:
                    raise NoAudioDevice(f"The microphone {self.device_name!r} stopped delivering audio (unplugged?).")
        finally:
            try:
                stream.abort()
                stream.close()
            except Exception:  # the device may already be gone; closing is best effort
                log.debug("closing the input stream failed", exc_info=True)
