"""The speech-LLM front end in the daemon (``[model] front_end = "speech-llm"``).

:func:`speech_llm_front_end` is the cascade's :class:`~pushkin.daemon.hearing.SpeechFrontEnd` (same VAD, same
events, same interim transcripts from faster-whisper) with :class:`SpeechLLMDecoder` as its final decoder
(:class:`~pushkin.daemon.hearing.front_end.FinalDecoder`): each closed utterance — its speech
audio, with the VAD's pauses before and after it as silence markers — goes first through
:class:`pushkin.model.speech.SpeechLLM` on the language model's worker thread (Whisper encoder → projector
with silence tokens → composed Gemma → one output-language line), while the cascade's recognizer decodes
the same audio on its own thread. The line is parsed strictly (:func:`reading_of`):

* ``dictate: <text>`` → a final transcript of that text, planned as dictation;
* ``command: <name> ...`` → the intent engine's command with its arguments, planned as it is, and the phrase
  that says it as the transcript (:mod:`pushkin.daemon.intent.decided`);
* ``<op> then <op>`` → two final transcripts, planned in order ("dictate that, then stop listening");
* anything else is never executed and the cascade's transcript is the final one: a line outside the output
  language (unparsable, a command the grammar lacks, an empty dictation), a command the engine cannot act on as written,
  a dictation caught in a repetition loop, a decode cancelled (by ``timeout_s``, or the stream ending), a
  model error.

A usable answer's utterance says which kind the model decided (``decided_as``) and carries the cascade's
reading as its ``fallback``: when the plan for it is of another kind ("accept" with no proposal would be
typed as dictation) or finds nothing to act on ("scratch that" with nothing to scratch), the daemon core
decides the cascade's reading instead (:meth:`pushkin.daemon.core.DaemonCore._plan`).

Without a trained audio adapter it says so once (a ``speech-llm-unavailable`` notice; :func:`front_end_component`
gives the status line) and hears with the cascade.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pushkin.audio_lora.encoder import AudioEncoder
from pushkin.audio_lora.splice import Silence
from pushkin.model.output_language import DictateOutput, format_output, operations_of
from pushkin.model.speech import AudioPiece, SpeechLLM, SpeechLLMUnavailable, SpeechOutput
from pushkin.model.worker import ModelWorker
from pushkin.proto.types import Component, IntentKind, NoticeLevel, StatusNotice, Transcript

from .hearing import SpeechFrontEnd
from .hearing.front_end import Cascade, float_audio
from .hearing.recognizer import Recognizer, collapse_repetitions
from .hearing.settings import HearingSettings
from .hearing.vad import SegmentedUtterance, SpeechAudio
from .hearing_api import HeardTranscript, HearingEvent
from .intent.decided import UndecidableCommand, reading_of_command
from .planning import DecidedCommand, Utterance

log = logging.getLogger(__name__)

UNAVAILABLE_CODE = "speech-llm-unavailable"
COMPONENT = "speech-front-end"
DEFAULT_TIMEOUT_S = 10.0  # well above a GPU answer (under a second): only a runaway decode is cut


class SpeechReader(Protocol):
    """What the decoder asks of the speech-LLM (:class:`pushkin.model.speech.SpeechLLM`)."""

    def hear(self, pieces: Sequence[AudioPiece], cancel: threading.Event | None = None,
             max_new_tokens: int = 96) -> SpeechOutput:
        """One output-language answer for the utterance's audio and pauses; stops early when ``cancel`` is set."""


def front_end_component(requested: str, registry_root: str) -> Component:
    """The status line for ``[model] front_end``: which front end hears, and why not speech-llm when asked."""
    from pushkin.model.registry import AdapterRegistry
    from pushkin.model.speech import check_front_end

    status = check_front_end(requested, AdapterRegistry(registry_root or None))
    if status.usable:
        return Component(COMPONENT, requested, status.message)
    return Component(COMPONENT, "cascade", f"{status.message} Hearing with the cascade meanwhile.")


class UnusableLine(ValueError):
    """A speech-LLM answer that is not acted on; the message says why."""


