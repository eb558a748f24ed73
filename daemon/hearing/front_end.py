"""The daemon's :class:`~pushkin.daemon.hearing_api.Hearing`: the VAD segmenter plus the recognizer.

``stream`` reads PCM, runs the VAD on the event loop (well under a millisecond per 100 ms chunk: cheaper
than a thread hop), and sends every recognizer call to the one model thread (a
:class:`~pushkin.model.worker.ModelWorker` holding the recognizer). Interim transcripts are re-decoded
every ``partial_interval_s`` of new audio while the speaker talks (at most one in flight, stable prefix by
LocalAgreement-2); the final transcript is decided when the utterance closes, by the front end's
:class:`FinalDecoder` (the cascade, or the speech-LLM in front of it), while the next audio keeps being
read. Events come out in stream order.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import wave
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from pushkin.model.worker import ModelWorker
from pushkin.proto.types import ListenMode, NoticeLevel, StatusNotice, Transcript

from ..hearing_api import (
    SAMPLE_RATE,
    HeardTranscript,
    HearingEvent,
    SpeechContext,
    SpeechEnded,
    SpeechStarted,
    new_utterance_id,
)
from ..planning import Utterance
from .recognizer import FasterWhisperRecognizer, LocalAgreement, ModelMissing, Recognition, Recognizer
from .settings import HearingSettings
from .vad import (
    SegmentedUtterance,
    SegmenterEvent,
    SileroStream,
    UtteranceClosed,
    UtteranceDiscarded,
    UtteranceOpened,
    VadSegmenter,
)
from .vocabulary import PersonalVocabulary, UserVocabulary, default_user_vocabulary_path

log = logging.getLogger(__name__)


def float_audio(samples: np.ndarray) -> np.ndarray:
    """int16 PCM samples as the float32 the models read."""
    return samples.astype(np.float32) / 32768.0


Cascade = Callable[[], Awaitable[list[HearingEvent]]]


class FinalDecoder(Protocol):
    """Decides a closed utterance's final transcript. ``cascade()`` decodes it with the recognizer (reusing
    the early decode when there is one) and returns its events; a decoder that does not decide the
    utterance itself falls back to it, so no words are lost."""

    async def decode(self, utterance_id: str, utterance: SegmentedUtterance, cascade: Cascade) -> list[HearingEvent]:
        """The events for the utterance: notices, then its final :class:`HeardTranscript` (if any)."""


class CascadeDecoder:
    """The recognizer decides every final (``[model] front_end = "cascade"``)."""

    async def decode(self, utterance_id: str, utterance: SegmentedUtterance, cascade: Cascade) -> list[HearingEvent]:
        return await cascade()


def recognizer_worker(recognizer: Recognizer, name: str = "hearing-model") -> ModelWorker[Recognizer]:
    """The one thread that owns ``recognizer``: it loads the model on first use and runs every call."""

    def load(progress: Callable[[float, str], None]) -> Recognizer:
        recognizer.load()
        return recognizer

    return ModelWorker(load, name=name)


class SpeechFrontEnd:
    """Implements ``Hearing``: PCM in, speech boundaries and transcripts out."""

    def __init__(self, settings: HearingSettings = HearingSettings(), recognizer: Recognizer | None = None, *,
                 final_decoder: FinalDecoder | None = None) -> None:
        self.settings = settings
        self.recognizer = recognizer if recognizer is not None else FasterWhisperRecognizer(settings.recognizer)
        self.worker = recognizer_worker(self.recognizer)
        self.final_decoder: FinalDecoder = final_decoder if final_decoder is not None else CascadeDecoder()
        self._segmenters: set[VadSegmenter] = set()
        self._silero_session = None
        # Set by the daemon: its listening mode and the focused document's languages. None (no daemon):
        # the configured mode, no language lean or pin.
        self.context: SpeechContext | None = None
        self.vocabulary: PersonalVocabulary | None = None

    @property
    def listen_mode(self) -> ListenMode:
        """The mode a new stream's VAD starts in."""
        return self.context.listen_mode() if self.context is not None else self.settings.listen_mode

    def use_vocabulary(self, vocabulary: PersonalVocabulary) -> None:
        """Give the recognizer ``vocabulary``'s terms, from the next utterance on."""
        self.vocabulary = vocabulary
        if hasattr(self.recognizer, "vocabulary"):
            self.recognizer.vocabulary = vocabulary.terms()

    def add_vocabulary(self, text: str) -> tuple[str, bool]:
        """Add ``text`` to the user's vocabulary (persisted) and use it from the next utterance on:
        (the term, whether it was new); raises VocabularyError or OSError."""
        if self.vocabulary is None:
            self.vocabulary = PersonalVocabulary(getattr(self.recognizer, "vocabulary", ()),
                                                 UserVocabulary(default_user_vocabulary_path()))
        term, new = self.vocabulary.add(text)
        if hasattr(self.recognizer, "vocabulary"):
            self.recognizer.vocabulary = self.vocabulary.terms()
        return term, new

    # --- controls (SetListening) -------------------------------------------------------------------

    def set_listen_mode(self, mode: ListenMode) -> None:
        """Move the open streams' VADs to ``mode`` (new streams read :attr:`listen_mode`)."""
        for segmenter in self._segmenters:
            segmenter.set_mode(mode)

    def key_down(self) -> None:
        for segmenter in self._segmenters:
            segmenter.key_down()

    def key_up(self) -> None:
        for segmenter in self._segmenters:
            segmenter.key_up()

    def describe(self) -> str:
        """What hears, for the status line (the recognizer and where it runs)."""
        return self.recognizer.describe()

    async def load(self) -> None:
        """Load the recognizer in its thread now (raises ModelMissing)."""
        await asyncio.wrap_future(self.worker.load())

    def close(self) -> None:
        # The job at hand (a model load, a decode) finishes before the process may exit: a CTranslate2 thread
        # still loading when the interpreter ends aborts it ("terminate called without an active exception").
        self.worker.shutdown(timeout=15.0)

    # --- the stream --------------------------------------------------------------------------------

    def _new_segmenter(self) -> VadSegmenter:
        silero = None
        if self.settings.vad.silero:
            if self._silero_session is None:
                self._silero_session = SileroStream()._session
            silero = SileroStream(self._silero_session)  # one ONNX session, a state per stream
        return VadSegmenter(self.settings.vad, self.listen_mode, silero=silero)

    async def stream(self, pcm: AsyncIterator[bytes], *, language: str = "") -> AsyncIterator[HearingEvent]:
        heard = _HeardStream(self, language)
        try:
            async for chunk in pcm:
                for event in heard.feed(chunk):
                    yield event
            async for event in heard.finish():
                yield event
        finally:
            heard.cancel()

    async def transcribe(self, audio: np.ndarray, language: str, *, final: bool) -> Recognition:
        """``audio`` (int16) recognized on the model thread; a final pass leans toward the document's language."""
        samples = float_audio(audio)
        document_language = self._document_language() if final else ""
        preceding_text = self._preceding_text() if final else ""

        def job(recognizer: Recognizer) -> Recognition:
            return recognizer.transcribe(samples, language=language, final=final, document_language=document_language,
                                         preceding_text=preceding_text)

        return await asyncio.wrap_future(self.worker.submit(job))

    def spoken_language(self, stream_language: str) -> str:
        """The language to decode in: the stream's, else the document's pin, else "" (detect)."""
        if stream_language or self.context is None:
            return stream_language
        try:
            return self.context.pinned_language()
        except Exception:  # a pin must never cost an utterance
            log.warning("the document's pinned language could not be read", exc_info=True)
            return ""

    def _preceding_text(self) -> str:
        limit = self.settings.recognizer.document_context_chars
        if self.context is None or limit <= 0:
            return ""
        try:
            return self.context.text_before_cursor(limit)
        except Exception:  # a hint must never cost an utterance
            log.warning("the text before the cursor could not be read", exc_info=True)
            return ""

    def _document_language(self) -> str:
        if self.context is None:
            return ""
        try:
            return self.context.document_language()
        except Exception:  # a hint must never cost an utterance
            log.warning("the document's language could not be read", exc_info=True)
            return ""


