"""The seam between the daemon and the speech front end ("hearing").

The daemon feeds raw PCM (16 kHz, mono, signed 16-bit little-endian) from the microphone loop or from a
``StreamAudio`` call into :meth:`Hearing.stream` and receives events as the front end detects speech,
recognizes it and closes utterances. A final :class:`HeardTranscript` carries the :class:`Utterance`
(with the pauses around it) that the daemon hands to its EditPlanner. The front end owns its models and
runs them off the event loop.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import AsyncIterator, Protocol, Union

from pushkin.proto.types import StatusNotice, Transcript

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


HearingEvent = Union[SpeechStarted, SpeechEnded, HeardTranscript, StatusNotice]


class Hearing(Protocol):
    def stream(self, pcm: AsyncIterator[bytes], *, language: str = "") -> AsyncIterator[HearingEvent]:
        """Events for the audio in ``pcm``; ends after the stream ends and the last utterance is closed."""