@dataclass(frozen=True)
class Reading:
    """One operation of a speech-LLM answer as the daemon plans it: the text (a dictation, or the phrase that
    says the command), the kind the model decided, and the engine command it decided (None for dictation and
    the proposal decisions)."""

    text: str
    kind: IntentKind
    command: DecidedCommand | None = None


def readings_of(output: SpeechOutput) -> list[Reading]:
    """What to plan for a speech-LLM answer, one reading per operation (two for ``<op> then <op>``); raises
    :class:`UnusableLine` for an answer not to act on (any of its operations unusable: none is done)."""
    if output.cancelled:
        raise UnusableLine("cancelled before it finished")
    if output.output is None:
        raise UnusableLine(output.rejected or "outside the output language")
    readings = []
    for operation in operations_of(output.output):
        if isinstance(operation, DictateOutput):
            if collapse_repetitions(operation.text)[1]:
                raise UnusableLine("a repetition loop")
            readings.append(Reading(operation.text, IntentKind.DICTATION))
            continue
        try:
            command = reading_of_command(operation)
        except UndecidableCommand as why:
            raise UnusableLine(f"“{format_output(operation)}”: {why}") from None
        readings.append(Reading(command.phrase, IntentKind.COMMAND, command.command))
    return readings


def reading_of(output: SpeechOutput) -> tuple[str, IntentKind]:
    """The text to plan for a one-operation answer and the kind the model decided (see :func:`readings_of`)."""
    first = readings_of(output)[0]
    return first.text, first.kind


def heard_from(output: SpeechOutput, utterance_id: str, utterance: SegmentedUtterance,
               fallback: Utterance | None = None) -> list[HeardTranscript]:
    """The final transcripts for a speech-LLM answer, one per operation, in order; the first carries
    ``fallback`` (the cascade's reading of the same audio, decided instead when its plan is unusable), a
    second (``<utterance_id>+2``) has none: when its plan is unusable nothing more is done. Raises
    :class:`UnusableLine` for an answer not to act on."""
    heard = []
    for number, reading in enumerate(readings_of(output), 1):
        identifier = utterance_id if number == 1 else f"{utterance_id}+{number}"
        text = reading.text
        transcript = Transcript(identifier, text, True, text, "", utterance.speech_start_s, utterance.speech_end_s)
        heard.append(HeardTranscript(transcript, Utterance(
            text, utterance.pause_before_s if number == 1 else 0.0, utterance.pause_after_s, source="speech-llm",
            decided_as=reading.kind, fallback=fallback if number == 1 else None, command=reading.command)))
    return heard


def speech_pieces(utterance: SegmentedUtterance) -> list:
    """The prompt pieces for an utterance: the pause before it, its speech parts with the VAD's inner
    silence markers between them, and the pause after it (each pause becomes a silence token, or nothing
    when shorter than the shortest bucket)."""
    pieces: list = []
    if utterance.pause_before_s > 0:
        pieces.append(Silence(utterance.pause_before_s))
    for part in utterance.parts or (SpeechAudio(utterance.audio, utterance.audio_start_s),):
        if isinstance(part, SpeechAudio):
            if len(part.samples):
                pieces.append(float_audio(part.samples))
        else:
            pieces.append(Silence(part.duration_s))
    if utterance.pause_after_s > 0:
        pieces.append(Silence(utterance.pause_after_s))
    return pieces


