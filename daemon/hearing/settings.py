"""The ``[hearing]`` settings: frozen dataclasses built once from the config and passed down."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pushkin.config import build
from pushkin.proto.types import ListenMode


@dataclass(frozen=True)
class MicrophoneSettings:
    """Where the microphone audio comes from."""

    enabled: bool = True  # False (`pushkin serve --no-mic`): no microphone loop; StreamAudio still works
    device: str | int | None = None  # None: the system default input; a name (substring) or an index
    block_ms: int = 30  # PortAudio delivers this much audio per callback
    queue_blocks: int = 200  # bounded hand-off to the event loop (6 s at 30 ms); overflows are counted
    retry_initial_s: float = 1.0  # no device: first retry after this long, doubling up to retry_max_s
    retry_max_s: float = 30.0  # the longest wait between retries


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
    # After this much silence the utterance so far is decoded as if final: when the speaker stays silent
    # that decode is the final one (ready before the hangover ends), and when it is a whole command the
    # utterance closes at once instead of waiting out the hangover. 0: decode only after the hangover.
    early_decode_ms: int = 120
    min_silence_marker_ms: int = 150  # shorter gaps inside an utterance stay part of the speech audio
    max_utterance_s: float = 30.0  # an utterance is cut here even if the speaker goes on
    tail_floor_db: float = 30.0  # inside an utterance, frames this far below its loudest count as silence
    silero: bool = True  # False: webrtcvad alone (cheaper, fooled by steady noise)
    # Silero rests after this much silence (webrtcvad silent, nothing open) and wakes, re-reading the last
    # silero_warmup_ms, at the next frame webrtcvad calls speech: in a quiet room it then costs nearly
    # nothing. 0 keeps it running on every window.
    silero_idle_ms: int = 600
    silero_warmup_ms: int = 300  # audio Silero re-reads when it wakes


@dataclass(frozen=True)
class RecognizerSettings:
    """The faster-whisper recognizer."""

    # A name `pushkin models fetch` puts in the models folder ("base", "tiny.en"; checked by sha256 before it
    # loads), another faster-whisper name ("small", "large-v3": its cache or the hub), or a CTranslate2 folder.
    model: str = "base"
    languages: tuple[str, ...] = ("en", "ru")  # detection picks among these only
    device: str = "auto"  # "auto": CUDA when there is a GPU, else CPU
    compute_type: str = "auto"  # "auto": float16 on CUDA, int8 on CPU
    cpu_threads: int = 0  # 0: CTranslate2 decides
    download_root: str | None = None  # where faster-whisper keeps downloaded models (unset: its cache)
    allow_download: bool = True  # False: use only what is already on disk
    beam_size: int = 1  # 1: greedy decoding (fastest)
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4)  # final transcripts fall back to these on a bad decode
    partial_interval_s: float = 0.6  # re-decode the open utterance this often for interim transcripts
    partials: bool = True  # interim transcripts while an utterance is open
    no_speech_threshold: float | None = 0.6  # faster-whisper's decode thresholds (unset: off)
    log_prob_threshold: float | None = -1.0
    compression_ratio_threshold: float | None = 2.4
    max_new_tokens: int | None = None  # unset: the model's limit
    suppress_timestamps: bool = True  # an utterance is one segment: its times come from the VAD
    initial_prompt: str | None = None  # text given to the decoder as what came before
    suppress_tokens: tuple[int, ...] = (-1,)  # -1: the model's default set
    # The encoder's window is padded to at least this (Whisper's own is 30 s): shorter is faster, but an
    # unpadded short window makes the decoder loop. 10 s reads as well as 30 s at ~1/7 of the cost on a CPU.
    min_window_s: float = 10.0
    language_confidence: float = 0.8  # below this the utterance is also decoded in the other languages
    language_retry_logprob: float = -0.6  # a reading believed less (mean per token) is also tried in the others
    vocabulary: tuple[str, ...] = ()  # your names and terms, given to the decoder as previous text
    command_rescoring: bool = True  # short utterances close to a command are rescored on their audio
    command_margin: float = 3.5  # nats a command may score below the free transcript and still win
    # nats by which a command that only Whisper's command-prompted decode proposed must beat the transcript: 2.0
    # let espeak's "A good night." (heard "Don't hide.") become "Undo that." in some processes (lead 1.8-2.1)
    command_proposal_lead: float = 3.0
    # Text before the cursor (up to this many characters) that the final decode reads as what came before, as
    # Whisper reads its own previous window: names, spelling and sentence starts follow the document. 0: off.
    # On the spoken-session benchmark (base) 300 took exact sessions from 43 to 48 of 66.
    document_context_chars: int = 300
    command_max_words: int = 6  # longer utterances are dictation, never rescored


@dataclass(frozen=True)
class HearingSettings:
    """Everything under `[hearing]`: speech from the microphone (or StreamAudio) to transcripts."""

    microphone: MicrophoneSettings = field(default_factory=MicrophoneSettings)
    vad: VadSettings = field(default_factory=VadSettings)
    recognizer: RecognizerSettings = field(default_factory=RecognizerSettings)
    listen_mode: ListenMode = ListenMode.ALWAYS_ON  # how the microphone opens utterances at start
    debug_recording_dir: str | None = None  # set: each utterance's audio is written there as a WAV
    preload: bool = True  # the daemon loads the recognizer at start (its state shows in `pushkin status`)

    def check(self) -> None:
        """Rules across keys; the daemon's settings loader calls this after loading and after overrides."""
        validate(self)


