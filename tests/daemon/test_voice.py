"""The voice that answers, in a real daemon on a real socket: "read that" and the spoken replies go to a
file sink as WAVs of real speech (espeak-ng, the engine chosen explicitly here; Piper on real weights is in
tests/real/test_real_voice.py); a missing voice or output device is a clear status line and notice, never
a crash; and the round trip: the voice's own WAV streamed back through the daemon's hearing while it speaks
is not dictated (and the same WAV after it has finished is, so the gate is what kept it out)."""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile

from pushkin.clients.buffer import EditorBuffer
from pushkin.clients.daemon_client import DaemonClient
from pushkin.clients.editor import EditorClient, ReconnectPolicy
from pushkin.daemon.hearing import HearingSettings, SpeechFrontEnd
from pushkin.daemon.intent import IntentEngine
from pushkin.daemon.server import Daemon
from pushkin.daemon.settings import SettingsError, load_settings
from pushkin.daemon.voice import VoiceSettings, VoiceState
from pushkin.proto.types import AudioStart, Selection, SpeechBoundary, StatusNotice, Transcript, UtteranceDecided

from .conftest import Recorder, connect_editor, unix_settings


def voice_settings(folder: Path, sink_dir: Path, **voice):
    values = {"enabled": True, "engine": "espeak-ng", "sink": f"file:{sink_dir}", "tail_ms": 300, **voice}
    return unix_settings(folder, voice=values)


async def editor_with_selection(address, text: str, selection: Selection):
    """An editor with one focused document whose selection is ``selection`` when it opens."""
    recorder = Recorder()
    client = EditorClient(address, editor_name="test", on_event=recorder, reconnect=ReconnectPolicy(enabled=False))
    await client.start()
    buffer = EditorBuffer("doc", text=text, version=1)
    buffer.selection = selection
    await client.open(buffer, focus=True)
    return client, buffer


async def wavs(folder: Path, count: int, timeout_s: float = 20.0) -> list[Path]:
    """The first ``count`` WAVs the file sink wrote, waiting for them."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        found = sorted(folder.glob("*.wav")) if folder.exists() else []
        if len(found) >= count or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.05)


async def replies(voice, count: int, timeout_s: float = 20.0) -> list:
    """The first ``count`` replies the voice finished speaking, waiting for them."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while len(voice.spoken) < count and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    return list(voice.spoken)