class SpeechLLMDecoder:
    """The final decoder that asks the speech-LLM first; ``worker`` is the language model's worker thread
    (it owns the composed model) and ``reader_factory`` builds the :class:`SpeechReader` there, once, from
    the composed model. The cascade decodes every utterance too, on its own thread meanwhile: its reading
    is the answer when the speech-LLM's is unusable, and travels as the ``fallback`` of a usable one."""

    def __init__(self, worker: ModelWorker, reader_factory: Callable[[Any], SpeechReader], *,
                 max_new_tokens: int = 96, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.model_worker = worker
        self.reader_factory = reader_factory
        self.max_new_tokens = max_new_tokens
        self.timeout_s = timeout_s  # a decode that runs longer is cancelled (its answer is not used)
        self.unavailable = ""  # why the speech-LLM path cannot run ("" while it can)
        self.last_output: SpeechOutput | None = None
        self.rejected = 0  # answers not acted on: the cascade decided those utterances
        self._reader: SpeechReader | None = None  # built and used on the worker thread only

    def _hear(self, composed, pieces, cancel: threading.Event) -> SpeechOutput:
        if cancel.is_set():  # the stream ended while the job waited for the worker
            return SpeechOutput(None, "", cancelled=True)
        if self._reader is None:
            self._reader = self.reader_factory(composed)
        # The decode itself is bounded (a runaway one is cancelled); loading the model and waiting for the
        # worker are not counted.
        deadline = threading.Timer(self.timeout_s, cancel.set)
        deadline.start()
        try:
            return self._reader.hear(pieces, cancel, max_new_tokens=self.max_new_tokens)
        finally:
            deadline.cancel()

    async def decode(self, utterance_id: str, utterance: SegmentedUtterance, cascade: Cascade) -> list[HearingEvent]:
        if self.unavailable:
            return await cascade()
        asked = asyncio.ensure_future(self._ask(utterance_id, utterance))
        cascading = asyncio.ensure_future(cascade())
        try:
            await asyncio.wait((asked, cascading))
        except asyncio.CancelledError:
            asked.cancel()
            cascading.cancel()
            raise
        notices, output = asked.result()
        if output is not None:
            failed = cascading.exception()  # a usable answer does not need the recognizer: it loses its fallback
            cascaded = [] if failed is not None else cascading.result()
            fallback = next((event.utterance for event in cascaded if isinstance(event, HeardTranscript)), None)
            try:
                heard = heard_from(output, utterance_id, utterance, fallback)
            except UnusableLine as why:
                self.rejected += 1
                log.info("speech-llm answer %r not acted on (%s); the cascade hears it", output.raw_line[:80], why)
            else:
                if failed is not None:
                    log.error("the recognizer failed on utterance %s; the speech-LLM's answer stands without a "
                              "fallback", utterance_id, exc_info=failed)
                return [*notices, *(event for event in cascaded if not isinstance(event, HeardTranscript)), *heard]
        return [*notices, *cascading.result()]  # the recognizer's failure, if any, as with the cascade alone

    async def _ask(self, utterance_id: str,
                   utterance: SegmentedUtterance) -> tuple[list[StatusNotice], SpeechOutput | None]:
        """Notices to pass on, and the speech-LLM's answer (None when it could not answer: the cascade's)."""
        pieces = speech_pieces(utterance)
        cancel = threading.Event()
        try:
            job = self.model_worker.submit(lambda lm: self._hear(lm, pieces, cancel))
            output = await asyncio.wrap_future(job)
        except SpeechLLMUnavailable as error:
            self.unavailable = str(error)
            log.warning("speech-llm unavailable: %s", error)
            return [StatusNotice(NoticeLevel.WARNING, UNAVAILABLE_CODE,
                                 f"{error} Hearing with the cascade (faster-whisper) instead.")], None
        except asyncio.CancelledError:
            cancel.set()
            raise
        except Exception:  # a model failure must not lose the utterance: the cascade hears it
            log.exception("the speech-LLM front end failed on utterance %s", utterance_id)
            return [], None
        self.last_output = output
        return [], output


def speech_llm_front_end(settings: HearingSettings, recognizer: Recognizer | None, worker: ModelWorker,
                         encoder_factory: Callable[[], AudioEncoder], *, max_new_tokens: int = 96) -> SpeechFrontEnd:
    """Hearing with the speech-LLM deciding finals (the cascade's recognizer for interims and fallbacks)."""
    decoder = SpeechLLMDecoder(worker, lambda composed: SpeechLLM(composed, encoder_factory()),
                               max_new_tokens=max_new_tokens)
    return SpeechFrontEnd(settings, recognizer, final_decoder=decoder)
