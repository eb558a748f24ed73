"""A language pinned by voice for one document: Whisper base decodes that document's speech in it, and the
other documents' speech as detected."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import tempfile
from pathlib import Path

import numpy as np
from daemon.conftest import connect_editor, unix_settings
from hearing.speech import speak_piper

from pushkin.clients.daemon_client import DaemonClient
from pushkin.daemon.hearing.front_end import SpeechFrontEnd
from pushkin.daemon.hearing.settings import HearingSettings, MicrophoneSettings, RecognizerSettings
from pushkin.daemon.intent import IntentEngine
from pushkin.daemon.server import Daemon
from pushkin.proto.types import Transcript

RUSSIAN_DRAFT = "Мы говорили о поездке в Москву и о погоде."


async def _spoken(client: DaemonClient, clip: np.ndarray) -> Transcript:
    """The final transcript of ``clip`` streamed to the daemon (which also acts on it)."""
    audio = np.concatenate([np.zeros(8000, np.int16), clip, np.zeros(24000, np.int16)])

    async def pcm():
        for start in range(0, len(audio), 1600):
            yield audio[start:start + 1600].tobytes()
            await asyncio.sleep(0.002)

    finals = [u async for u in client.stream_audio(pcm()) if isinstance(u, Transcript) and u.final]
    assert len(finals) == 1, finals
    return finals[0]


async def test_dictate_in_english_pins_a_russian_documents_speech(whisper_base, piper_voice):
    # Piper's English "Da." in a Russian document: detection (leaning on the document) writes "Да".
    clip = speak_piper("Da.", piper_voice)
    recognizer = RecognizerSettings(model=str(whisper_base), cpu_threads=2, allow_download=False, partials=False)
    hearing = HearingSettings(recognizer=recognizer, preload=False,
                              microphone=MicrophoneSettings(enabled=False))
    with tempfile.TemporaryDirectory(prefix="pin", dir="/tmp") as folder:
        front = SpeechFrontEnd(hearing)
        daemon = Daemon(dataclasses.replace(unix_settings(Path(folder)), hearing=hearing), planner=IntentEngine(),
                        hearing=front)
        await daemon.start()
        editor, buffer, _ = await connect_editor(daemon.address, text=RUSSIAN_DRAFT)
        try:
            async with DaemonClient(daemon.address) as client:
                detected = await _spoken(client, clip)
                assert detected.language == "ru" and "Да" in buffer.text, detected
                await client.say("undo")
                assert buffer.text == RUSSIAN_DRAFT
                pinned = await client.say("Dictate in English.")
                assert pinned.intent.name == "pin_language" and pinned.message == "Dictating in English in this document."
                heard = await _spoken(client, clip)
                added = buffer.text[len(RUSSIAN_DRAFT):]
                # "Da." or "Yes." (the early decode may see a few ms less), written in English either way
                assert heard.language == "en" and buffer.text.startswith(RUSSIAN_DRAFT), (heard, buffer.text)
                assert added.strip() and not re.search("[а-яё]", added.lower()), added
                await client.say("undo")
                await client.say("Определяй язык сам.")
                again = await _spoken(client, clip)
                assert again.language == "ru", again
        finally:
            await editor.close()
            await daemon.stop(0.2)
            front.close()
