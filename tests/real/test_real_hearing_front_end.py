"""End of speech → final transcript with Whisper base: a whole command closes its utterance before the
hangover; dictation waits the hangover out and reuses the decode made at the start of the pause."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest
from hearing.speech import speak_piper

from pushkin.daemon.hearing.front_end import SpeechFrontEnd
from pushkin.daemon.hearing.recognizer import FasterWhisperRecognizer
from pushkin.daemon.hearing.settings import HearingSettings, RecognizerSettings, VadSettings
from pushkin.daemon.hearing_api import HeardTranscript

RATE = 16000
HANGOVER_MS = 1500  # long, so that closing early is unmistakable


async def final_after_speech_end(front: SpeechFrontEnd, clip: np.ndarray) -> tuple[str, float, int]:
    """Stream 0.5 s of silence, the clip, 3 s of silence in real time; returns the final text, how much
    audio (s) had been fed past the end of the voice when it arrived, and how many decodes ran."""
    audio = np.concatenate([np.zeros(RATE // 2, np.int16), clip, np.zeros(3 * RATE, np.int16)])
    voice_end_s = 0.5 + len(clip) / RATE
    fed = 0
    step = 480  # 30 ms, as a microphone hands it over

    async def pcm():
        nonlocal fed
        started = time.perf_counter()
        for index, offset in enumerate(range(0, len(audio), step)):
            await asyncio.sleep(max(0.0, started + index * 0.03 - time.perf_counter()))
            fed = offset + step
            yield audio[offset:offset + step].tobytes()

    calls = []
    transcribe = front.recognizer.transcribe
    front.recognizer.transcribe = lambda *a, **k: calls.append(k.get("final")) or transcribe(*a, **k)
    try:
        async for event in front.stream(pcm()):
            if isinstance(event, HeardTranscript) and event.transcript.final and event.transcript.text:
                return event.transcript.text, fed / RATE - voice_end_s, calls.count(True)
    finally:
        front.recognizer.transcribe = transcribe
    raise AssertionError("no final transcript")


@pytest.fixture(scope="module")
def recognizer(whisper_base):
    recognizer = FasterWhisperRecognizer(RecognizerSettings(model=str(whisper_base), cpu_threads=2, partials=False))
    recognizer.load()
    return recognizer


def front_end(recognizer, early_decode_ms: int) -> SpeechFrontEnd:
    settings = HearingSettings(vad=VadSettings(hangover_ms=HANGOVER_MS, early_decode_ms=early_decode_ms),
                               recognizer=recognizer.settings)
    return SpeechFrontEnd(settings, recognizer)


async def test_a_whole_command_closes_before_the_hangover(recognizer, piper_voice):
    clip = speak_piper("Scratch that.", piper_voice)
    text, after_s, _ = await final_after_speech_end(front_end(recognizer, 120), clip)
    assert text == "Scratch that."
    assert after_s < HANGOVER_MS / 1000 - 0.4, f"the command's final came {after_s:.2f} s after the voice ended"
    # Without the early decode it waits the hangover out.
    text, after_s, _ = await final_after_speech_end(front_end(recognizer, 0), clip)
    assert text == "Scratch that." and after_s >= HANGOVER_MS / 1000


async def test_dictation_waits_the_hangover_and_reuses_the_early_decode(recognizer, piper_voice):
    clip = speak_piper("The trial period ends in May.", piper_voice)
    text, after_s, finals = await final_after_speech_end(front_end(recognizer, 120), clip)
    assert text == "The trial period ends in May."
    assert after_s >= HANGOVER_MS / 1000 - 0.1  # a pause in dictation is not the end of it
    assert finals == 1  # the decode made at the start of the pause was the final one
