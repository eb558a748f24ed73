"""The daemon's :class:`~pushkin.daemon.hearing_api.Hearing`: the VAD segmenter plus the recognizer.

``stream`` reads PCM, runs the VAD on the event loop (well under a millisecond per 100 ms chunk: cheaper
than a thread hop), and sends every recognizer call to the one model thread. Interim transcripts are
re-decoded every ``partial_interval_s`` of new audio while the speaker talks (at most one in flight,
stable prefix by LocalAgreement-2); the final transcript is decoded when the utterance closes, while the
next audio keeps being read. Events come out in stream order.
"""

from __future__ import annotations

import asyncio
import logging
import os
import wave
from pathlib import Path
from typing import AsyncIterator, Callable

import numpy as np

from pushkin.proto.types import ListenMode, NoticeLevel, StatusNotice, Transcript

from ..hearing_api import SAMPLE_RATE, HeardTranscript, HearingEvent, SpeechEnded, SpeechStarted
from ..planning import Utterance, UtteranceIds
from .recognizer import FasterWhisperRecognizer, LocalAgreement, ModelMissing, ModelWorker, Recognition, Recognizer
from .settings import HearingSettings
from .vad import SegmentedUtterance, SileroStream, UtteranceClosed, UtteranceDiscarded, UtteranceOpened, VadSegmenter
from .vocabulary import PersonalVocabulary, UserVocabulary, default_user_vocabulary_path

log = logging.getLogger(__name__)


def _float_audio(samples: np.ndarray) -> np.ndarray:
    return samples.astype(np.float32) / 32768.0