def hearing_settings_from_mapping(values: Mapping[str, Any] | None) -> HearingSettings:
    """Build the settings from the config's ``[hearing]`` table (nested tables for the parts).

    The one config loader does the work, so the file, ``--set`` and this give the same errors.
    """
    return build(HearingSettings, values, "hearing")


def validate(settings: HearingSettings) -> None:
    """Reject values the front end cannot work with, naming the setting."""
    vad = settings.vad
    if vad.frame_ms not in (10, 20, 30):
        raise ValueError(f"[hearing.vad] frame_ms = {vad.frame_ms}: webrtcvad takes 10, 20 or 30")
    if vad.aggressiveness not in (0, 1, 2, 3):
        raise ValueError(f"[hearing.vad] aggressiveness = {vad.aggressiveness}: expected 0, 1, 2 or 3")
    if not 0.0 < vad.silero_release <= vad.silero_threshold < 1.0:
        raise ValueError("[hearing.vad] expected 0 < silero_release <= silero_threshold < 1")
    if vad.early_decode_ms < 0:
        raise ValueError("[hearing.vad] early_decode_ms must be >= 0 (0 turns the early decode off)")
    if vad.silero_idle_ms < 0 or vad.silero_warmup_ms < 0:
        raise ValueError("[hearing.vad] silero_idle_ms and silero_warmup_ms must be >= 0")
    if vad.hangover_ms < vad.frame_ms or vad.pre_roll_ms < 0 or vad.max_utterance_s <= 1.0:
        raise ValueError("[hearing.vad] hangover_ms must be at least one frame, pre_roll_ms >= 0, max_utterance_s > 1")
    if not 1.0 <= settings.recognizer.min_window_s <= 30.0:
        raise ValueError(f"[hearing.recognizer] min_window_s = {settings.recognizer.min_window_s}: expected 1 to 30 seconds")
    recognizer = settings.recognizer
    if not 0.0 <= recognizer.language_confidence <= 1.0:
        raise ValueError(f"[hearing.recognizer] language_confidence = {recognizer.language_confidence}: expected 0 to 1")
    if recognizer.document_context_chars < 0:
        raise ValueError("[hearing.recognizer] document_context_chars must be >= 0 (0: no document context)")
    if recognizer.command_margin < 0 or recognizer.command_proposal_lead < 0 or recognizer.command_max_words < 1:
        raise ValueError("[hearing.recognizer] command_margin and command_proposal_lead must be >= 0 and "
                         "command_max_words >= 1")
    if not settings.recognizer.languages:
        raise ValueError("[hearing.recognizer] languages must name at least one language, e.g. [\"en\", \"ru\"]")
