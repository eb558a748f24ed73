"""The voice on real weights: the Piper joe voice (resolved through the model catalog, as a user's daemon
does) reads a selection to a WAV file sink, real Whisper base hears the words in that WAV, and the WAV
streamed back through the daemon's own hearing (Whisper base) while the voice speaks is not dictated;
after the voice and its tail it is, word for word."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from daemon.conftest import unix_settings
from daemon.test_voice import as_16k, editor_with_selection, paced, replies, speech_measure, wavs

from pushkin.clients.daemon_client import DaemonClient
from pushkin.daemon.hearing import HearingSettings, SpeechFrontEnd
from pushkin.daemon.hearing.settings import RecognizerSettings
from pushkin.daemon.intent import IntentEngine
from pushkin.daemon.server import Daemon
from pushkin.daemon.voice import VoiceState
from pushkin.proto.types import AudioStart, Selection, SpeechBoundary, Transcript, UtteranceDecided


@pytest.fixture
def short_dir():
    path = Path(tempfile.mkdtemp(prefix="pk-"))  # a Unix socket path must stay under 108 bytes
    yield path
    shutil.rmtree(path, ignore_errors=True)


SENTENCE = "Please send the quarterly report to Maria before Friday afternoon."


def words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


async def test_piper_reads_the_selection_and_its_voice_is_not_dictated_back(whisper_base, piper_voice, short_dir):
    from faster_whisper import WhisperModel

    sink = short_dir / "spoken"
    hearing = HearingSettings(recognizer=RecognizerSettings(model=str(whisper_base), cpu_threads=2, partials=False,
                                                            languages=("en",)), preload=False)
    hearing = dataclasses.replace(hearing, microphone=dataclasses.replace(hearing.microphone, enabled=False))
    settings = dataclasses.replace(unix_settings(short_dir, voice={"enabled": True, "sink": f"file:{sink}", "tail_ms": 300}),
                                   hearing=hearing)
    front = SpeechFrontEnd(settings.hearing)
    await asyncio.to_thread(front.recognizer.load)
    daemon = Daemon(settings, planner=IntentEngine(), hearing=front)
    await daemon.start()
    editor, buffer = await editor_with_selection(daemon.address, SENTENCE, Selection(0, len(SENTENCE)))
    async with DaemonClient(daemon.address) as client:
        await asyncio.sleep(0.1)
        await client.say("read that")
        [spoken] = await wavs(sink, 1, timeout_s=60)
        assert daemon.voice.state is VoiceState.SPEAKING
        echo = as_16k(spoken, short_dir)
        silence = np.zeros(8000, np.int16)
        heard_back = [u async for u in client.stream_audio(paced(np.concatenate([echo, silence])), AudioStart(language="en"))]
        assert daemon.voice.hearing_muted()  # all of it arrived while the voice spoke
        assert not [u for u in heard_back if isinstance(u, (Transcript, UtteranceDecided, SpeechBoundary))]
        assert buffer.text == SENTENCE
        [reply] = await replies(daemon.voice, 1)
        while daemon.voice.hearing_muted():
            await asyncio.sleep(0.05)
        buffer.selection = Selection.cursor(len(SENTENCE))  # locally only: the daemon still sees the selection
        heard_after = [u async for u in client.stream_audio(paced(np.concatenate([silence, echo, silence, silence])),
                                                            AudioStart(language="en"))]
    assert reply.voice == "en_US-joe-medium.onnx" and reply.reply.text == SENTENCE
    duration, loudest = speech_measure(spoken)
    assert 2.0 < duration < 10 and loudest > 0.05
    # An independent ear: Whisper base on the WAV itself hears the sentence.
    model = WhisperModel(str(whisper_base), device="cpu", compute_type="int8", cpu_threads=2)
    segments, _ = model.transcribe(echo.astype(np.float32) / 32768, language="en", beam_size=1)
    heard = words(" ".join(segment.text for segment in segments))
    assert {"send", "quarterly", "report", "maria", "friday"} <= set(heard), heard
    # After the voice, the same audio is the user's: dictated over the selection, the words as spoken.
    finals = [u.text for u in heard_after if isinstance(u, Transcript) and u.final]
    decided = [u for u in heard_after if isinstance(u, UtteranceDecided)]
    assert decided and decided[0].result.applied, finals
    assert {"quarterly", "report", "friday"} <= set(words(buffer.text)), buffer.text
    await editor.close()
    await daemon.stop(0.2)
    front.close()


def test_a_configured_russian_piper_voice_is_used_for_russian_text(piper_voice):
    # No Russian Piper voice is installed; any Piper file set as voice_ru proves the setting is honoured.
    from pushkin.daemon.voice import PiperEngine, VoiceSettings

    engine = PiperEngine(VoiceSettings(enabled=True, voice_ru=str(piper_voice)))
    audio = engine.synthesize("Привет, мир.", "ru")
    assert audio.language == "ru" and audio.voice == piper_voice.name and audio.sample_rate == 22050
    assert audio.duration_s > 0.3 and float(np.abs(audio.samples).max()) > 1000