def speech_measure(path: Path) -> tuple[float, float]:
    """(duration in seconds, RMS of the loudest 100 ms in full scale) of a mono int16 WAV."""
    with wave.open(str(path)) as reader:
        assert reader.getnchannels() == 1 and reader.getsampwidth() == 2
        rate = reader.getframerate()
        samples = np.frombuffer(reader.readframes(reader.getnframes()), np.int16).astype(np.float32) / 32768
    window = rate // 10
    frames = samples[: len(samples) // window * window].reshape(-1, window)
    return len(samples) / rate, float(np.sqrt((frames ** 2).mean(axis=1)).max())


def as_16k(path: Path, folder: Path) -> np.ndarray:
    """The WAV at 16 kHz int16; sox resamples, so the check does not lean on the code under test."""
    out = folder / (path.stem + "-16k.wav")
    subprocess.run(["sox", str(path), "-r", "16000", "-c", "1", "-b", "16", str(out)], check=True, capture_output=True)
    samples, rate = soundfile.read(str(out), dtype="int16")
    assert rate == 16000
    return samples


async def test_read_that_speaks_the_selection_to_a_wav_and_changes_nothing(short_dir):
    sink = short_dir / "spoken"
    daemon = Daemon(voice_settings(short_dir, sink), planner=IntentEngine())
    await daemon.start()
    text = "Hello there. The quick brown fox jumps over the lazy dog."
    editor, buffer = await editor_with_selection(daemon.address, text, Selection(13, len(text)))
    async with DaemonClient(daemon.address) as client:
        await asyncio.sleep(0.1)
        result = await client.say("read that")
        status = await client.status()
    assert result.intent.name == "read_that" and "The quick brown fox" in result.message
    [spoken] = await wavs(sink, 1)
    duration, loudest = speech_measure(spoken)
    assert 1.5 < duration < 10 and loudest > 0.05  # a sentence of speech, not silence or a click
    [reply] = await replies(daemon.voice, 1)
    assert reply.reply.text == text[13:] and reply.reply.kind == "read" and reply.where == str(spoken)
    assert buffer.text == text  # reading is not editing
    assert any(c.name == "voice" and c.state == "ready" and "espeak-ng" in c.detail for c in status.components)
    await editor.close()
    await daemon.stop(0.2)


async def test_read_that_without_a_selection_reads_the_last_dictated_phrase(short_dir):
    sink = short_dir / "spoken"
    daemon = Daemon(voice_settings(short_dir, sink), planner=IntentEngine())
    await daemon.start()
    editor, buffer, _ = await connect_editor(daemon.address, text="Typed by hand. ")
    async with DaemonClient(daemon.address) as client:
        await client.say("the meeting moves to Friday")
        await client.say("прочитай это")
    [spoken] = await wavs(sink, 1)
    [reply] = await replies(daemon.voice, 1)
    assert reply.reply.text.startswith("The meeting moves to Friday")
    assert speech_measure(spoken)[1] > 0.05
    assert buffer.text.startswith("Typed by hand. The meeting moves to Friday")
    await editor.close()
    await daemon.stop(0.2)


async def test_refusals_and_mode_changes_are_spoken_each_behind_its_switch(short_dir):
    spoken_dir, quiet_dir = short_dir / "spoken", short_dir / "quiet"
    settings = dataclasses.replace(voice_settings(short_dir, spoken_dir), limits=dataclasses.replace(
        voice_settings(short_dir, spoken_dir).limits, max_utterance_chars=40))
    daemon = Daemon(settings, planner=IntentEngine())
    await daemon.start()
    editor, _, _ = await connect_editor(daemon.address, text="")
    async with DaemonClient(daemon.address) as client:
        refused = await client.say("scratch that")
        await client.say("command mode")
        await client.say("go to sleep")
        asleep = await client.say("what a lovely day")  # the planner ignores it; the voice stays quiet too
        await client.say("wake up")
        await client.say("dictation mode")
        failed = await client.say("this sentence is far longer than the forty allowed")
    assert refused.message == "Nothing to scratch." and asleep.message.startswith("Sleeping")
    assert not failed.applied and "the limit is 40" in failed.message
    assert len(await wavs(spoken_dir, 6)) == 6
    assert [(s.reply.kind, s.reply.text) for s in await replies(daemon.voice, 6)] == [
        ("refusal", "Nothing to scratch."), ("mode", "Command mode: only commands are acted on."),
        ("mode", "Sleeping: say “wake up” to resume."), ("mode", "Listening."), ("mode", "Dictation mode."),
        ("error", failed.message)]
    for wav in sorted(spoken_dir.glob("*.wav")):
        assert speech_measure(wav)[1] > 0.05
    await editor.close()
    await daemon.stop(0.2)

    quiet_settings = voice_settings(short_dir, quiet_dir, speak_refusals=False, speak_modes=False, speak_errors=False)
    quiet = Daemon(dataclasses.replace(quiet_settings, limits=settings.limits), planner=IntentEngine())
    await quiet.start()
    editor, _, _ = await connect_editor(quiet.address, text="")
    async with DaemonClient(quiet.address) as client:
        await client.say("scratch that")
        await client.say("command mode")
        await client.say("dictation mode")
        await client.say("this sentence is far longer than the forty allowed")
    await asyncio.sleep(1.0)
    assert list(quiet.voice.spoken) == [] and not quiet_dir.exists()
    await editor.close()
    await quiet.stop(0.2)


async def test_with_the_voice_off_read_that_says_how_to_turn_it_on(short_dir):
    daemon = Daemon(unix_settings(short_dir), planner=IntentEngine())
    await daemon.start()
    assert daemon.voice is None
    editor, buffer = await editor_with_selection(daemon.address, "Some words.", Selection(0, 4))
    async with DaemonClient(daemon.address) as client:
        await asyncio.sleep(0.1)
        result = await client.say("read that")
    assert "[voice] enabled = true" in result.message and buffer.text == "Some words."
    await editor.close()
    await daemon.stop(0.2)


async def test_a_missing_voice_is_a_clear_status_and_notice_and_dictation_goes_on(short_dir, monkeypatch):
    monkeypatch.setenv("PUSHKIN_MODELS_DIR", str(short_dir / "no-models"))
    sink = short_dir / "spoken"
    daemon = Daemon(voice_settings(short_dir, sink, engine="piper"), planner=IntentEngine())
    await daemon.start()
    editor, buffer, seen = await connect_editor(daemon.address, text="")
    async with DaemonClient(daemon.address) as client:
        status = await client.status()
        [voice] = [c for c in status.components if c.name == "voice"]
        assert voice.state == "problem" and "pushkin models fetch piper-joe" in voice.detail
        assert "[voice] voice_en" in voice.detail
        await client.say("one two three")
        result = await client.say("read that")
        assert result.applied and buffer.text.startswith("One two three")
        notice = await seen.wait_for(lambda e: isinstance(e, StatusNotice) and e.code == "voice-unavailable"
                                     and "piper-joe" in e.message)
        await client.say("раз два три")
        await client.say("прочитай это")
        await seen.wait_for(lambda e: isinstance(e, StatusNotice) and "no Russian voice is installed" in e.message)
    assert "pushkin models fetch piper-joe" in notice.message and not sink.exists()
    await editor.close()
    await daemon.stop(0.2)


async def test_a_configured_voice_file_that_is_missing_names_its_setting(short_dir):
    daemon = Daemon(voice_settings(short_dir, short_dir / "spoken", engine="piper",
                                   voice_en=str(short_dir / "nowhere.onnx")), planner=IntentEngine())
    await daemon.start()
    async with DaemonClient(daemon.address) as client:
        status = await client.status()
    [voice] = [c for c in status.components if c.name == "voice"]
    assert voice.state == "problem" and "nowhere.onnx ([voice] voice_en) does not exist" in voice.detail
    await daemon.stop(0.2)


async def test_no_output_device_is_a_notice_not_a_crash(short_dir):
    import sounddevice as sd  # asked directly, so the test knows which answer this machine must give

    try:
        sd.query_devices(kind="output")
        has_output = True
    except (sd.PortAudioError, ValueError):
        has_output = False
    daemon = Daemon(unix_settings(short_dir, voice={"enabled": True, "engine": "espeak-ng"}), planner=IntentEngine())
    await daemon.start()
    async with DaemonClient(daemon.address) as client:
        [voice] = [c for c in (await client.status()).components if c.name == "voice"]
        result = await client.say("command mode")
    if has_output:  # a machine with a sound card: the voice is ready for it
        assert voice.state == "ready"
    else:
        assert voice.state == "problem" and "no audio output device" in voice.detail and "file:" in voice.detail
        assert result.message.startswith("Command mode")
        await asyncio.sleep(0.5)
        assert daemon.voice.state is VoiceState.IDLE and daemon.voice._task is not None and not daemon.voice._task.done()
    await daemon.stop(0.2)


def test_bad_voice_settings_are_errors_naming_the_key(tmp_path):
    for body, words in [('engine = "festival"', "voice.engine must be one of"),
                        ('sink = "speakers"', "voice.sink must be"),
                        ('sink = "file:"', "names no folder"),
                        ("tail_ms = -5", "voice.tail_ms")]:
        path = tmp_path / "config.toml"
        path.write_text(f"[voice]\nenabled = true\n{body}\n")
        with pytest.raises(SettingsError, match=words.replace(".", r"\.")):
            load_settings(path)
    path.write_text("[voice]\n")
    assert load_settings(path).voice == VoiceSettings()  # off, Piper, the default device


async def paced(audio: np.ndarray, chunk_ms: int = 100, pause_s: float = 0.01):
    step = 16 * chunk_ms
    for start in range(0, len(audio), step):
        yield audio[start:start + step].tobytes()
        await asyncio.sleep(pause_s)


@pytest.mark.slow
async def test_the_voice_is_not_heard_back_as_dictation(short_dir, tiny_recognizer_settings):
    hearing = HearingSettings(recognizer=tiny_recognizer_settings, preload=False)
    settings = dataclasses.replace(voice_settings(short_dir, short_dir / "spoken"), hearing=dataclasses.replace(
        hearing, microphone=dataclasses.replace(hearing.microphone, enabled=False)))
    front = SpeechFrontEnd(settings.hearing)
    daemon = Daemon(settings, planner=IntentEngine(), hearing=front)
    await daemon.start()
    text = "The quick brown fox jumps over the lazy dog, and then it runs far away into the woods."
    editor, buffer = await editor_with_selection(daemon.address, text, Selection(0, len(text)))
    async with DaemonClient(daemon.address) as client:
        await asyncio.sleep(0.1)
        await client.say("read that")
        [spoken] = await wavs(short_dir / "spoken", 1)
        assert daemon.voice.state is VoiceState.SPEAKING  # the file sink holds the voice as long as it sounds
        echo = as_16k(spoken, short_dir)
        silence = np.zeros(8000, np.int16)
        heard_back = [u async for u in client.stream_audio(paced(np.concatenate([echo, silence])), AudioStart(language="en"))]
        assert daemon.voice.hearing_muted()  # the whole echo arrived while the voice still spoke
        assert not [u for u in heard_back if isinstance(u, (Transcript, UtteranceDecided, SpeechBoundary))]
        assert buffer.text == text and daemon.hearing.muted_chunks > 0
        # Once the voice and its tail are over, the very same audio is speech again: it is dictated.
        while daemon.voice.hearing_muted():
            await asyncio.sleep(0.05)
        heard_after = [u async for u in client.stream_audio(paced(np.concatenate([silence, echo, silence, silence])),
                                                            AudioStart(language="en"))]
    decided = [u for u in heard_after if isinstance(u, UtteranceDecided)]
    assert decided and decided[0].result.applied and buffer.text != text
    await editor.close()
    await daemon.stop(0.2)
    front.close()


@pytest.mark.slow
async def test_the_voice_waits_until_the_user_stops_speaking(short_dir, tiny_recognizer_settings, clips):
    hearing = HearingSettings(recognizer=tiny_recognizer_settings, preload=False)
    settings = dataclasses.replace(voice_settings(short_dir, short_dir / "spoken"), hearing=dataclasses.replace(
        hearing, microphone=dataclasses.replace(hearing.microphone, enabled=False)))
    front = SpeechFrontEnd(settings.hearing)
    daemon = Daemon(settings, planner=IntentEngine(), hearing=front)
    await daemon.start()
    editor, buffer = await editor_with_selection(daemon.address, "Read me aloud.", Selection(0, 14))
    ended_at: list[float] = []
    waited: list[VoiceState] = []
    loop = asyncio.get_running_loop()
    # The user talks in real time: 0.5 s of silence, the sentence, 1 s of silence.
    audio = np.concatenate([np.zeros(8000, np.int16), clips["fox"], np.zeros(16000, np.int16)])
    async with DaemonClient(daemon.address) as client, DaemonClient(daemon.address) as other:
        reading = None
        async for update in client.stream_audio(paced(audio, pause_s=0.1), AudioStart(language="en", act=False)):
            if isinstance(update, SpeechBoundary) and update.started and reading is None:
                reading = asyncio.ensure_future(other.say("read that", document_id="doc"))
                await asyncio.sleep(0.3)
                waited.append(daemon.voice.state)
                assert not (short_dir / "spoken").exists()  # the user is speaking: not a word
            if isinstance(update, SpeechBoundary) and not update.started:
                ended_at.append(loop.time())
        await reading
    [spoken] = await wavs(short_dir / "spoken", 1)
    assert waited == [VoiceState.WAITING] and ended_at
    assert (await replies(daemon.voice, 1))[0].reply.text == "Read me aloud."
    await editor.close()
    await daemon.stop(0.2)
    front.close()


def test_heavy_parts_load_only_when_the_voice_speaks():
    # A daemon with the voice on imports piper, onnxruntime and sounddevice on the first reply, not before.
    probe = ("import sys\n"
             "from pushkin.daemon.server import Daemon\n"
             "from pushkin.daemon.voice import Voice, VoiceSettings\n"
             "Voice(VoiceSettings(enabled=True, sink='file:/tmp/unused'))\n"
             "print(sorted(m for m in ('piper', 'onnxruntime', 'sounddevice') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


async def test_russian_is_read_by_the_russian_voice_of_the_chosen_engine(short_dir):
    sink = short_dir / "spoken"
    text = "Привет, мир. Это проверка голоса."
    daemon = Daemon(voice_settings(short_dir, sink), planner=IntentEngine())
    await daemon.start()
    editor, buffer = await editor_with_selection(daemon.address, text, Selection(0, len(text)))
    async with DaemonClient(daemon.address) as client:
        result = await client.say("прочти вслух")
    assert result.message.startswith("Читаю")
    [spoken] = await wavs(sink, 1)
    [reply] = await replies(daemon.voice, 1)
    assert reply.reply.language == "ru" and reply.voice == "espeak-ng:ru" and spoken.name.endswith("-ru.wav")
    assert speech_measure(spoken)[0] > 1.0 and speech_measure(spoken)[1] > 0.05
    assert buffer.text == text
    await editor.close()
    await daemon.stop(0.2)


class Room:
    """A microphone in the room with the loudspeaker: real-time 16 kHz PCM of silence, except that each
    WAV the voice's file sink writes is heard (resampled by sox) from the moment it appears."""

    name = "room"

    def __init__(self, sink_dir: Path, work_dir: Path) -> None:
        self.sink_dir, self.work_dir = sink_dir, work_dir
        self.heard_voice_samples = 0
        self._played: set[Path] = set()

    async def chunks(self):
        loop = asyncio.get_running_loop()
        step = 1600  # 100 ms
        air = np.zeros(0, np.int16)
        started, sent = loop.time(), 0
        while True:
            for wav in sorted(self.sink_dir.glob("*.wav")) if self.sink_dir.exists() else []:
                if wav not in self._played:
                    self._played.add(wav)
                    air = np.concatenate([air, as_16k(wav, self.work_dir)])
            chunk, air = air[:step], air[step:]
            self.heard_voice_samples += len(chunk)
            yield np.concatenate([chunk, np.zeros(step - len(chunk), np.int16)]).tobytes()
            sent += 1
            await asyncio.sleep(max(0.0, started + sent * 0.1 - loop.time()))  # paced by the clock, no drift


@pytest.mark.slow
async def test_the_microphone_does_not_hear_the_voice_as_dictation(short_dir, tiny_recognizer_settings):
    sink = short_dir / "spoken"
    room = Room(sink, short_dir)
    hearing = HearingSettings(recognizer=tiny_recognizer_settings, preload=True)
    settings = dataclasses.replace(voice_settings(short_dir, sink, tail_ms=500), hearing=hearing)
    front = SpeechFrontEnd(settings.hearing)
    daemon = Daemon(settings, planner=IntentEngine(), hearing=front, microphone_source=lambda: room)
    await daemon.start()
    text = "The quick brown fox jumps over the lazy dog, and then it runs far away into the woods."
    editor, buffer = await editor_with_selection(daemon.address, text, Selection(0, len(text)))
    async with DaemonClient(daemon.address) as client:
        await asyncio.sleep(0.3)
        await client.say("read that")
        [reply] = await replies(daemon.voice, 1)
        while daemon.voice.hearing_muted():
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # anything the recognizer had would have closed by now
        status = await client.status()
    assert room.heard_voice_samples > 16000 * reply.duration_s * 0.9  # the microphone did hear it all
    assert buffer.text == text and [t.text for t in status.recent_transcripts] == ["read that"]  # typed only
    assert daemon.hearing.muted_chunks >= int(reply.duration_s * 10) - 1
    await editor.close()
    await daemon.stop(0.2)
    front.close()


def test_the_voice_section_is_set_from_the_command_line():
    from pushkin.daemon.settings import Settings, apply_overrides

    settings = apply_overrides(Settings(), {"voice.enabled": "true", "voice.sink": "file:/tmp/replies",
                                            "voice.speak_modes": "false"})
    assert settings.voice == VoiceSettings(enabled=True, sink="file:/tmp/replies", speak_modes=False)
    with pytest.raises(SettingsError, match="voice.engine must be one of"):
        apply_overrides(Settings(), {"voice.engine": "say"})


@pytest.mark.slow
async def test_a_reply_that_waits_too_long_for_silence_is_dropped_with_a_notice(short_dir, tiny_recognizer_settings,
                                                                                clips):
    hearing = HearingSettings(recognizer=tiny_recognizer_settings, preload=False)
    settings = dataclasses.replace(voice_settings(short_dir, short_dir / "spoken", wait_silence_s=0.5), hearing=dataclasses.replace(
        hearing, microphone=dataclasses.replace(hearing.microphone, enabled=False)))
    front = SpeechFrontEnd(settings.hearing)
    daemon = Daemon(settings, planner=IntentEngine(), hearing=front)
    await daemon.start()
    editor, buffer = await editor_with_selection(daemon.address, "Read me aloud.", Selection(0, 14))
    watcher, _, seen = await connect_editor(daemon.address, name="watcher", document_id="other", focus=False)
    audio = np.concatenate([np.zeros(8000, np.int16), clips["fox"], np.zeros(16000, np.int16)])
    async with DaemonClient(daemon.address) as client, DaemonClient(daemon.address) as other:
        reading = None
        async for update in client.stream_audio(paced(audio, pause_s=0.1), AudioStart(language="en", act=False)):
            if isinstance(update, SpeechBoundary) and update.started and reading is None:
                reading = asyncio.ensure_future(other.say("read that", document_id="doc"))
        await reading
    notice = await seen.wait_for(lambda e: isinstance(e, StatusNotice) and e.code == "voice-skipped", 10)
    assert "Read me aloud" in notice.message and "kept speaking" in notice.message
    await asyncio.sleep(0.5)
    assert not (short_dir / "spoken").exists() and not daemon.voice.spoken
    await watcher.close()
    await editor.close()
    await daemon.stop(0.2)
    front.close()
