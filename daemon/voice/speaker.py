"""The voice that answers: replies queued, spoken in turn, never over the user, never heard back.

:class:`Voice` owns one named task, ``voice-speaker``, and one worker thread that owns the speech engine
(synthesis and playback both block there). Before each reply it waits until the speech front end's VAD
reports silence (:meth:`user_speaking`); while it speaks, and for ``[voice] tail_ms`` after, the
recognizer's input is silenced by :class:`~pushkin.daemon.voice.gate.VoiceGatedHearing`
(:meth:`hearing_muted`), so nothing it says comes back as dictation.

What it says after an utterance (:meth:`answer`): the text of "read that"; a refusal ("Nothing to
scratch."), an error (an edit that was not applied) and a mode change when their switches are on.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pushkin.proto.types import Component, IntentKind, NoticeLevel

from ..hearing.language import script_language
from .engines import SpeechEngine, VoiceMissing, build_engine, piper_voice_path
from .settings import VoiceSettings
from .sinks import AudioSink, NoOutputDevice, build_sink

log = logging.getLogger(__name__)

READ_COMMAND = "read_that"  # the intent engine's command whose args["text"] is to be read aloud
_MODE_COMMANDS = {"sleep", "wake", "dictation_mode", "command_mode"}
_QUEUE = 8  # replies waiting; a reply older than this many is dropped (the user has moved on)


class VoiceState(enum.Enum):
    IDLE = "idle"
    WAITING = "waiting"  # a reply is ready; the user is speaking
    SPEAKING = "speaking"
    STOPPED = "stopped"


@dataclass(frozen=True)
class Reply:
    text: str
    language: str  # "en" / "ru"
    kind: str  # "read", "refusal", "error", "mode"


@dataclass(frozen=True)
class SpokenReply:
    """A reply that was spoken: where it went and for how long (the status and tests read these)."""

    reply: Reply
    where: str
    duration_s: float
    voice: str


Notify = Callable[[NoticeLevel, str, str], None]


class Voice:
    def __init__(self, settings: VoiceSettings, *, notify: Notify | None = None,
                 report: Callable[[Component], None] | None = None, engine: SpeechEngine | None = None,
                 sink: AudioSink | None = None) -> None:
        self.settings = settings
        self.engine = engine or build_engine(settings)
        self.sink = sink or build_sink(settings.sink)
        self.state = VoiceState.IDLE
        self.spoken: collections.deque[SpokenReply] = collections.deque(maxlen=20)
        self._notify = notify or (lambda level, code, message: None)
        self._report = report or (lambda component: None)
        self._queue: asyncio.Queue[Reply] = asyncio.Queue(maxsize=_QUEUE)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="voice")
        self._task: asyncio.Task | None = None
        self._speaking = False
        self._deaf_until = 0.0  # monotonic time until which the recognizer hears silence
        self._users_speaking: set[str] = set()  # utterance ids the VAD opened and has not closed
        self._silence = asyncio.Event()
        self._silence.set()
        self._problem = False

    # ---- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> asyncio.Task:
        # The check reads the voice's checksum and asks PortAudio: off the event loop, before serving.
        problem = await asyncio.get_running_loop().run_in_executor(self._worker, self.problem)
        self._task = asyncio.create_task(self._run(), name="voice-speaker")
        self._report(self.component(problem))
        if problem:
            log.warning("the voice cannot speak: %s", problem)
            self._notify(NoticeLevel.WARNING, "voice-unavailable", f"The voice cannot speak: {problem}")
        return self._task

    def problem(self) -> str:
        """Why the voice cannot speak English now ("" when it can): checked at start, cheaply (no model load)."""
        check = getattr(self.sink, "check", None)
        try:
            if callable(check):
                check()
            if self.settings.engine == "piper":
                piper_voice_path(self.settings, "en")
        except (VoiceMissing, NoOutputDevice) as problem:
            return str(problem)
        return ""

    async def stop(self) -> None:
        self.state = VoiceState.STOPPED
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._worker.shutdown(wait=False, cancel_futures=True)

    def component(self, detail: str = "") -> Component:
        if detail:
            return Component("voice", "problem", detail)
        russian = "" if self.settings.voice_ru or self.settings.engine != "piper" else \
            "; no Russian voice is installed ([voice] voice_ru)"
        return Component("voice", "ready", f"{self.engine.describe()} to {self.sink.describe()}; "
                                           f"tail {self.settings.tail_ms} ms{russian}")

    # ---- the microphone side ----------------------------------------------------------------------

    def hearing_muted(self) -> bool:
        """True while the voice sounds and for the tail after it: the recognizer must hear silence."""
        return self._speaking or time.monotonic() < self._deaf_until

    def speech_started(self, utterance_id: str) -> None:
        self._users_speaking.add(utterance_id)
        self._silence.clear()

    def speech_ended(self, utterance_id: str) -> None:
        self._users_speaking.discard(utterance_id)
        if not self._users_speaking:
            self._silence.set()

    def stream_ended(self, utterance_ids: set[str]) -> None:
        """A stream closed: whatever it left open is not speech any more."""
        for utterance_id in utterance_ids:
            self.speech_ended(utterance_id)

    def user_speaking(self) -> bool:
        return bool(self._users_speaking)

    # ---- what to say ------------------------------------------------------------------------------

    def say(self, text: str, language: str = "", kind: str = "read") -> bool:
        """Queue ``text``; False when there is nothing to say. The oldest waiting reply makes room."""
        text = " ".join(text.split())[: self.settings.max_chars]
        if not text:
            return False
        language = language if language in ("en", "ru") else (script_language(text) or "en")
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(Reply(text, language, kind))
        return True

    def answer(self, utterance, result) -> str:
        """Speak what ``result`` (the UtteranceResult of ``utterance``) calls for; returns the reply's kind."""
        intent = result.intent
        language = utterance.language if utterance.language in ("en", "ru") else ""
        if intent.name == READ_COMMAND and intent.args.get("text"):
            self.say(intent.args["text"], "", "read")
            return "read"
        if not result.message:
            return ""
        if intent.name in _MODE_COMMANDS:
            kind, wanted = "mode", self.settings.speak_modes
        elif not result.applied:
            # The planner's own IGNORED answers (asleep, a hesitation, chatter in command mode) stay quiet: a
            # voice that answered every murmur would be worse than none. The daemon's failures are errors.
            if intent.kind is IntentKind.IGNORED and intent.source != "daemon":
                return ""
            kind, wanted = "error", self.settings.speak_errors
        elif not result.batches and intent.kind in (IntentKind.COMMAND, IntentKind.DICTATION):
            # A command that found nothing to do; words that went nowhere ("No document is focused.").
            kind, wanted = "refusal", self.settings.speak_refusals
        else:
            return ""
        if wanted and self.say(result.message, language or script_language(result.message) or "en", kind):
            return kind
        return ""

    # ---- the speaker task ---------------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            reply = await self._queue.get()
            try:
                await self._wait_for_silence()
            except TimeoutError:
                self._notify(NoticeLevel.INFO, "voice-skipped",
                             f"The voice did not read “{reply.text[:60]}”: you kept speaking.")
                continue
            try:
                audio = await loop.run_in_executor(self._worker, self.engine.synthesize, reply.text, reply.language)
                # The user may have started while the voice was thinking: wait again, then sound at once.
                await self._wait_for_silence()
                self.state = VoiceState.SPEAKING
                self._speaking = True
                try:
                    where = await loop.run_in_executor(self._worker, self.sink.play, audio)
                finally:
                    self._speaking = False
                    self._deaf_until = time.monotonic() + self.settings.tail_ms / 1000
                    self.state = VoiceState.IDLE
                self.spoken.append(SpokenReply(reply, where, audio.duration_s, audio.voice))
                if self._problem:
                    self._problem = False
                    self._report(self.component())
            except asyncio.CancelledError:
                raise
            except TimeoutError:
                self._notify(NoticeLevel.INFO, "voice-skipped",
                             f"The voice did not read “{reply.text[:60]}”: you kept speaking.")
            except (VoiceMissing, NoOutputDevice) as problem:
                message = str(problem)
                log.warning("the voice cannot speak: %s", message)
                self._problem = True
                self._report(self.component(message))
                self._notify(NoticeLevel.WARNING, "voice-unavailable", f"The voice cannot speak: {message}")
            except Exception as error:  # one bad reply must not silence the ones after it
                log.exception("the voice failed on %r", reply.text[:60])
                self._notify(NoticeLevel.WARNING, "voice-failed", f"The voice failed: {type(error).__name__}: {error}")

    async def _wait_for_silence(self) -> None:
        if self._silence.is_set():
            return
        self.state = VoiceState.WAITING
        try:
            await asyncio.wait_for(self._silence.wait(), self.settings.wait_silence_s)
        finally:
            self.state = VoiceState.IDLE
