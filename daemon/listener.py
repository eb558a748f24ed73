"""The daemon's ears: the one path from the speech front end into the core, and SetListening out to it.

Both streams that reach the front end go through the :class:`Listener`, event by event through one
function (:meth:`Listener._shown`): the microphone loop (:meth:`Listener.heard`) and each ``StreamAudio``
call (:meth:`Listener.hear_call`, which the gRPC service only converts). Interim transcripts reach editors
that asked for the ``interim`` capability, finals every editor and the status's recent transcripts. They
differ only where the audio's owner does: the microphone's finals go to the focused document through the
``speech-dispatcher`` queue (a slow editor never stalls the microphone) and its notices (no device,
listening again, muted) become the daemon's state; a StreamAudio call's finals are decided for the
document it named and answered to it, and its notices go to it alone.

:class:`Listener` owns three named tasks, each with a state:

* ``hearing-microphone`` (:class:`~pushkin.daemon.hearing.microphone.MicrophoneService`): the microphone
  through the speech front end, with its own retry loop when there is no device;
* ``speech-dispatcher``: the microphone's final utterances, one at a time and in order, into the edit
  dispatcher (:meth:`DaemonCore.handle_utterance`);
* ``hearing-model-load``: loads the recognizer at start so the first utterance is not the one that waits.

It also implements :class:`~pushkin.daemon.core.ListeningControls` (SetListening's mode and key reach a
:class:`~pushkin.daemon.hearing_api.SteerableHearing`'s VADs, an explicit mute closes the microphone) and
that front end's :class:`~pushkin.daemon.hearing_api.SpeechContext`: the listening mode is the core's, and
a new stream's VAD reads it there; the focused document's languages come from the core's documents.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace

from pushkin.proto.types import (
    AudioStart,
    Component,
    ListenMode,
    ListenState,
    NoticeLevel,
    SpeechBoundary,
    StatusNotice,
    Transcript,
    UtteranceDecided,
)

from .core import DaemonCore
from .hearing.language import script_language
from .hearing.microphone import MicrophoneService
from .hearing.settings import HearingSettings
from .hearing.sources import AudioSource
from .hearing_api import HeardTranscript, Hearing, HearingEvent, SpeechEnded, SpeechStarted, SteerableHearing
from .planning import Utterance

log = logging.getLogger(__name__)

# What the caller of a stream sees (StreamAudio's RecognitionEvent kinds).
StreamUpdate = SpeechBoundary | Transcript | StatusNotice | UtteranceDecided


@dataclass(frozen=True)
class _FinalUtterance:
    """A final transcript and the utterance it carries: what a stream's owner decides."""

    transcript: Transcript
    utterance: Utterance


class ListenerState(enum.Enum):
    CREATED = "created"
    RUNNING = "running"
    STOPPED = "stopped"


