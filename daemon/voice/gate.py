"""The recognizer's side of the voice: it hears silence while the voice speaks, and tells the voice when
the user speaks.

:class:`VoiceGatedHearing` wraps any :class:`~pushkin.daemon.hearing_api.Hearing` (the microphone loop and
StreamAudio both feed one): each PCM chunk that arrives while :meth:`Voice.hearing_muted` is true is
replaced by zeros of the same length, so the VAD closes nothing and the recognizer writes nothing; the
stream's SpeechStarted / SpeechEnded events tell the voice when to hold its reply. Zeros rather than
dropped chunks keep the stream's clock (utterance times, pauses) true.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from ..hearing_api import Hearing, HearingEvent, SpeechEnded, SpeechStarted
from .speaker import Voice

_OWN = ("inner", "voice", "muted_chunks")


class VoiceGatedHearing:
    def __init__(self, inner: Hearing, voice: Voice) -> None:
        object.__setattr__(self, "inner", inner)
        object.__setattr__(self, "voice", voice)
        object.__setattr__(self, "muted_chunks", 0)

    # The Listener reads and sets the front end's own attributes (load, set_listen_mode, context).
    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def __setattr__(self, name: str, value) -> None:
        if name in _OWN:
            object.__setattr__(self, name, value)
        else:
            setattr(self.inner, name, value)

    async def _gated(self, pcm: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        async for chunk in pcm:
            if self.voice.hearing_muted():
                self.muted_chunks += 1
                chunk = bytes(len(chunk))
            yield chunk

    async def stream(self, pcm: AsyncIterator[bytes], *, language: str = "") -> AsyncIterator[HearingEvent]:
        open_ids: set[str] = set()
        try:
            async for event in self.inner.stream(self._gated(pcm), language=language):
                # Two streams (the microphone, a StreamAudio call) may number their utterances alike.
                if isinstance(event, SpeechStarted):
                    key = f"{id(open_ids)}:{event.utterance_id}"
                    open_ids.add(key)
                    self.voice.speech_started(key)
                elif isinstance(event, SpeechEnded):
                    key = f"{id(open_ids)}:{event.utterance_id}"
                    open_ids.discard(key)
                    self.voice.speech_ended(key)
                yield event
        finally:
            self.voice.stream_ended(open_ids)
