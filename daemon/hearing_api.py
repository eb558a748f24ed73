"""The seam between the daemon and the speech front end ("hearing").

The daemon feeds raw PCM (16 kHz, mono, signed 16-bit little-endian) from the microphone loop or from a
``StreamAudio`` call into :meth:`Hearing.stream` and receives events as the front end detects speech,
recognizes it and closes utterances. A final :class:`HeardTranscript` carries the :class:`Utterance`
(with the pauses around it) that the daemon hands to its EditPlanner. The front end owns its models and
runs them off the event loop.

A front end the daemon can steer is a :class:`SteerableHearing`: it reads the daemon's
:class:`SpeechContext` (the listening mode, the focused document's languages), follows SetListening,
preloads its model and takes the user's vocabulary. A plain :class:`Hearing` only streams.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from pushkin.proto.types import ListenMode, StatusNotice, Transcript

from .planning import Utterance

SAMPLE_RATE = 16000
SAMPLE_WIDTH = 2  # bytes: signed 16-bit
CHANNELS = 1

_utterance_numbers = itertools.count(1)


def new_utterance_id() -> str:
    """A new utterance id, unique in this process: heard utterances (every stream) and typed ones (the
    core) draw from this one sequence, so two never share an id in the status or on the wire."""
    return f"u{next(_utterance_numbers)}"


@dataclass(frozen=True)
class SpeechStarted:
    utterance_id: str
    time_s: float  # offset in the stream


@dataclass(frozen=True)
class SpeechEnded:
    utterance_id: str
    time_s: float


@dataclass(frozen=True)
class HeardTranscript:
    """An interim (``transcript.final`` false) or final transcript; the final one carries the utterance."""

    transcript: Transcript
    utterance: Utterance | None = None


HearingEvent = SpeechStarted | SpeechEnded | HeardTranscript | StatusNotice


class Hearing(Protocol):
    def stream(self, pcm: AsyncIterator[bytes], *, language: str = "") -> AsyncIterator[HearingEvent]:
        """Events for the audio in ``pcm``; ends after the stream ends and the last utterance is closed."""


class SpeechContext(Protocol):
    """What the daemon tells the front end about where speech goes (the Listener implements it)."""

    def listen_mode(self) -> ListenMode:
        """The daemon's listening mode (its core owns it): a new stream's VAD starts in it."""

    def document_language(self) -> str:
        """The focused document's language by its script ("" when unknown): a lean, not a pin."""

    def pinned_language(self) -> str:
        """The language the user pinned for the focused document ("" when none)."""

    def text_before_cursor(self, limit: int) -> str:
        """Up to ``limit`` characters of the focused document just before its cursor ("" when none)."""


@runtime_checkable
class SteerableHearing(Hearing, Protocol):
    context: SpeechContext | None

    def describe(self) -> str:
        """What hears, for the status line."""

    async def load(self) -> None:
        """Load the recognizer now, off the event loop (raises when it is missing)."""

    def set_listen_mode(self, mode: ListenMode) -> None:
        """Move the open streams' VADs to ``mode``."""

    def key_down(self) -> None:
        """The push-to-talk / toggle key went down."""

    def key_up(self) -> None:
        """The push-to-talk key went up."""

    def add_vocabulary(self, text: str) -> tuple[str, bool]:
        """Add ``text`` to the user's vocabulary: (the term, whether it was new)."""