class Listener:
    """Connects ``hearing`` (and, when ``microphone`` is true, the microphone) to ``core``."""

    def __init__(self, core: DaemonCore, hearing: Hearing, settings: HearingSettings, *, microphone: bool = True,
                 source_factory: Callable[[], AudioSource] | None = None, dispatch_queue: int = 16) -> None:
        self.core = core
        self.hearing = hearing
        # The same front end when the daemon can steer it (SetListening, preloading, vocabulary); None otherwise.
        self.steered: SteerableHearing | None = hearing if isinstance(hearing, SteerableHearing) else None
        self.settings = settings
        self.state = ListenerState.CREATED
        self.microphone: MicrophoneService | None = None
        if microphone:
            self.microphone = MicrophoneService(hearing, self.heard, settings.microphone, source_factory=source_factory)
        self.dropped_utterances = 0
        self._utterances: asyncio.Queue[Utterance] = asyncio.Queue(maxsize=max(1, dispatch_queue))
        self._tasks: list[asyncio.Task] = []
        self.language_pins: dict[str, str] = {}  # document id → the language its speech is decoded in

    # ---- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        self.core.use_controls(self)
        if self.steered is not None:
            self.steered.context = self
        if self.settings.listen_mode is not self.core.listen_mode:
            self.core.set_listening(mode=self.settings.listen_mode)
        self._tasks.append(asyncio.create_task(self._dispatch(), name="speech-dispatcher"))
        if self.settings.preload and self.steered is not None:
            self._tasks.append(asyncio.create_task(self._load_model(self.steered), name="hearing-model-load"))
        if self.microphone is not None:
            self._tasks.append(self.microphone.start())
        self._show_microphone()
        self.state = ListenerState.RUNNING

    async def stop(self) -> None:
        if self.state is not ListenerState.RUNNING:
            return
        self.state = ListenerState.STOPPED
        if self.microphone is not None:
            await self.microphone.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self.core.use_controls(None)
        if self.steered is not None and self.steered.context is self:
            self.steered.context = None

    # ---- SpeechContext ----------------------------------------------------------------------------

    def listen_mode(self) -> ListenMode:
        return self.core.listen_mode

    def document_language(self) -> str:
        """The focused document's language by its script ("" when unknown): the recognizer leans toward it."""
        document = self._focused_document()
        text = getattr(document, "text", "")
        return script_language(text[-4000:]) if text else ""

    def text_before_cursor(self, limit: int) -> str:
        """What the focused document holds just before its cursor (the start of a selection)."""
        document = self._focused_document()
        if document is None or limit <= 0:
            return ""
        start = min(document.selection.anchor, document.selection.active)
        return document.text[max(0, start - limit):start]

    def _focused_document(self):
        focus = self.core.focus
        if not focus:
            return None
        session = self.core.sessions.get(focus[0])
        return session.documents.get(focus[1]) if session is not None else None

    def add_vocabulary(self, words: str, language: str) -> str:
        """Add ``words`` to the user's vocabulary (``language``: a code or text, for the message)."""
        from .hearing.vocabulary import VocabularyError

        russian = language == "ru" or script_language(language) == "ru"
        if self.steered is None:
            return "Этот распознаватель не берёт словарь." if russian else "This recognizer takes no vocabulary."
        try:
            term, new = self.steered.add_vocabulary(words)
        except VocabularyError as error:
            return f"Не добавлено: {error}." if russian else f"Not added: {error}."
        except OSError as error:
            return f"Словарь не сохранён: {error}." if russian else f"The vocabulary could not be saved: {error}."
        if not new:
            return f"«{term}» уже в словаре." if russian else f"“{term}” is already in the vocabulary."
        return f"«{term}» добавлено в словарь." if russian else f"Added “{term}” to the vocabulary."

    def pin_language(self, document_id: str, pinned: str, language: str) -> str:
        """Hear ``document_id`` in ``pinned`` ("en", "ru"; "" : detect again); ``language`` is for the message."""
        russian = language == "ru" or script_language(language) == "ru"
        if not document_id:
            return "Нет документа, для которого задать язык." if russian else "There is no document to pin a language for."
        allowed = self.settings.recognizer.languages
        if pinned and pinned not in allowed:
            return (f"Язык «{pinned}» не входит в [hearing.recognizer] languages ({', '.join(allowed)})." if russian
                    else f"“{pinned}” is not among [hearing.recognizer] languages ({', '.join(allowed)}).")
        if pinned:
            self.language_pins[document_id] = pinned
        else:
            self.language_pins.pop(document_id, None)
        return ""  # the engine's message stands

    def pinned_language(self) -> str:
        """The language pinned for the focused document ("" when none)."""
        focus = self.core.focus
        return self.language_pins.get(focus[1], "") if focus else ""

    # ---- what the streams hear ----------------------------------------------------------------------

    def _shown(self, event: HearingEvent) -> tuple[list[StreamUpdate], _FinalUtterance | None]:
        """One hearing event as a stream's caller sees it, its transcript shown to editors and the status;
        and the final to decide, when the event is one that carries an utterance."""
        if isinstance(event, SpeechStarted):
            return [SpeechBoundary(event.utterance_id, True, event.time_s)], None
        if isinstance(event, SpeechEnded):
            return [SpeechBoundary(event.utterance_id, False, event.time_s)], None
        if isinstance(event, StatusNotice):
            return [event], None
        if isinstance(event, HeardTranscript):
            self.core.transcript_heard(event.transcript)
            final = (_FinalUtterance(event.transcript, event.utterance)
                     if event.transcript.final and event.utterance is not None else None)
            return [event.transcript], final
        log.warning("the speech front end sent an unknown event %r", type(event).__name__)
        return [], None

    def heard(self, event: HearingEvent) -> None:
        """The microphone service's callback (on the event loop; must not block)."""
        _, final = self._shown(event)  # speech boundaries matter to StreamAudio callers, not to editors
        if final is not None:
            self._queue(final)
        elif isinstance(event, StatusNotice):
            self._notice(event)

    async def hear_call(self, pcm: AsyncIterator[bytes], start: AudioStart) -> AsyncIterator[StreamUpdate]:
        """A StreamAudio call's audio heard: what its caller sees, each final utterance decided (and, when
        ``start.act``, applied) for ``start.document_id`` before the next event."""
        async for event in self.hearing.stream(pcm, language=start.language):
            updates, final = self._shown(event)
            for update in updates:
                yield update
            if final is not None:
                utterance_id = final.transcript.utterance_id
                result = await self.core.handle_utterance(final.utterance, start.document_id, act=start.act)
                yield UtteranceDecided(utterance_id, result)

    def _queue(self, final: _FinalUtterance) -> None:
        try:
            self._utterances.put_nowait(final.utterance)
        except asyncio.QueueFull:
            # Only when editors stall for many utterances in a row; the text stays in status.
            self.dropped_utterances += 1
            self.core.broadcast_notice(NoticeLevel.WARNING, "speech-dropped",
                                       f"Too many utterances are waiting for the editor; "
                                       f"\"{final.transcript.text[:60]}\" was not acted on.")

    def _notice(self, notice: StatusNotice) -> None:
        if notice.state is ListenState.NO_AUDIO:
            self.core.audio_changed(notice.message)
        elif notice.state is ListenState.LISTENING:
            self.core.audio_changed("")
        if notice.code == "recognizer-missing":
            self.core.set_component(Component("recognizer", "missing", notice.message))
        elif notice.code == "speech-llm-unavailable":
            self.core.set_component(Component("speech-front-end", "cascade", notice.message))
        self._show_microphone()
        self.core.broadcast(replace(notice, state=self.core.listen_state))

    def _show_microphone(self) -> None:
        if self.microphone is None:
            self.core.set_component(Component("microphone", "off", "disabled ([hearing.microphone] enabled = false "
                                              "or `pushkin serve --no-mic`); StreamAudio still works"))
            return
        state = self.microphone.state.value if self.state is ListenerState.RUNNING else "starting"
        self.core.set_component(Component("microphone", state, self.microphone.detail))

    async def _dispatch(self) -> None:
        while True:
            utterance = await self._utterances.get()
            try:
                await self.core.handle_utterance(utterance)
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad utterance must not stop the ones after it
                log.exception("the dispatcher failed on %r", utterance.text[:80])

    async def _load_model(self, steered: SteerableHearing) -> None:
        name = steered.describe()
        self.core.set_component(Component("recognizer", "loading", name))
        try:
            await steered.load()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            message = str(error) or type(error).__name__
            log.error("the recognizer could not be loaded: %s", message)
            self.core.set_component(Component("recognizer", "missing", message))
            self.core.broadcast_notice(NoticeLevel.ERROR, "recognizer-missing", message)
            return
        self.core.set_component(Component("recognizer", "ready", name))

    # ---- ListeningControls --------------------------------------------------------------------------

    def set_listen_mode(self, mode: ListenMode) -> None:
        if self.steered is not None:
            self.steered.set_listen_mode(mode)

    def key(self, pressed: bool) -> None:
        if self.steered is None:
            return
        if pressed:
            self.steered.key_down()
        else:
            self.steered.key_up()

    def set_muted(self, muted: bool) -> None:
        if self.microphone is None:
            return
        if muted:
            self.microphone.mute()
        else:
            self.microphone.unmute()