def final_transcript(utterance_id: str, utterance: SegmentedUtterance, recognition: Recognition) -> HeardTranscript:
    """The recognizer's final reading of a closed utterance; it carries the utterance to act on unless empty."""
    transcript = Transcript(utterance_id, recognition.text, True, recognition.text, recognition.language,
                            utterance.speech_start_s, utterance.speech_end_s)
    if not recognition.text:
        # Nothing to act on (non-speech or a suppressed hallucination); editors clear the interim text.
        return HeardTranscript(transcript, None)
    heard = Utterance(text=recognition.text, pause_before_s=utterance.pause_before_s,
                      pause_after_s=utterance.pause_after_s, language=recognition.language, source="speech")
    return HeardTranscript(transcript, heard)


@dataclass
class _OpenUtterance:
    """The utterance the speaker is in: its id, where its speech began, and its interim decodes."""

    utterance_id: str
    start_s: float
    agreement: LocalAgreement = field(default_factory=LocalAgreement)
    interim: asyncio.Task | None = None
    interim_audio_len: int = 0  # samples the last interim decode heard


@dataclass(frozen=True)
class _EarlyDecode:
    """The open utterance decoded as a final when the speaker paused at ``speech_end_s``."""

    speech_end_s: float
    task: asyncio.Task

    def heard_up_to(self, speech_end_s: float) -> bool:
        return abs(self.speech_end_s - speech_end_s) < 1e-6


