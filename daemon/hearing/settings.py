"""The ``[hearing]`` settings: frozen dataclasses built once from the config and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Mapping

from pushkin.proto.types import ListenMode


@dataclass(frozen=True)
class MicrophoneSettings:
    """Where the microphone audio comes from."""

    device: str | int | None = None  # None: the system default input; a name (substring) or an index
    block_ms: int = 30  # PortAudio delivers this much audio per callback
    queue_blocks: int = 200  # bounded hand-off to the event loop (6 s at 30 ms); overflows are counted
    retry_initial_s: float = 1.0  # no device: first retry after this long, doubling up to retry_max_s
    retry_max_s: float = 30.0


@dataclass(frozen=True)
class VadSettings:
    """The speech gate: webrtcvad proposes, Silero confirms."""

    frame_ms: int = 30  # webrtcvad accepts 10, 20 or 30 ms frames
    aggressiveness: int = 2  # webrtcvad mode 0 (lenient) .. 3 (strict)
    silero_threshold: float = 0.5  # speech probability that confirms an onset
    silero_release: float = 0.35  # below this (and webrtcvad silent) a frame counts as silence
    min_speech_ms: int = 90  # confirmed speech needed to open an utterance
    pre_roll_ms: int = 300  # audio kept from before the detected onset, so first words are not clipped
    hangover_ms: int = 400  # silence that closes an utterance
    min_silence_marker_ms: int = 150  # shorter gaps inside an utterance stay part of the speech audio
    max_utterance_s: float = 30.0  # an utterance is cut here even if the speaker goes on
    tail_floor_db: float = 30.0  # inside an utterance, frames this far below its loudest count as silence
    silero: bool = True  # False: webrtcvad alone (cheaper, fooled by steady noise)


@dataclass(frozen=True)
class RecognizerSettings:
    """The faster-whisper recognizer."""

    model: str = "small"  # a faster-whisper model name ("small", "base", "large-v3") or a CTranslate2 folder
    languages: tuple[str, ...] = ("en", "ru")  # detection picks among these only
    device: str = "auto"  # "auto": CUDA when there is a GPU, else CPU
    compute_type: str = "auto"  # "auto": float16 on CUDA, int8 on CPU
    cpu_threads: int = 0  # 0: CTranslate2 decides
    download_root: str | None = None
    allow_download: bool = True  # False: use only what is already on disk
    beam_size: int = 1
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4)  # final transcripts fall back to these on a bad decode
    partial_interval_s: float = 0.6  # re-decode the open utterance this often for interim transcripts
    partials: bool = True
    no_speech_threshold: float | None = 0.6
    log_prob_threshold: float | None = -1.0
    compression_ratio_threshold: float | None = 2.4
    max_new_tokens: int | None = None
    suppress_timestamps: bool = True  # an utterance is one segment: its times come from the VAD
    initial_prompt: str | None = None
    suppress_tokens: tuple[int, ...] = (-1,)  # -1: the model's default set


@dataclass(frozen=True)
class HearingSettings:
    """Everything under ``[hearing]``."""

    microphone: MicrophoneSettings = field(default_factory=MicrophoneSettings)
    vad: VadSettings = field(default_factory=VadSettings)
    recognizer: RecognizerSettings = field(default_factory=RecognizerSettings)
    listen_mode: ListenMode = ListenMode.ALWAYS_ON
    enabled: bool = True  # False: no microphone service (typed utterances and StreamAudio still work)
    debug_recording_dir: str | None = None  # set: each utterance's audio is written there as a WAV


def _build(cls: type, values: Mapping[str, Any], where: str):
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"unknown setting(s) in [{where}]: {', '.join(unknown)}")
    kwargs: dict[str, Any] = {}
    for name, value in values.items():
        default = getattr(cls(), name)
        if is_dataclass(default):
            if not isinstance(value, Mapping):
                raise ValueError(f"[{where}.{name}] must be a table")
            kwargs[name] = _build(type(default), value, f"{where}.{name}")
        elif isinstance(default, ListenMode):
            try:
                kwargs[name] = ListenMode(value)
            except ValueError:
                choices = ", ".join(m.value for m in ListenMode)
                raise ValueError(f"[{where}] {name} = {value!r}: expected one of {choices}") from None
        elif isinstance(default, tuple):
            if isinstance(value, str) or not isinstance(value, (list, tuple)):
                raise ValueError(f"[{where}] {name} must be a list")
            kwargs[name] = tuple(value)
        else:
            kwargs[name] = value
    return cls(**kwargs)


def hearing_settings_from_mapping(values: Mapping[str, Any] | None) -> HearingSettings:
    """Build the settings from the config's ``[hearing]`` table (nested tables for the parts)."""
    settings = _build(HearingSettings, values or {}, "hearing")
    validate(settings)
    return settings


def validate(settings: HearingSettings) -> None:
    """Reject values the front end cannot work with, naming the setting."""
    vad = settings.vad
    if vad.frame_ms not in (10, 20, 30):
        raise ValueError(f"[hearing.vad] frame_ms = {vad.frame_ms}: webrtcvad takes 10, 20 or 30")
    if vad.aggressiveness not in (0, 1, 2, 3):
        raise ValueError(f"[hearing.vad] aggressiveness = {vad.aggressiveness}: expected 0, 1, 2 or 3")
    if not 0.0 < vad.silero_release <= vad.silero_threshold < 1.0:
        raise ValueError("[hearing.vad] expected 0 < silero_release <= silero_threshold < 1")
    if vad.hangover_ms < vad.frame_ms or vad.pre_roll_ms < 0 or vad.max_utterance_s <= 1.0:
        raise ValueError("[hearing.vad] hangover_ms must be at least one frame, pre_roll_ms >= 0, max_utterance_s > 1")
    if not settings.recognizer.languages:
        raise ValueError("[hearing.recognizer] languages must name at least one language, e.g. [\"en\", \"ru\"]")
