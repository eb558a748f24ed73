"""The microphone service: a named task that feeds the microphone into ``Hearing.stream``.

It reconnects on its own: no device (no sound card, unplugged) is reported once as a NO_AUDIO status
notice and retried with a doubling backoff; any other failure moves it to RESTARTING and it tries again.
It never takes the daemon down. Muting closes the microphone; unmuting opens it again.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable

from pushkin.proto.retry import ReconnectPolicy
from pushkin.proto.types import ListenState, NoticeLevel, StatusNotice

from ..hearing_api import Hearing, HearingEvent
from .settings import MicrophoneSettings
from .sources import AudioSource, MicrophoneSource, NoAudioDevice

log = logging.getLogger(__name__)


class MicrophoneState(enum.Enum):
    STOPPED = "stopped"
    STARTING = "starting"
    LISTENING = "listening"
    NO_AUDIO = "no-audio"
    MUTED = "muted"
    RESTARTING = "restarting"


class MicrophoneService:
    """Runs ``hearing.stream(microphone)`` in a task named ``hearing-microphone``; events go to ``on_event``."""

    def __init__(
        self,
        hearing: Hearing,
        on_event: Callable[[HearingEvent], None],
        settings: MicrophoneSettings = MicrophoneSettings(),
        *,
        source_factory: Callable[[], AudioSource] | None = None,
        language: str = "",
    ) -> None:
        self.hearing = hearing
        self.on_event = on_event
        self.settings = settings
        self.language = language
        self._source_factory = source_factory or (lambda: MicrophoneSource(settings))
        self.state = MicrophoneState.STOPPED
        self.detail = ""
        self.attempts = 0
        self._task: asyncio.Task | None = None
        self._muted = asyncio.Event()
        self._wake = asyncio.Event()
        self._reported_overflows = 0
        self._last_problem = ""

    @property
    def listen_state(self) -> ListenState:
        if self.state == MicrophoneState.MUTED:
            return ListenState.MUTED
        if self.state in (MicrophoneState.NO_AUDIO, MicrophoneState.RESTARTING):
            return ListenState.NO_AUDIO
        return ListenState.LISTENING

    def start(self) -> asyncio.Task:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="hearing-microphone")
        return self._task

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        self.state = MicrophoneState.STOPPED

    def mute(self) -> None:
        self._muted.set()
        self._wake.set()

    def unmute(self) -> None:
        self._muted.clear()
        self._wake.set()

    def _notify(self, level: NoticeLevel, code: str, message: str, state: ListenState | None) -> None:
        try:
            self.on_event(StatusNotice(level, code, message, state))
        except Exception:  # a faulty listener must not stop the microphone
            log.exception("hearing event listener failed")

    async def _sleep_or_wake(self, seconds: float) -> None:
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        except TimeoutError:
            pass

    async def _run(self) -> None:
        retry = ReconnectPolicy(self.settings.retry_initial_s, self.settings.retry_max_s, jitter=0.0)
        failures = 0
        while True:
            if self._muted.is_set():
                self.state = MicrophoneState.MUTED
                self._notify(NoticeLevel.INFO, "microphone-muted", "The microphone is off.", ListenState.MUTED)
                while self._muted.is_set():
                    await self._sleep_or_wake(3600)
                continue
            self.state = MicrophoneState.STARTING
            self.attempts += 1
            source = self._source_factory()
            try:
                await self._listen(source)
                failures = 0
                if not self._muted.is_set():
                    # The source ended by itself (a microphone never should): start it again.
                    self.state = MicrophoneState.RESTARTING
                    await self._sleep_or_wake(retry.delay(failures))
                continue
            except asyncio.CancelledError:
                raise
            except NoAudioDevice as error:
                first = self._last_problem != str(error)
                self._last_problem = str(error)
                self.state = MicrophoneState.NO_AUDIO
                self.detail = str(error)
                if first:
                    self._notify(
                        NoticeLevel.WARNING,
                        "no-audio-device",
                        f"{error} Retrying; typed utterances keep working.",
                        ListenState.NO_AUDIO,
                    )
            except Exception as error:
                log.exception("the microphone loop failed; restarting")
                self.state = MicrophoneState.RESTARTING
                self.detail = f"{type(error).__name__}: {error}"
                self._notify(NoticeLevel.ERROR, "hearing-restarting", f"Hearing failed ({self.detail}); restarting.", ListenState.NO_AUDIO)
            await self._sleep_or_wake(retry.delay(failures))
            failures += 1

    async def _listen(self, source: AudioSource) -> None:
        muted = self._muted

        async def pcm():
            async for chunk in source.chunks():
                if muted.is_set():
                    return
                if self.state != MicrophoneState.LISTENING:
                    self.state = MicrophoneState.LISTENING
                    self._last_problem = ""
                    self.detail = getattr(source, "name", "")
                    self._notify(NoticeLevel.INFO, "microphone-listening", f"Listening on {self.detail}.", ListenState.LISTENING)
                yield chunk
                self._check_overflows(source)

        async for event in self.hearing.stream(pcm(), language=self.language):
            try:
                self.on_event(event)
            except Exception:
                log.exception("hearing event listener failed")

    def _check_overflows(self, source: AudioSource) -> None:
        lost = getattr(source, "overflows", 0) + getattr(source, "dropped_blocks", 0)
        if lost > self._reported_overflows:
            self._reported_overflows = lost
            self._notify(
                NoticeLevel.WARNING,
                "audio-overflow",
                f"{lost} block(s) of microphone audio were lost (the machine is busy).",
                None,
            )