class _HeardStream:
    """One call of :meth:`SpeechFrontEnd.stream`: its VAD, the utterance being spoken, the decodes in flight."""

    def __init__(self, front: SpeechFrontEnd, language: str) -> None:
        self.front = front
        self.language = language  # the stream's own (AudioStart.language); "" defers to the document's pin
        self.segmenter = front._new_segmenter()
        front._segmenters.add(self.segmenter)
        self.ids: dict[int, str] = {}  # the VAD's utterance index → the utterance's id
        self.open: _OpenUtterance | None = None
        self.early: _EarlyDecode | None = None
        self.finals: list[asyncio.Future] = []  # each closed utterance's events, in utterance order
        self.recognizer_failed = False  # the model is missing: said once, then no more decodes

    def feed(self, chunk: bytes) -> Iterator[HearingEvent]:
        """The events ready after ``chunk``; starts the decodes the audio so far calls for."""
        segmenter = self.segmenter
        events = segmenter.feed(chunk)
        early = self.early
        # An early decode that heard a whole command closes the utterance now.
        if early is not None and early.task.done() and segmenter.is_open \
                and early.heard_up_to(segmenter.speech_end_s) and self._heard_a_command(early.task):
            events += segmenter.close_now()
        yield from self._segmented(events)
        # Finished finals go out first, in order; then a finished interim for the open utterance.
        while self.finals and self.finals[0].done():
            yield from self.finals.pop(0).result()
        yield from self._finished_interim()
        self._start_decodes()

    async def finish(self) -> AsyncIterator[HearingEvent]:
        """The stream ended: close what is open and wait for the last finals."""
        for event in self._segmented(self.segmenter.finish()):
            yield event
        self._drop_interim()
        while self.finals:
            for event in await self.finals.pop(0):
                yield event

    def cancel(self) -> None:
        self.front._segmenters.discard(self.segmenter)
        self._drop_interim()
        self._drop_early()
        for task in self.finals:
            task.cancel()

    # --- the VAD's events ----------------------------------------------------------------------------

    def _segmented(self, events: list[SegmenterEvent]) -> Iterator[HearingEvent]:
        for event in events:
            if isinstance(event, UtteranceOpened):
                utterance_id = self.ids[event.index] = new_utterance_id()
                self.open = _OpenUtterance(utterance_id, event.speech_start_s)
                yield SpeechStarted(utterance_id, event.speech_start_s)
            elif isinstance(event, UtteranceClosed):
                utterance = event.utterance
                utterance_id = self._closing_id(utterance.index)
                yield SpeechEnded(utterance_id, utterance.speech_end_s)
                self.finals.append(asyncio.ensure_future(self._final(utterance_id, utterance, self._early_for(utterance))))
            elif isinstance(event, UtteranceDiscarded):
                self._drop_early()
                yield SpeechEnded(self._closing_id(event.index), event.time_s)

    def _closing_id(self, index: int) -> str:
        self._drop_interim()
        self.open = None
        return self.ids.pop(index, "") or new_utterance_id()

    def _early_for(self, utterance: SegmentedUtterance) -> asyncio.Task | None:
        """The early decode, when it heard up to this utterance's end (otherwise it is stale: dropped)."""
        early, self.early = self.early, None
        if early is None:
            return None
        if early.heard_up_to(utterance.speech_end_s):
            return early.task
        early.task.cancel()
        return None

    # --- decodes -------------------------------------------------------------------------------------

    async def _final(self, utterance_id: str, utterance: SegmentedUtterance,
                     early: asyncio.Task | None) -> list[HearingEvent]:
        front = self.front
        self._record(utterance_id, utterance)

        async def cascade() -> list[HearingEvent]:
            if self.recognizer_failed:
                return []
            try:
                recognition = await early if early is not None else None
                if recognition is None:
                    recognition = await front.transcribe(utterance.audio, front.spoken_language(self.language),
                                                         final=True)
            except ModelMissing as error:
                self.recognizer_failed = True
                return [StatusNotice(NoticeLevel.ERROR, "recognizer-missing", str(error))]
            return [final_transcript(utterance_id, utterance, recognition)]

        try:
            return await front.final_decoder.decode(utterance_id, utterance, cascade)
        finally:
            if early is not None:
                early.cancel()  # unused when the decoder decided the utterance without the cascade

    def _finished_interim(self) -> Iterator[HearingEvent]:
        open_ = self.open
        if open_ is None or open_.interim is None or not open_.interim.done():
            return
        task, open_.interim = open_.interim, None
        recognition = None if task.cancelled() else task.result()
        if recognition is not None and recognition.text:
            stable, text = open_.agreement.update(recognition.text)
            yield HeardTranscript(Transcript(open_.utterance_id, text, False, stable, recognition.language,
                                             open_.start_s, self.segmenter.time_s))

    def _start_decodes(self) -> None:
        segmenter, settings = self.segmenter, self.front.settings
        if self.recognizer_failed or not segmenter.is_open:
            return
        silent_s = segmenter.trailing_silence_s
        early_after_s = settings.vad.early_decode_ms / 1000
        if early_after_s and silent_s >= early_after_s \
                and (self.early is None or not self.early.heard_up_to(segmenter.speech_end_s)):
            # The speaker paused: decode what was said as the final would (a resumed utterance makes this
            # one stale; it is then dropped).
            self._drop_early()
            self.early = _EarlyDecode(segmenter.speech_end_s, asyncio.ensure_future(
                self._tentative(segmenter.current_audio(), final=True)))
        open_ = self.open
        if (
            settings.recognizer.partials
            and open_ is not None
            and silent_s == 0.0  # a pause is the early decode's; an interim then would only delay it
            and open_.interim is None
            and not self.finals
        ):
            audio = segmenter.current_audio()
            if len(audio) - open_.interim_audio_len >= settings.recognizer.partial_interval_s * SAMPLE_RATE:
                open_.interim_audio_len = len(audio)
                open_.interim = asyncio.ensure_future(self._tentative(audio, final=False))

    async def _tentative(self, audio: np.ndarray, *, final: bool) -> Recognition | None:
        """An interim decode (``final`` False) or the early one, decoded as a final would be; None when the
        model is missing (the final pass reports that, once)."""
        try:
            return await self.front.transcribe(audio, self.front.spoken_language(self.language), final=final)
        except ModelMissing:
            return None

    def _heard_a_command(self, decoded: asyncio.Task) -> bool:
        if decoded.cancelled() or decoded.exception() is not None or decoded.result() is None:
            return False
        vocabulary = getattr(self.front.recognizer, "commands", None)
        text = decoded.result().text
        return bool(text) and vocabulary is not None and vocabulary.is_command(text)

    def _record(self, utterance_id: str, utterance: SegmentedUtterance) -> None:
        """Write the utterance's audio only when the user turned debug recording on."""
        folder = self.front.settings.debug_recording_dir
        if not folder:
            return
        try:
            Path(folder).mkdir(parents=True, exist_ok=True)
            # Ids start again at u1 when the daemon does: the time keeps earlier recordings.
            name = f"{time.strftime('%Y%m%d-%H%M%S')}-{utterance_id}.wav"
            with wave.open(os.path.join(folder, name), "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(SAMPLE_RATE)
                out.writeframes(utterance.audio.tobytes())
        except OSError:
            log.warning("debug recording into %s failed", folder, exc_info=True)

    def _drop_interim(self) -> None:
        if self.open is not None and self.open.interim is not None:
            self.open.interim.cancel()
            self.open.interim = None

    def _drop_early(self) -> None:
        if self.early is not None:
            self.early.task.cancel()
            self.early = None
