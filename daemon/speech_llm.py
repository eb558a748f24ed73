"""The speech-LLM front end in the daemon (``[model] front_end = "speech-llm"``).

:func:`speech_llm_front_end` is the cascade's :class:`~pushkin.daemon.hearing.SpeechFrontEnd` (same VAD, same
events, same interim transcripts from faster-whisper) with :class:`SpeechLLMDecoder` as its final decoder
(:class:`~pushkin.daemon.hearing.front_end.FinalDecoder`): each closed utterance — its speech
audio, with the VAD's pauses before and after it as silence markers — goes first through
:class:`pushkin.model.speech.SpeechLLM` on the language model's worker thread (Whisper encoder → projector
with silence tokens → composed Gemma → one output-language line). The line is parsed strictly:

* ``dictate: <text>`` → a final transcript of that text, planned as dictation;
* ``command: <name> ...`` → the grammar phrase for it (:func:`pushkin.daemon.open_commands.phrase_for`),
  planned by the intent engine through the same command registry;
* anything else (outside the grammar, a command with no phrase, a failure) is never executed: the cascade
  decodes the same audio, so no words are lost.

Without a trained audio adapter it says so once (a ``speech-llm-unavailable`` notice; :func:`front_end_component`
gives the status line) and hears with the cascade.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from pushkin.audio_lora.encoder import AudioEncoder
from pushkin.audio_lora.splice import Silence
from pushkin.model.output_language import CommandOutput, DictateOutput
from pushkin.model.speech import SpeechLLM, SpeechLLMUnavailable, SpeechOutput
from pushkin.model.worker import ModelWorker
from pushkin.proto.types import Component, NoticeLevel, StatusNotice, Transcript

from .hearing import SpeechFrontEnd
from .hearing.front_end import Cascade, float_audio
from .hearing.recognizer import Recognizer
from .hearing.settings import HearingSettings
from .hearing.vad import SegmentedUtterance, SpeechAudio
from .hearing_api import HeardTranscript, HearingEvent
from .open_commands import phrase_for
from .planning import Utterance

log = logging.getLogger(__name__)

UNAVAILABLE_CODE = "speech-llm-unavailable"
COMPONENT = "speech-front-end"


def front_end_component(requested: str, registry_root: str) -> Component:
    """The status line for ``[model] front_end``: which front end hears, and why not speech-llm when asked."""
    from pushkin.model.registry import AdapterRegistry
    from pushkin.model.speech import check_front_end

    status = check_front_end(requested, AdapterRegistry(registry_root or None))
    if status.usable:
        return Component(COMPONENT, requested, status.message)
    return Component(COMPONENT, "cascade", f"{status.message} Hearing with the cascade meanwhile.")


def heard_from(output: SpeechOutput, utterance_id: str, utterance: SegmentedUtterance) -> HeardTranscript | None:
    """The final transcript for a parsed speech-LLM line; None when it is not something to act on."""
    if output.cancelled or output.output is None:
        return None
    if isinstance(output.output, DictateOutput):
        text = output.output.text
    elif isinstance(output.output, CommandOutput):
        phrase = phrase_for(output.output)
        if phrase is None:
            return None
        text = phrase
    else:
        return None
    transcript = Transcript(utterance_id, text, True, text, "", utterance.speech_start_s, utterance.speech_end_s)
    return HeardTranscript(transcript, Utterance(text, utterance.pause_before_s, utterance.pause_after_s,
                                                 source="speech-llm"))


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
    (it owns the composed model) and ``encoder_factory`` builds the Whisper encoder there, once."""

    def __init__(self, worker: ModelWorker, encoder_factory: Callable[[], AudioEncoder], *,
                 max_new_tokens: int = 96) -> None:
        self.model_worker = worker
        self.encoder_factory = encoder_factory
        self.max_new_tokens = max_new_tokens
        self.unavailable = ""  # why the speech-LLM path cannot run ("" while it can)
        self.last_output: SpeechOutput | None = None
        self.rejected = 0  # lines outside the grammar, heard by the cascade instead
        self._speech: SpeechLLM | None = None  # built and used on the worker thread only

    def _hear(self, composed, pieces) -> SpeechOutput:
        if self._speech is None:
            self._speech = SpeechLLM(composed, self.encoder_factory())
        return self._speech.hear(pieces, max_new_tokens=self.max_new_tokens)

    async def decode(self, utterance_id: str, utterance: SegmentedUtterance, cascade: Cascade) -> list[HearingEvent]:
        notices, heard = await self._decide(utterance_id, utterance)
        if heard is not None:
            return [*notices, heard]
        return [*notices, *await cascade()]

    async def _decide(self, utterance_id: str,
                      utterance: SegmentedUtterance) -> tuple[list[StatusNotice], HeardTranscript | None]:
        """Notices to pass on, and the final transcript when the speech-LLM's line is one to act on."""
        if self.unavailable:
            return [], None
        pieces = speech_pieces(utterance)
        try:
            output = await asyncio.wrap_future(self.model_worker.submit(lambda lm: self._hear(lm, pieces)))
        except SpeechLLMUnavailable as error:
            self.unavailable = str(error)
            log.warning("speech-llm unavailable: %s", error)
            return [StatusNotice(NoticeLevel.WARNING, UNAVAILABLE_CODE,
                                 f"{error} Hearing with the cascade (faster-whisper) instead.")], None
        except Exception:  # a model failure must not lose the utterance: the cascade hears it
            log.exception("the speech-LLM front end failed on utterance %s", utterance_id)
            return [], None
        self.last_output = output
        heard = heard_from(output, utterance_id, utterance)
        if heard is None:
            self.rejected += 1
            log.info("speech-llm line %r not acted on (%s); the cascade hears it", output.raw_line[:80],
                     output.rejected or "no phrase for it")
        return [], heard


def speech_llm_front_end(settings: HearingSettings, recognizer: Recognizer | None, worker: ModelWorker,
                         encoder_factory: Callable[[], AudioEncoder], *, max_new_tokens: int = 96) -> SpeechFrontEnd:
    """Hearing with the speech-LLM deciding finals (the cascade's recognizer for interims and fallbacks)."""
    decoder = SpeechLLMDecoder(worker, encoder_factory, max_new_tokens=max_new_tokens)
    return SpeechFrontEnd(settings, recognizer, final_decoder=decoder)
