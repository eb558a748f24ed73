"""The speech gate: webrtcvad frames confirmed by a streamed Silero, cut into utterances.

:class:`VadSegmenter` is plain synchronous code: feed it PCM, get back events. It opens an utterance when
webrtcvad has heard ``min_speech_ms`` of speech that Silero confirms, dating the onset back to the start
of that webrtcvad run and keeping ``pre_roll_ms`` before it; it closes the utterance after ``hangover_ms``
of silence (or at ``max_utterance_s``). Silence runs inside an utterance become :class:`Silence` markers
with their durations, so an utterance is a model-agnostic sequence of parts
(``SpeechAudio | Silence``): the speech-LLM path turns the markers into silence tokens, and the intent
engine reads the pauses before and after the utterance.

Push-to-talk and toggle modes replace the VAD's boundaries with key presses; the VAD still marks the
silences and decides whether anything was said at all.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from pushkin.proto.types import ListenMode

from ..hearing_api import SAMPLE_RATE
from .settings import VadSettings

SILERO_WINDOW = 512  # samples per Silero call at 16 kHz
SILERO_CONTEXT = 64  # samples of the previous window the model sees again


# ---------------------------------------------------------------------------------------------------
# Utterances as parts
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpeechAudio:
    """A stretch of speech audio: int16 (T,) at 16 kHz, starting ``start_s`` into the stream."""

    samples: np.ndarray
    start_s: float

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE


@dataclass(frozen=True)
class Silence:
    """A silence run inside an utterance, kept as a marker with its length (its audio is not carried)."""

    duration_s: float
    start_s: float = 0.0


UtterancePart = SpeechAudio | Silence


@dataclass(frozen=True)
class SegmentedUtterance:
    """One utterance as the VAD cut it.

    ``audio`` is the whole stretch the recognizer hears (pre-roll, inner silences and a short tail
    included), starting at ``audio_start_s``; ``parts`` is the same utterance with inner silences as
    markers. ``pause_after_s`` is the silence seen when the utterance closed (the hangover, or up to the
    end of the stream): a lower bound, since the speaker may stay silent longer.
    """

    index: int
    audio: np.ndarray
    audio_start_s: float
    speech_start_s: float
    speech_end_s: float
    parts: tuple[UtterancePart, ...]
    pause_before_s: float
    pause_after_s: float
    voiced_s: float  # speech both detectors agreed on
    cut_at_max_length: bool = False

    @property
    def silences(self) -> tuple[Silence, ...]:
        return tuple(part for part in self.parts if isinstance(part, Silence))


@dataclass(frozen=True)
class UtteranceOpened:
    index: int
    speech_start_s: float


@dataclass(frozen=True)
class UtteranceClosed:
    utterance: SegmentedUtterance


@dataclass(frozen=True)
class UtteranceDiscarded:
    """A push-to-talk or toggle window in which nothing was said."""

    index: int
    time_s: float


SegmenterEvent = UtteranceOpened | UtteranceClosed | UtteranceDiscarded


# ---------------------------------------------------------------------------------------------------
# The two detectors
# ---------------------------------------------------------------------------------------------------


class FrameVad(Protocol):
    def is_speech(self, frame: bytes) -> bool:
        """Whether one 10/20/30 ms frame of 16 kHz s16le audio holds speech."""


class WebrtcFrameVad:
    """webrtcvad: 2.6 µs a frame, quick to say yes (steady noise fools it at low modes)."""

    def __init__(self, aggressiveness: int = 2) -> None:
        import webrtcvad

        self._vad = webrtcvad.Vad(aggressiveness)

    def is_speech(self, frame: bytes) -> bool:
        return self._vad.is_speech(frame, SAMPLE_RATE)


def silero_model_path() -> str:
    """The Silero VAD ONNX model that faster-whisper ships."""
    from faster_whisper.vad import get_assets_path

    for name in ("silero_vad_v6.onnx", "silero_vad.onnx"):
        path = os.path.join(get_assets_path(), name)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"faster-whisper's Silero VAD model is missing from {get_assets_path()}; reinstall faster-whisper")


class SileroStream:
    """Silero VAD run window by window with its recurrent state, so it streams.

    ``push(samples)`` takes int16 (T,) and returns the speech probability of every 512-sample window
    completed by it (each window also sees the 64 samples before it, as in the batch implementation).
    """

    def __init__(self, session=None) -> None:
        if session is None:
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.inter_op_num_threads = 1
            options.intra_op_num_threads = 1
            options.enable_cpu_mem_arena = False
            options.log_severity_level = 4
            session = onnxruntime.InferenceSession(silero_model_path(), providers=["CPUExecutionProvider"], sess_options=options)
        self._session = session
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(SILERO_CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)

    def push(self, samples: np.ndarray) -> list[float]:
        audio = np.concatenate([self._pending, samples.astype(np.float32) / 32768.0])
        probabilities = []
        start = 0
        while len(audio) - start >= SILERO_WINDOW:
            window = audio[start : start + SILERO_WINDOW]
            batch = np.concatenate([self._context, window])[None, :]
            out, self._h, self._c = self._session.run(None, {"input": batch, "h": self._h, "c": self._c})
            probabilities.append(float(np.asarray(out).reshape(-1)[0]))
            self._context = window[-SILERO_CONTEXT:]
            start += SILERO_WINDOW
        self._pending = audio[start:]
        return probabilities


# ---------------------------------------------------------------------------------------------------
# The segmenter
# ---------------------------------------------------------------------------------------------------


class VadSegmenter:
    """Cuts a PCM stream into utterances; ``feed`` and ``finish`` return what happened, in order."""

    def __init__(
        self,
        settings: VadSettings = VadSettings(),
        mode: ListenMode = ListenMode.ALWAYS_ON,
        *,
        frame_vad: FrameVad | None = None,
        silero: SileroStream | None = None,
    ) -> None:
        self.settings = settings
        self.mode = mode
        self._frame_vad = frame_vad or WebrtcFrameVad(settings.aggressiveness)
        self._silero = silero if silero is not None else (SileroStream() if settings.silero else None)
        self._frame_samples = SAMPLE_RATE * settings.frame_ms // 1000
        self._frame_s = settings.frame_ms / 1000
        self._pre_roll_frames = settings.pre_roll_ms // settings.frame_ms
        self._min_speech_frames = max(1, -(-settings.min_speech_ms // settings.frame_ms))
        self._hangover_frames = max(1, -(-settings.hangover_ms // settings.frame_ms))
        self._hangover_s = settings.hangover_ms / 1000
        self._speech_end_s = 0.0
        self._marker_frames = max(1, -(-settings.min_silence_marker_ms // settings.frame_ms))
        self._max_frames = int(settings.max_utterance_s / self._frame_s)
        self._tail_frames = min(self._hangover_frames, max(1, 200 // settings.frame_ms))
        self._carry = b""
        self._frame_index = 0  # frames seen so far
        self._silero_prob = 0.0
        self._silero_idle_frames = -(-settings.silero_idle_ms // settings.frame_ms) if settings.silero_idle_ms else 0
        self._silero_warmup_frames = settings.silero_warmup_ms // settings.frame_ms
        self._quiet_frames = 0  # webrtcvad-silent frames in a row while nothing is open
        self._silero_resting = False
        # Idle: recent frames for the pre-roll and the current webrtcvad run.
        self._recent: collections.deque[np.ndarray] = collections.deque(maxlen=self._pre_roll_frames + self._max_frames)
        self._run_start: int | None = None
        self._run_confirmed = 0
        # Open utterance.
        self._open = False
        self._frames: list[np.ndarray] = []  # from _audio_start_frame on
        self._audio_start_frame = 0
        self._speech_start_frame = 0
        self._last_speech_frame = 0
        self._silence_run = 0
        self._voiced_frames = 0
        self._gaps: list[tuple[int, int]] = []  # (first silent frame, frame count) of inner silences
        self._previous_end_frame: float = 0  # where the last utterance's speech ended (its audio may run on)
        self._previous_audio_end_frame = 0
        self._utterances = 0
        self._key_open_requested = False
        self._key_close_requested = False
        self._peak_rms = 0.0
        self._resume_start: int | None = None
        self._tail_ratio = 10 ** (-settings.tail_floor_db / 20)

    # --- controls ----------------------------------------------------------------------------------

    @property
    def time_s(self) -> float:
        return self._frame_index * self._frame_s

    @property
    def is_open(self) -> bool:
        return self._open

    @property
    def speech_end_s(self) -> float:
        """Where the open utterance's speech last ended (it moves on when the speaker goes on)."""
        return self._speech_end_s

    @property
    def trailing_silence_s(self) -> float:
        """How long the open utterance has been silent; 0 while the speaker talks or nothing is open."""
        if not self._open or not self._silence_run:
            return 0.0
        return max(0.0, self.time_s - self._speech_end_s)

    def close_now(self) -> list[SegmenterEvent]:
        """Close the open utterance before its hangover (its words already make a whole command)."""
        events: list[SegmenterEvent] = []
        if self._open and self.mode == ListenMode.ALWAYS_ON and self._silence_run:
            self._close(events, cut=False)
        return events

    def set_mode(self, mode: ListenMode) -> None:
        self.mode = mode

    def key_down(self) -> None:
        """Push-to-talk pressed, or toggle pressed (opens when closed, closes when open)."""
        if self.mode == ListenMode.TOGGLE and (self._open or self._key_open_requested):
            self._key_open_requested = False
            self._key_close_requested = True
        elif self.mode in (ListenMode.PUSH_TO_TALK, ListenMode.TOGGLE):
            self._key_open_requested = True
            self._key_close_requested = False

    def key_up(self) -> None:
        """Push-to-talk released (toggle ignores releases)."""
        if self.mode == ListenMode.PUSH_TO_TALK:
            self._key_close_requested = True

    def current_audio(self) -> np.ndarray:
        """The open utterance's audio so far: int16 (T,); empty when none is open."""
        if not self._open or not self._frames:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(self._frames)

    # --- streaming ---------------------------------------------------------------------------------

    def feed(self, pcm: bytes) -> list[SegmenterEvent]:
        data = self._carry + pcm
        frame_bytes = self._frame_samples * 2
        whole = len(data) - len(data) % frame_bytes
        self._carry = data[whole:]
        events: list[SegmenterEvent] = []
        for offset in range(0, whole, frame_bytes):
            self._step(data[offset : offset + frame_bytes], events)
        return events

    def finish(self) -> list[SegmenterEvent]:
        """The stream ended: close what is open (its pause after is what silence the stream still had)."""
        events: list[SegmenterEvent] = []
        if self._carry:
            padded = self._carry + b"\x00" * (self._frame_samples * 2 - len(self._carry))
            self._carry = b""
            self._step(padded, events)
        if self._open:
            self._close(events, cut=False)
        return events

    def _step(self, frame_bytes: bytes, events: list[SegmenterEvent]) -> None:
        frame = np.frombuffer(frame_bytes, dtype=np.int16)
        index = self._frame_index
        self._frame_index += 1
        webrtc = self._frame_vad.is_speech(frame_bytes)
        if self._silero is not None:
            self._pace_silero(self._silero, frame, webrtc)
            confirmed = webrtc and self._silero_prob >= self.settings.silero_threshold
            kept = webrtc and self._silero_prob >= self.settings.silero_release
        else:
            confirmed = kept = webrtc

        if self._open:
            self._frames.append(frame)
            # Both detectors keep calling a fading tail speech for a few frames; a frame far below the
            # utterance's loudest counts as silence, so the end (and the hangover) starts where the voice stops.
            level = _rms(frame)
            self._peak_rms = max(self._peak_rms, level) if kept else self._peak_rms
            kept = kept and level >= self._peak_rms * self._tail_ratio
            if not webrtc:
                self._resume_start = None
            elif self._resume_start is None:
                self._resume_start = index
            self._step_open(index, kept, confirmed, events)
            return
        self._recent.append(frame)
        if self._key_open_requested:
            self._key_open_requested = False
            self._open_at(index, index, events)
            self._step_open(index, kept, confirmed, events)
            return
        if self.mode != ListenMode.ALWAYS_ON:
            return
        if webrtc:
            if self._run_start is None:
                self._run_start = index
                self._run_confirmed = 0
            self._run_confirmed += int(confirmed)
            if self._run_confirmed >= self._min_speech_frames:
                self._open_at(self._run_start, index, events)
                # The frames since the run started were speech: count them as such.
                self._voiced_frames = self._run_confirmed
                self._last_speech_frame = index
        else:
            self._run_start = None
            self._run_confirmed = 0

    def _pace_silero(self, silero: SileroStream, frame: np.ndarray, webrtc: bool) -> None:
        """Run Silero on this frame, unless it rests through a silence (see VadSettings.silero_idle_ms)."""
        quiet = not webrtc and not self._open and not self._key_open_requested
        self._quiet_frames = self._quiet_frames + 1 if quiet else 0
        if self._silero_resting:
            if quiet:
                return
            # Wake with the frames just before this one, so the recurrent state has context again.
            self._silero_resting = False
            silero.reset()
            if self._silero_warmup_frames:
                warmup = list(self._recent)[-self._silero_warmup_frames:]
                if warmup:
                    silero.push(np.concatenate(warmup))
        probabilities = silero.push(frame)
        if probabilities:
            self._silero_prob = max(probabilities)
        if self._silero_idle_frames and self._quiet_frames >= self._silero_idle_frames:
            self._silero_resting = True
            self._silero_prob = 0.0

    def _open_at(self, speech_start: int, now: int, events: list[SegmenterEvent]) -> None:
        floor = max(self._previous_audio_end_frame, now - len(self._recent) + 1)
        audio_start = max(speech_start - self._pre_roll_frames, floor)
        keep = now - audio_start + 1
        self._frames = list(self._recent)[-keep:] if keep > 0 else []
        self._peak_rms = max((_rms(f) for f in self._frames[speech_start - audio_start :]), default=0.0)
        self._recent.clear()
        self._open = True
        self._audio_start_frame = audio_start
        self._speech_start_frame = speech_start
        self._last_speech_frame = speech_start
        self._speech_end_s = (now + 1) * self._frame_s
        self._silence_run = 0
        self._voiced_frames = 0
        self._gaps = []
        self._run_start = None
        self._run_confirmed = 0
        self._utterances += 1
        events.append(UtteranceOpened(self._utterances, speech_start * self._frame_s))

    def _step_open(self, index: int, kept: bool, confirmed: bool, events: list[SegmenterEvent]) -> None:
        keyed = self.mode != ListenMode.ALWAYS_ON
        if kept:
            # Silero confirms a resumption a frame or two late; the gap ends where webrtcvad heard it.
            gap_start = index - self._silence_run
            resumed = max(gap_start, min(index, self._resume_start if self._resume_start is not None else index))
            if resumed - gap_start >= self._marker_frames:
                self._gaps.append((gap_start, resumed - gap_start))
            self._silence_run = 0
            self._last_speech_frame = index
            self._voiced_frames += int(confirmed)
            self._speech_end_s = self._refine_end(self._frames[-1], index)
        else:
            self._silence_run += 1
        if self._key_close_requested:
            self._key_close_requested = False
            self._close(events, cut=False)
        elif not keyed and self._silence_run and (index + 1) * self._frame_s - self._speech_end_s >= self._hangover_s - 1e-9:
            self._close(events, cut=False)
        elif index + 1 - self._audio_start_frame >= self._max_frames:
            self._close(events, cut=True)

    def _close(self, events: list[SegmenterEvent], *, cut: bool) -> None:
        fs = self._frame_s
        now = self._frame_index  # frames seen
        self._open = False
        frames, self._frames = self._frames, []
        if cut:
            speech_end = now
        elif self.mode == ListenMode.ALWAYS_ON or self._voiced_frames:
            speech_end = self._last_speech_frame + 1
        else:
            speech_end = now
        end_s = speech_end * fs
        if not cut and self._last_speech_frame >= self._audio_start_frame:
            end_s = self._refine_end(frames[self._last_speech_frame - self._audio_start_frame], self._last_speech_frame)
        if self.mode != ListenMode.ALWAYS_ON and self._voiced_frames < self._min_speech_frames:
            self._previous_audio_end_frame = now
            events.append(UtteranceDiscarded(self._utterances, now * fs))
            return
        audio_end = min(now, speech_end + (0 if cut else self._tail_frames))
        used = frames[: audio_end - self._audio_start_frame]
        audio = np.concatenate(used) if used else np.zeros(0, dtype=np.int16)
        parts = self._parts(audio, speech_end, end_s)
        pause_before = (self._speech_start_frame - self._previous_end_frame) * fs
        utterance = SegmentedUtterance(
            index=self._utterances,
            audio=audio,
            audio_start_s=self._audio_start_frame * fs,
            speech_start_s=self._speech_start_frame * fs,
            speech_end_s=end_s,
            parts=parts,
            pause_before_s=max(pause_before, 0.0),
            pause_after_s=now * fs - end_s,
            voiced_s=self._voiced_frames * fs,
            cut_at_max_length=cut,
        )
        self._previous_end_frame = end_s / fs
        self._previous_audio_end_frame = audio_end
        # Frames after the audio's end stay available as the next utterance's pre-roll.
        self._recent.clear()
        self._recent.extend(frames[audio_end - self._audio_start_frame :])
        events.append(UtteranceClosed(utterance))

    def _refine_end(self, frame: np.ndarray, index: int) -> float:
        """The end of the last 5 ms inside the last speech frame that is loud enough to be voice."""
        window = SAMPLE_RATE // 200
        floor = self._peak_rms * self._tail_ratio
        end = len(frame)
        while end > window and _rms(frame[end - window : end]) < floor:
            end -= window
        return (index * self._frame_samples + end) / SAMPLE_RATE

    def _parts(self, audio: np.ndarray, speech_end: int, end_s: float) -> tuple[UtterancePart, ...]:
        fs, n = self._frame_s, self._frame_samples
        parts: list[UtterancePart] = []
        cursor = self._audio_start_frame
        for gap_start, gap_frames in self._gaps:
            if gap_start + gap_frames > speech_end:
                break
            speech = audio[(cursor - self._audio_start_frame) * n : (gap_start - self._audio_start_frame) * n]
            if len(speech):
                parts.append(SpeechAudio(speech, cursor * fs))
            parts.append(Silence(gap_frames * fs, gap_start * fs))
            cursor = gap_start + gap_frames
        end_sample = int(round(end_s * SAMPLE_RATE)) - self._audio_start_frame * n
        rest = audio[(cursor - self._audio_start_frame) * n : end_sample]
        if len(rest):
            parts.append(SpeechAudio(rest, cursor * fs))
        return tuple(parts)


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0


def utterance_parts_text(parts: Sequence[UtterancePart]) -> str:
    """A readable outline of the parts, e.g. ``speech 1.20s | silence 0.40s | speech 0.90s``."""
    return " | ".join(
        f"silence {part.duration_s:.2f}s" if isinstance(part, Silence) else f"speech {part.duration_s:.2f}s" for part in parts
    )