class SpeechFrontEnd:
    """Implements ``Hearing``: PCM in, speech boundaries and transcripts out."""

    def __init__(self, settings: HearingSettings = HearingSettings(), recognizer: Recognizer | None = None) -> None:
        self.settings = settings
        self.recognizer = recognizer if recognizer is not None else FasterWhisperRecognizer(settings.recognizer)
        self.worker = ModelWorker(self.recognizer)
        self.listen_mode = settings.listen_mode
        self._segmenters: set[VadSegmenter] = set()
        self._silero_session = None
        self.model_error: str = ""
        # The target document's language ("ru", "en" or ""), set by the daemon: a lean, not a pin.
        self.document_language: Callable[[], str] | None = None
        self.vocabulary: PersonalVocabulary | None = None
        # The language the user pinned for the target document ("" when none), set by the daemon: a pin,
        # used when the stream itself names none (AudioStart.language).
        self.pinned_language: Callable[[], str] | None = None

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
        self.listen_mode = mode
        for segmenter in self._segmenters:
            segmenter.set_mode(mode)

    def key_down(self) -> None:
        for segmenter in self._segmenters:
            segmenter.key_down()

    def key_up(self) -> None:
        for segmenter in self._segmenters:
            segmenter.key_up()

    async def load(self) -> None:
        """Load the recognizer in its thread now (raises ModelMissing)."""
        try:
            await self.worker.load()
        except ModelMissing as error:
            self.model_error = str(error)
            raise

    def close(self) -> None:
        self.worker.close()

    # --- the stream --------------------------------------------------------------------------------

    def _new_segmenter(self) -> VadSegmenter:
        silero = None
        if self.settings.vad.silero:
            if self._silero_session is None:
                self._silero_session = SileroStream()._session
            silero = SileroStream(self._silero_session)  # one ONNX session, a state per stream
        return VadSegmenter(self.settings.vad, self.listen_mode, silero=silero)

    async def stream(self, pcm: AsyncIterator[bytes], *, language: str = "") -> AsyncIterator[HearingEvent]:
        segmenter = self._new_segmenter()
        self._segmenters.add(segmenter)
        uid = UtteranceIds().of  # one id stream per audio stream
        pending: list[asyncio.Task] = []  # finals, in utterance order
        partial: asyncio.Task | None = None
        agreement = LocalAgreement()
        partial_audio_len = 0
        open_id = ""
        open_start = 0.0
        recognizer_failed = False

        early: tuple[float, asyncio.Task] | None = None  # (speech end it decoded up to, the decode)
        early_after_s = self.settings.vad.early_decode_ms / 1000

        async def final_for(utterance: SegmentedUtterance, decoded: asyncio.Task | None) -> list[HearingEvent]:
            nonlocal recognizer_failed
            self._record(utterance, uid(utterance.index))
            notices, heard = await self._hear_otherwise(uid(utterance.index), utterance, self._spoken_language(language))
            if heard is not None:
                if decoded is not None:
                    decoded.cancel()
                return [*notices, heard]
            if recognizer_failed:
                return list(notices)
            try:
                recognition = await decoded if decoded is not None else None
                if recognition is None:
                    recognition = await self.worker.transcribe(_float_audio(utterance.audio),
                                                               language=self._spoken_language(language), final=True,
                                                               document_language=self._document_language())
            except ModelMissing as error:
                recognizer_failed = True
                self.model_error = str(error)
                return [*notices, StatusNotice(NoticeLevel.ERROR, "recognizer-missing", str(error))]
            return [*notices, self._final_event(uid(utterance.index), utterance, recognition)]

        def closed(utterance: SegmentedUtterance) -> asyncio.Future:
            """The final's future; the early decode is reused when it heard up to this utterance's end."""
            nonlocal early
            decoded = None
            if early is not None:
                if abs(early[0] - utterance.speech_end_s) < 1e-6:
                    decoded = early[1]
                else:
                    early[1].cancel()
                early = None
            return asyncio.ensure_future(final_for(utterance, decoded))

        try:
            async for chunk in pcm:
                events = segmenter.feed(chunk)
                # An early decode that heard a whole command closes the utterance now.
                if early is not None and early[1].done() and segmenter.is_open \
                        and abs(early[0] - segmenter.speech_end_s) < 1e-6 and self._is_command(early[1]):
                    events += segmenter.close_now()
                for event in events:
                    if isinstance(event, UtteranceOpened):
                        open_id, open_start = uid(event.index), event.speech_start_s
                        agreement = LocalAgreement()
                        partial_audio_len = 0
                        yield SpeechStarted(open_id, event.speech_start_s)
                    elif isinstance(event, UtteranceClosed):
                        if partial is not None:
                            partial.cancel()
                            partial = None
                        yield SpeechEnded(uid(event.utterance.index), event.utterance.speech_end_s)
                        pending.append(closed(event.utterance))
                    elif isinstance(event, UtteranceDiscarded):
                        if partial is not None:
                            partial.cancel()
                            partial = None
                        if early is not None:
                            early[1].cancel()
                            early = None
                        yield SpeechEnded(uid(event.index), event.time_s)
                # Finished finals go out first, in order; then a finished interim for the open utterance.
                while pending and pending[0].done():
                    for out in pending.pop(0).result():
                        yield out
                if partial is not None and partial.done():
                    recognition = None if partial.cancelled() else partial.result()
                    partial = None
                    if recognition is not None and segmenter.is_open and recognition.text:
                        stable, text = agreement.update(recognition.text)
                        yield HeardTranscript(
                            Transcript(open_id, text, False, stable, recognition.language, open_start, segmenter.time_s)
                        )
                silent_s = segmenter.trailing_silence_s
                if early_after_s and not recognizer_failed and segmenter.is_open and silent_s >= early_after_s \
                        and (early is None or abs(early[0] - segmenter.speech_end_s) >= 1e-6):
                    # The speaker paused: decode what was said as the final would (a resumed utterance
                    # makes this one stale; it is then dropped).
                    if early is not None:
                        early[1].cancel()
                    early = (segmenter.speech_end_s, asyncio.ensure_future(
                        self._early(segmenter.current_audio(), self._spoken_language(language))))
                if (
                    self.settings.recognizer.partials
                    and not recognizer_failed
                    and segmenter.is_open
                    and silent_s == 0.0  # a pause is the early decode's; an interim then would only delay it
                    and partial is None
                    and not pending
                ):
                    audio = segmenter.current_audio()
                    if len(audio) - partial_audio_len >= self.settings.recognizer.partial_interval_s * SAMPLE_RATE:
                        partial_audio_len = len(audio)
                        partial = asyncio.ensure_future(self._interim(audio, self._spoken_language(language)))
            for event in segmenter.finish():
                if isinstance(event, UtteranceClosed):
                    yield SpeechEnded(uid(event.utterance.index), event.utterance.speech_end_s)
                    pending.append(closed(event.utterance))
                elif isinstance(event, UtteranceDiscarded):
                    yield SpeechEnded(uid(event.index), event.time_s)
            if partial is not None:
                partial.cancel()
                partial = None
            while pending:
                for out in await pending.pop(0):
                    yield out
        finally:
            self._segmenters.discard(segmenter)
            for task in pending + ([partial] if partial else []) + ([early[1]] if early else []):
                task.cancel()

    def _is_command(self, decoded: asyncio.Task) -> bool:
        if decoded.cancelled() or decoded.exception() is not None or decoded.result() is None:
            return False
        vocabulary = getattr(self.recognizer, "commands", None)
        text = decoded.result().text
        return bool(text) and vocabulary is not None and vocabulary.is_command(text)

    async def _early(self, audio: np.ndarray, language: str) -> Recognition | None:
        """The open utterance decoded as a final, at the start of a pause; None when the model is missing."""
        try:
            return await self.worker.transcribe(_float_audio(audio), language=language, final=True,
                                                document_language=self._document_language())
        except ModelMissing:
            return None  # the final pass reports it once

    def _spoken_language(self, stream_language: str) -> str:
        """The language to decode in: the stream's, else the document's pin, else "" (detect)."""
        if stream_language or self.pinned_language is None:
            return stream_language
        try:
            return self.pinned_language()
        except Exception:  # a pin must never cost an utterance
            log.warning("the document's pinned language could not be read", exc_info=True)
            return ""

    def _document_language(self) -> str:
        if self.document_language is None:
            return ""
        try:
            return self.document_language()
        except Exception:  # a hint must never cost an utterance
            log.warning("the document's language could not be read", exc_info=True)
            return ""

    async def _hear_otherwise(self, utterance_id: str, utterance: SegmentedUtterance,
                              language: str) -> tuple[list[StatusNotice], HeardTranscript | None]:
        """Another way to hear a closed utterance before the recognizer's (the speech-LLM front end):
        notices to pass on, and the final transcript, or None to let the recognizer decode it."""
        return [], None

    async def _interim(self, audio: np.ndarray, language: str) -> Recognition | None:
        try:
            return await self.worker.transcribe(_float_audio(audio), language=language, final=False)
        except ModelMissing:
            return None  # the final pass reports it once

    def _final_event(self, utterance_id: str, utterance: SegmentedUtterance, recognition: Recognition) -> HeardTranscript:
        transcript = Transcript(
            utterance_id, recognition.text, True, recognition.text, recognition.language, utterance.speech_start_s, utterance.speech_end_s
        )
        if not recognition.text:
            # Nothing to act on (non-speech or a suppressed hallucination); editors clear the interim text.
            return HeardTranscript(transcript, None)
        heard = Utterance(
            text=recognition.text,
            pause_before_s=utterance.pause_before_s,
            pause_after_s=utterance.pause_after_s,
            language=recognition.language,
            source="speech",
        )
        return HeardTranscript(transcript, heard)

    def _record(self, utterance: SegmentedUtterance, utterance_id: str) -> None:
        """Write the utterance's audio only when the user turned debug recording on."""
        folder = self.settings.debug_recording_dir
        if not folder:
            return
        try:
            Path(folder).mkdir(parents=True, exist_ok=True)
            with wave.open(os.path.join(folder, f"{utterance_id}.wav"), "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(SAMPLE_RATE)
                out.writeframes(utterance.audio.tobytes())
        except OSError:
            log.warning("debug recording into %s failed", folder, exc_info=True)

