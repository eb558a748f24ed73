"""Hearing wired into the daemon: StreamAudio and the microphone loop through a real SpeechFrontEnd (the
tiny random-weight Whisper, espeak-ng speech) into the dispatcher and out to editors; SetListening into
the front end; bad audio refused with clear errors; `pushkin listen --wav` against a daemon subprocess."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
import time

import grpc
import numpy as np
import pytest
import soundfile
from hearing.speech import compose

from pushkin.clients.daemon_client import DaemonCallError, DaemonClient
from pushkin.clients.editor import BatchHandled
from pushkin.daemon.hearing import HearingSettings, MicrophoneSettings, SpeechFrontEnd
from pushkin.daemon.hearing.sources import FileSource, MicrophoneSource
from pushkin.daemon.intent import IntentEngine
from pushkin.daemon.planning import InsertAtCursor, Utterance
from pushkin.daemon.server import Daemon
from pushkin.proto.types import (
    AudioStart,
    ListenMode,
    ListenState,
    SpeechBoundary,
    StatusNotice,
    Transcript,
    UtteranceDecided,
)
from pushkin.proto.v1 import pushkin_pb2 as pb
from pushkin.proto.v1 import pushkin_pb2_grpc as pb_grpc

from .conftest import connect_editor, unix_settings


class RecordingPlanner:
    """InsertAtCursor that also keeps the utterances it was asked to plan (to check the pauses)."""

    def __init__(self):
        self.inner = InsertAtCursor()
        self.utterances: list[Utterance] = []

    def plan(self, utterance, document, modes):
        self.utterances.append(utterance)
        return self.inner.plan(utterance, document, modes)

    def applied(self, *args):
        self.inner.applied(*args)

    def document_changed(self, *args):
        self.inner.document_changed(*args)

    def document_closed(self, *args):
        self.inner.document_closed(*args)


def hearing_settings(recognizer, **changes) -> HearingSettings:
    return dataclasses.replace(HearingSettings(recognizer=recognizer, preload=False), **changes)


def daemon_settings(folder, hearing: HearingSettings):
    return dataclasses.replace(unix_settings(folder), hearing=hearing)


async def paced(audio: np.ndarray, pause_s: float = 0.002, chunk_ms: int = 100):
    step = 16 * chunk_ms
    for start in range(0, len(audio), step):
        yield audio[start:start + step].tobytes()
        await asyncio.sleep(pause_s)


@pytest.mark.slow
async def test_streamed_speech_becomes_transcripts_decisions_and_edits(short_dir, tiny_recognizer_settings, clips):
    settings = hearing_settings(tiny_recognizer_settings)
    front = SpeechFrontEnd(settings)
    planner = RecordingPlanner()
    daemon = Daemon(daemon_settings(short_dir, settings), planner=planner, hearing=front)
    await daemon.start()
    editor, buffer, seen = await connect_editor(daemon.address, name="wants-interim", capabilities=("interim",))
    other, _, other_seen = await connect_editor(daemon.address, name="finals-only", document_id="other", focus=False)
    scene = compose([0.6, clips["fox"], 0.9, clips["scratch"], 0.7])
    middle = int(sum(scene.spans[0]) / 2 * 16000)

    async def speaker():
        # Halfway through the first sentence the speaker goes on (time passes) until an interim transcript
        # has reached the editor, however busy the machine is.
        async for chunk in paced(scene.audio[:middle], pause_s=0.01):
            yield chunk
        waited = asyncio.ensure_future(seen.wait_for(lambda e: isinstance(e, Transcript) and not e.final, 20))
        while not waited.done():
            yield b""
            await asyncio.sleep(0.05)
        await waited
        async for chunk in paced(scene.audio[middle:]):
            yield chunk

    async with DaemonClient(daemon.address) as client:
        updates = [u async for u in client.stream_audio(speaker(), AudioStart(language="en"))]
        status = await client.status()
    boundaries = [u for u in updates if isinstance(u, SpeechBoundary)]
    finals = [u for u in updates if isinstance(u, Transcript) and u.final]
    decided = [u for u in updates if isinstance(u, UtteranceDecided)]
    assert [b.started for b in boundaries] == [True, False, True, False]
    assert len(finals) == 2 and all(f.text for f in finals)  # the tiny model is forced to say something
    assert [d.utterance_id for d in decided] == [f.utterance_id for f in finals]
    # Each final utterance went through the dispatcher into an edit batch the editor applied.
    for final, decision in zip(finals, decided):
        assert decision.result.applied and decision.result.intent.text == final.text
        assert [edit.text for sent in decision.result.batches for edit in sent.batch.edits] == [final.text]
    assert buffer.text == finals[0].text + finals[1].text
    assert len(seen.of_type(BatchHandled)) == 2
    # The planner got the utterances as speech, with the pauses the VAD measured around them.
    assert [u.source for u in planner.utterances] == ["speech", "speech"]
    assert planner.utterances[0].pause_before_s == pytest.approx(0.6, abs=0.1)
    assert planner.utterances[1].pause_before_s == pytest.approx(0.9, abs=0.1)
    assert all(u.pause_after_s >= 0.3 for u in planner.utterances)
    # Interim transcripts only to the editor that asked; finals to both; finals kept in the status.
    assert any(not t.final for t in seen.of_type(Transcript))
    await other_seen.wait_for(lambda e: isinstance(e, Transcript) and e.utterance_id == finals[1].utterance_id)
    assert all(t.final for t in other_seen.of_type(Transcript))
    assert [t.text for t in status.recent_transcripts][-2:] == [f.text for f in finals]
    await editor.close()
    await other.close()
    await daemon.stop(0.2)
    front.close()


async def test_bad_audio_gets_clear_errors_and_the_daemon_goes_on(short_dir, tiny_recognizer_settings):
    settings = hearing_settings(tiny_recognizer_settings)
    front = SpeechFrontEnd(settings)
    daemon = Daemon(daemon_settings(short_dir, settings), hearing=front)
    await daemon.start()

    async def chunks(*items):
        for item in items:
            yield item

    cases = [
        (AudioStart(sample_rate=44100), (), "sample_rate 44100 (must be 16000; resample"),
        (AudioStart(channels=2), (), "channels 2 (must be 1)"),
        (AudioStart(), (b"\x00\x00", b"\x00\x00\x00"), "3 bytes is not a whole number of 16-bit samples"),
        (AudioStart(), (b"\x00" * (64 * 1024 + 2),), "(64 KiB)"),
    ]
    async with DaemonClient(daemon.address) as client:
        for start, pcm, words in cases:
            with pytest.raises(DaemonCallError) as failure:
                async for _ in client.stream_audio(chunks(*pcm), start):
                    pass
            assert failure.value.code is grpc.StatusCode.INVALID_ARGUMENT
            assert words in failure.value.details
        # A second AudioStart in the middle of the stream.
        channel = grpc.aio.insecure_channel(daemon.address.grpc_target)
        call = pb_grpc.PushkinStub(channel).StreamAudio(iter([pb.AudioChunk(start=pb.AudioStart(
            sample_rate=16000, channels=1, sample_width=2)), pb.AudioChunk(pcm=b"\x00\x00"),
            pb.AudioChunk(start=pb.AudioStart())]))
        with pytest.raises(grpc.aio.AioRpcError) as broken:
            async for _ in call:
                pass
        assert broken.value.code() is grpc.StatusCode.INVALID_ARGUMENT and "only once" in broken.value.details()
        await channel.close()
        assert (await client.say("still here")).intent.text == "still here"
    await daemon.stop(0.2)
    front.close()


class SlowHearing:
    """A small real Hearing that takes 20 ms per chunk (a recognizer falling behind) and counts them."""

    def __init__(self):
        self.taken = 0

    async def stream(self, pcm, *, language=""):
        async for _ in pcm:
            self.taken += 1
            await asyncio.sleep(0.02)
        return
        yield


async def test_a_flood_of_chunks_is_held_back_at_the_client(short_dir):
    hearing = SlowHearing()
    settings = unix_settings(short_dir, limits={"audio_queue_chunks": 8})
    daemon = Daemon(settings, hearing=hearing)
    await daemon.start()
    produced = 0
    chunk = b"\x00\x00" * 32 * 1024  # 64 KiB, the largest chunk allowed

    async def flood():
        nonlocal produced
        for _ in range(2000):  # 125 MiB if anything buffered it all
            produced += 1
            yield chunk

    async with DaemonClient(daemon.address) as client:
        call = asyncio.ensure_future(_drain(client.stream_audio(flood())))
        await asyncio.sleep(1.5)
        in_flight = produced - hearing.taken
        call.cancel()
        await asyncio.gather(call, return_exceptions=True)
        assert hearing.taken > 10, "the hearing was fed"
        # The daemon's queue (8) plus what HTTP/2 flow control lets through: a few MiB, not the flood.
        assert in_flight * len(chunk) < 8 * 1024 * 1024, f"{in_flight} chunks were in flight"
        assert produced < 2000
        assert (await client.status()).state is ListenState.LISTENING
    await daemon.stop(0.2)


async def _drain(updates):
    return [u async for u in updates]


@pytest.mark.slow
async def test_microphone_loop_acts_then_reports_a_lost_device_and_typing_still_works(
        short_dir, tiny_recognizer_settings, clips):
    # The "microphone" is first a real recording played in real time, then the sound card disappears.
    scene = compose([0.3, clips["scratch"], 0.7])
    wav = short_dir / "mic.wav"
    soundfile.write(wav, scene.audio, 16000, subtype="PCM_16")
    sources = iter([FileSource(wav, realtime=True)])
    missing = MicrophoneSettings(device="no-such-microphone-xyz", retry_initial_s=0.05, retry_max_s=0.2)

    def microphone():
        return next(sources, None) or MicrophoneSource(missing)

    settings = hearing_settings(tiny_recognizer_settings, microphone=missing, preload=True)
    front = SpeechFrontEnd(settings)
    daemon = Daemon(daemon_settings(short_dir, settings), planner=IntentEngine(), hearing=front,
                    microphone_source=microphone)
    await daemon.start()
    editor, buffer, seen = await connect_editor(daemon.address, text="Draft.")
    assert daemon.listener.microphone.state.value in ("starting", "listening")
    # What the microphone heard was decided and reached the editor as an edit batch.
    handled = await seen.wait_for(lambda e: isinstance(e, BatchHandled), 20)
    assert handled.result.outcome.value == "applied" and buffer.text != "Draft."
    notice = await seen.wait_for(lambda e: isinstance(e, StatusNotice) and e.code == "no-audio-device", 10)
    assert notice.state is ListenState.NO_AUDIO and "typed utterances keep working" in notice.message
    async with DaemonClient(daemon.address) as client:
        status = await client.status()
        assert status.state is ListenState.NO_AUDIO
        components = {c.name: c for c in status.components}
        assert components["microphone"].state == "no-audio" and components["microphone"].detail == notice.message.split(" Retrying")[0]
        assert components["recognizer"].state == "ready"
        assert any(t.text for t in status.recent_transcripts)
        before = buffer.text
        result = await client.say("typed words.")
        assert result.applied and buffer.text.startswith(before) and "typed words" in buffer.text.lower()
        # Sleeping and muting are the user's choices: they show instead of no-audio.
        assert (await client.say("go to sleep")).intent.name == "sleep"
        assert (await client.status()).state is ListenState.SLEEPING
        assert (await client.say("more words")).intent.kind.value == "ignored"
        await client.say("wake up")
        assert (await client.status()).state is ListenState.NO_AUDIO
        assert (await client.set_listening(state=ListenState.MUTED)).state is ListenState.MUTED
        await seen.wait_for(lambda e: isinstance(e, StatusNotice) and e.code == "microphone-muted")
        assert daemon.listener.microphone.state.value == "muted"
        assert (await client.set_listening(state=ListenState.LISTENING)).state is ListenState.NO_AUDIO
    assert daemon.listener.microphone._task is not None and not daemon.listener.microphone._task.done()
    await editor.close()
    await daemon.stop(0.2)
    assert daemon.listener.microphone.state.value == "stopped"
    front.close()


async def test_set_listening_moves_the_front_end(short_dir, tiny_recognizer_settings, clips):
    settings = hearing_settings(dataclasses.replace(tiny_recognizer_settings, partials=False))
    front = SpeechFrontEnd(settings)
    daemon = Daemon(daemon_settings(short_dir, settings), hearing=front)
    await daemon.start()
    speech = compose([0.3, clips["scratch"], 0.6]).audio
    async with DaemonClient(daemon.address) as client:
        status = await client.set_listening(mode=ListenMode.PUSH_TO_TALK)
        assert front.listen_mode is ListenMode.PUSH_TO_TALK
        assert status.listen_mode is ListenMode.PUSH_TO_TALK and status.state is ListenState.MUTED
        # Push-to-talk and no key: speech is not an utterance.
        assert not [u async for u in client.stream_audio(paced(speech, 0))]
        assert (await client.set_listening(mode=ListenMode.TOGGLE)).listen_mode is ListenMode.TOGGLE
        assert front.listen_mode is ListenMode.TOGGLE
        await client.set_listening(mode=ListenMode.ALWAYS_ON)
        updates = [u async for u in client.stream_audio(paced(speech, 0), AudioStart(act=False))]
        assert sum(isinstance(u, SpeechBoundary) for u in updates) == 2
        assert len([u for u in updates if isinstance(u, UtteranceDecided)]) == 1
    await daemon.stop(0.2)
    front.close()


# ---- the CLI against a daemon subprocess --------------------------------------------------------


def _cli(*args, env, timeout=60):
    return subprocess.run([sys.executable, "-m", "pushkin.clients.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


@pytest.mark.slow
def test_pushkin_listen_wav_against_a_served_daemon(short_dir, tiny_whisper, tiny_recognizer_settings, clips):
    config = short_dir / "config.toml"
    r = tiny_recognizer_settings
    # The tiny random model's settings, as a user would write them (TOML has no "none": huge limits instead).
    config.write_text(
        "[hearing]\npreload = true\n"
        "[hearing.recognizer]\n"
        f"model = \"{r.model}\"\nallow_download = false\nmax_new_tokens = 6\ntemperatures = [0.0]\n"
        f"suppress_tokens = {list(r.suppress_tokens)}\nno_speech_threshold = 1.0\nlog_prob_threshold = -1e9\n"
        "compression_ratio_threshold = 1e9\npartials = false\n")
    wav = short_dir / "say.wav"
    soundfile.write(wav, compose([0.3, clips["scratch"], 0.6]).audio, 16000, subtype="PCM_16")
    address = f"unix://{short_dir}/d.sock"
    env = {**os.environ, "PUSHKIN_ADDRESS": address}
    server = subprocess.Popen([sys.executable, "-m", "pushkin.clients.cli", "serve", "--socket", f"{short_dir}/d.sock",
                               "--config", str(config), "--no-mic"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not (short_dir / "d.sock").exists():
            assert server.poll() is None, server.stderr.read()
            assert time.monotonic() < deadline, "the daemon did not start"
            time.sleep(0.05)
        listened = _cli("listen", "--wav", str(wav), env=env)
        assert listened.returncode == 0, listened.stderr
        lines = listened.stdout.splitlines()
        assert any(line.endswith("speech started") for line in lines)
        assert any(line.endswith("speech ended") for line in lines)
        final = [line for line in lines if line.startswith("= ")]
        decided = [line for line in lines if line.startswith("→ ")]
        assert len(final) == 1 and final[0] != "= (nothing recognized)"
        assert len(decided) == 1 and decided[0].split(":")[0] in ("→ dictation", "→ ignored") or \
            decided[0].startswith("→ command ")
        moved = _cli("mode", "push-to-talk", env=env)
        assert moved.returncode == 0 and moved.stdout.strip() == "state: muted; mode: push-to-talk"
        assert _cli("ptt", "press", env=env).stdout.strip() == "state: listening; mode: push-to-talk"
        assert _cli("mode", "always-on", env=env).returncode == 0
        assert _cli("mute", env=env).stdout.startswith("state: muted")
        assert _cli("unmute", env=env).stdout.startswith("state: listening")
        assert _cli("sleep", env=env).stdout.startswith("state: sleeping")
        assert _cli("wake", env=env).stdout.startswith("state: listening")
        status = _cli("status", env=env).stdout
        assert "microphone: off" in status and "recognizer: ready" in status
        assert final[0][2:].split("  (")[0] in status  # the final transcript is in the recent ones
    finally:
        server.terminate()
        server.wait(10)
    gone = _cli("listen", "--wav", str(wav), env=env)
    assert gone.returncode == 1 and "pushkin serve" in gone.stderr


def test_pushkin_listen_without_a_microphone_says_so(short_dir):
    from pushkin.daemon.hearing.sources import list_input_devices

    if list_input_devices():
        # A machine with a sound card: a missing device name gives the same clear refusal.
        result = _cli("listen", "--device", "no-such-microphone-xyz", env=dict(os.environ), timeout=30)
    else:
        result = _cli("listen", env=dict(os.environ), timeout=30)
    assert result.returncode == 1
    assert "pushkin listen --wav FILE" in result.stderr and "device" in result.stderr.lower()


class RecordingRecognizer:
    """The tiny Whisper, keeping what each pass was told of the document."""

    def __init__(self, settings):
        from pushkin.daemon.hearing.recognizer import FasterWhisperRecognizer

        self.inner = FasterWhisperRecognizer(settings)
        self.settings = settings
        self.passes: list[tuple[bool, str]] = []

    def load(self):
        self.inner.load()

    def transcribe(self, audio, *, language="", final=True, document_language="", preceding_text=""):
        self.passes.append((final, preceding_text))
        return self.inner.transcribe(audio, language=language, final=final, document_language=document_language,
                                     preceding_text=preceding_text)


@pytest.mark.slow
async def test_the_final_decode_reads_the_text_before_the_cursor(short_dir, tiny_recognizer_settings, clips):
    recognizer_settings = dataclasses.replace(tiny_recognizer_settings, document_context_chars=12)
    settings = hearing_settings(recognizer_settings)
    recognizer = RecordingRecognizer(recognizer_settings)
    front = SpeechFrontEnd(settings, recognizer)
    daemon = Daemon(daemon_settings(short_dir, settings), planner=RecordingPlanner(), hearing=front)
    await daemon.start()
    # The cursor sits after "Dear Anna, thanks"; what follows it is not what came before the words.
    editor, _, _ = await connect_editor(daemon.address, text="Dear Anna, thanks for the notes. P.S.", cursor=17)
    async with DaemonClient(daemon.address) as client:
        updates = [u async for u in client.stream_audio(paced(compose([0.3, clips["fox"], 0.7]).audio),
                                                        AudioStart(act=False))]
    assert any(isinstance(u, UtteranceDecided) for u in updates)
    finals = [text for final, text in recognizer.passes if final]
    assert finals and all(text == "Anna, thanks" for text in finals), recognizer.passes
    assert all(text == "" for final, text in recognizer.passes if not final)
    await editor.close()
    await daemon.stop(0.2)
    front.close()
