"""The one place the daemon is put together from its settings: planner, language model, persona, hearing.

    settings = load_settings(path, overrides)
    daemon = build_daemon(settings, report=print)
    await daemon.start() ... await daemon.stop(); daemon.close()

or ``serve(path, overrides, report=...)``, which does all of that until SIGTERM/SIGINT (what ``pushkin
serve`` runs). ``report`` receives the lines meant for the person who started the daemon (model loading
progress, why hearing or the speech-LLM path is off, the address served); the CLI prints them.

Everything heavy (the recognizer, the language model, the persona index) is imported inside the functions
that build it, so a daemon without the audio or model extras still starts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pushkin.proto.types import Component, Transcript

from .intent import IntentEngine
from .server import Daemon, DaemonError
from .settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:  # heavy or optional: imported where they are built (see the module's docstring)
    from pushkin.model.worker import ModelWorker

    from .hearing import SpeechFrontEnd
    from .rewrite import RewriteExecutor

log = logging.getLogger(__name__)

Report = Callable[[str], None]

__all__ = ["DaemonError", "SettingsError", "TranscribeError", "build_daemon", "build_speech_front_end", "microphone",
           "serve", "transcribe_file"]


def serve(config_path: str | Path | None, overrides: Mapping[str, object], *, report: Report = log.info) -> None:
    """Load the settings, build the daemon and serve until a signal; raises SettingsError (the settings
    cannot be used) or DaemonError (they can, but the daemon cannot start)."""
    daemon = build_daemon(load_settings(config_path, overrides), report=report)

    async def until_signal() -> None:
        address = await daemon.start()
        report(f"serving on {address.uri}")
        await daemon.run_until_signal()

    try:
        asyncio.run(until_signal())
    finally:
        daemon.close()


def build_daemon(settings: Settings, *, report: Report = log.info) -> Daemon:
    """The daemon ``settings`` describe, not started. Raises SettingsError for a [model] that cannot be built."""
    rewriter = persona = None
    if settings.model.enabled:
        from .persona import PersonaService
        from .rewrite import RewriteError, build_rewriter

        persona = PersonaService(settings.persona)
        persona.probe()  # counts what is indexed (no vectors, no model), before the event loop starts
        try:
            rewriter = build_rewriter(settings.model, style_profile=_style_profile(settings), persona=persona)
        except RewriteError as error:
            raise SettingsError(str(error)) from None
        settings = dataclasses.replace(settings, intent=dataclasses.replace(settings.intent, language_model=True))
    front_end_line = _front_end_component(settings, rewriter)
    speech_llm = front_end_line is not None and front_end_line.state == "speech-llm"  # only with a rewriter
    front = build_speech_front_end(settings, report=report,
                                   speech_llm_worker=rewriter.runner.worker if speech_llm and rewriter is not None else None)
    daemon = Daemon(settings, planner=IntentEngine(settings.intent), hearing=front, rewriter=rewriter,
                    persona=persona, release=front.close if front is not None else None)
    if front is not None and front_end_line is not None:
        daemon.core.set_component(front_end_line)
        if front_end_line.state == "cascade":
            report(front_end_line.detail)
    return daemon


def build_speech_front_end(settings: Settings, *, report: Report = log.info,
                           speech_llm_worker: ModelWorker | None = None) -> SpeechFrontEnd | None:
    """The speech front end ``[hearing]`` describes, hearing the user's vocabulary, or None (reported) when
    the audio extra is missing. With ``speech_llm_worker`` (the language model's worker thread) finals go
    through the speech-LLM path, on the cascade's own Whisper encoder."""
    try:
        from .hearing import SpeechFrontEnd
        from .hearing.commands import CommandVocabulary
        from .hearing.recognizer import FasterWhisperRecognizer
        from .hearing.vocabulary import PersonalVocabulary, UserVocabulary, default_user_vocabulary_path
    except ImportError as error:
        report(f"hearing is off: {error}; install the audio extra (pip install 'lil-pushkin[audio]')")
        return None
    # The model loads in the background at start. The user's [intent.phrases] are rescored on the audio
    # like the built-in commands.
    recognizer_settings = settings.hearing.recognizer
    commands = CommandVocabulary(settings.intent.phrases) if recognizer_settings.command_rescoring else None
    recognizer = FasterWhisperRecognizer(recognizer_settings, commands=commands, on_progress=report)
    if speech_llm_worker is not None:
        from pushkin.audio_lora.encoder import CTranslate2WhisperEncoder

        from .speech_llm import speech_llm_front_end

        def encoder():
            return CTranslate2WhisperEncoder(recognizer.whisper_model())  # no second copy of Whisper

        front = speech_llm_front_end(settings.hearing, recognizer, speech_llm_worker, encoder)
    else:
        front = SpeechFrontEnd(settings.hearing, recognizer)
    # Read here, before the event loop starts.
    front.use_vocabulary(PersonalVocabulary(recognizer_settings.vocabulary,
                                            UserVocabulary(default_user_vocabulary_path()),
                                            settings.persona.resolved_store_path))
    return front


def _front_end_component(settings: Settings, rewriter: RewriteExecutor | None) -> Component | None:
    """The status line for ``[model] front_end = "speech-llm"`` (None for the cascade, which has none)."""
    if settings.model.front_end != "speech-llm":
        return None
    from .speech_llm import COMPONENT, front_end_component

    if rewriter is None:
        return Component(COMPONENT, "cascade",
                         'front_end = "speech-llm" needs [model] enabled = true; hearing with the cascade')
    return front_end_component("speech-llm", settings.model.adapters)


def _style_profile(settings: Settings):
    """The user's indexed corpus as a StyleProfile for best-of-n (only read when best_of > 1)."""
    if settings.model.best_of <= 1:
        return None
    from .rewrite import load_style_profile

    return load_style_profile(settings.persona.resolved_store_path)


# ---- in-process hearing, no daemon: `pushkin transcribe` and `pushkin listen`'s microphone -----------


class TranscribeError(RuntimeError):
    """An audio file that cannot be read, or a recognizer model that is not there; the message says which."""


async def transcribe_file(path: str, *, model: str = "", languages: tuple[str, ...] = (),
                          allow_download: bool = True, report: Report = log.info) -> AsyncIterator[Transcript]:
    """The final, non-empty transcripts of the audio file at ``path``, recognized in this process with the
    default [hearing] settings (``model``, ``languages``: the recognizer's, when given). ``report`` gets the
    model's loading progress and the front end's notices. Raises TranscribeError."""
    from pushkin.proto.types import StatusNotice

    from .hearing import AudioFileError, HearingSettings, ModelMissing, SpeechFrontEnd
    from .hearing.recognizer import FasterWhisperRecognizer
    from .hearing.sources import FileSource, read_audio_file
    from .hearing_api import HeardTranscript

    settings = HearingSettings()
    defaults = settings.recognizer
    recognizer_settings = dataclasses.replace(defaults, partials=False, allow_download=allow_download,
                                              model=model or defaults.model,
                                              languages=tuple(languages) or defaults.languages)
    settings = dataclasses.replace(settings, recognizer=recognizer_settings)
    front = SpeechFrontEnd(settings, FasterWhisperRecognizer(recognizer_settings, on_progress=report))
    try:
        await asyncio.to_thread(read_audio_file, path)  # a bad file fails before the model loads
        await front.load()
        async for event in front.stream(FileSource(Path(path)).chunks()):
            if isinstance(event, HeardTranscript) and event.transcript.final and event.transcript.text:
                yield event.transcript
            elif isinstance(event, StatusNotice):
                report(event.message)
    except (AudioFileError, ModelMissing) as error:
        raise TranscribeError(str(error)) from error
    finally:
        front.close()


def microphone(device: str | int | None):
    """The microphone ``device`` (name or PortAudio index; None: the system input) as an AudioSource, checked
    now: raises AudioSourceError (from :mod:`pushkin.daemon.hearing.sources`) when there is none."""
    from .hearing.settings import MicrophoneSettings
    from .hearing.sources import MicrophoneSource, resolve_input_device

    resolve_input_device(device)
    return MicrophoneSource(MicrophoneSettings(device=device))
