"""Settings files, and StreamAudio with a small real recognizer and bounded back-pressure."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from pushkin.clients.daemon_client import DaemonCallError, DaemonClient
from pushkin.daemon.hearing_api import HeardTranscript, SpeechEnded, SpeechStarted
from pushkin.daemon.planning import Utterance
from pushkin.daemon.server import Daemon
from pushkin.daemon.service import AudioFeed, FeedState
from pushkin.daemon.settings import SettingsError, load_settings
from pushkin.proto.types import AudioStart, SpeechBoundary, Transcript, UtteranceDecided
from pushkin.proto.v1 import pushkin_pb2 as pb

from .conftest import connect_editor, unix_settings


def test_settings_file_sections_and_overrides(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[server]\nlisten = "tcp://127.0.0.1:7421"\n[edits]\ntimeout_s = 2\nmax_replans = 5\n')
    settings = load_settings(path, {"edits.max_replans": "1", "server.allow_remote": True})
    assert settings.server.listen == "tcp://127.0.0.1:7421"
    assert settings.edits.timeout_s == 2.0 and settings.edits.max_replans == 1
    assert settings.server.allow_remote is True
    assert load_settings().limits.max_editors == 1024  # no file in the XDG folder: defaults


@pytest.mark.parametrize("content, words", [
    ("[server]\nlisen = 'x'\n", "unknown key 'lisen' in [server]"),
    ("[sever]\n", "unknown section [sever]"),
    ("[edits]\ntimeout_s = 'soon'\n", "edits.timeout_s must be a number"),
    ("[limits]\nmax_editors = true\n", "limits.max_editors must be an integer"),
    ("[server\n", "not valid TOML"),
])
def test_bad_settings_name_the_problem(tmp_path, content, words):
    path = tmp_path / "config.toml"
    path.write_text(content)
    with pytest.raises(SettingsError, match=words.replace("[", r"\[").replace("]", r"\]")) as failure:
        load_settings(path)
    assert str(path) in str(failure.value)


def test_bad_override_and_missing_explicit_file(tmp_path):
    with pytest.raises(SettingsError, match=r"override 'nosuch.key': unknown section \[nosuch\]"):
        load_settings(None, {"nosuch.key": "1"})
    with pytest.raises(SettingsError, match="no such settings file"):
        load_settings(tmp_path / "missing.toml")


class SecondsHearing:
    """A small real Hearing: every full second of audio (16,000 samples) is one utterance, "second N"."""

    async def stream(self, pcm, *, language=""):
        samples, count = 0, 0
        async for chunk in pcm:
            if samples == 0:
                yield SpeechStarted(f"a{count + 1}", count * 1.0)
            samples += len(chunk) // 2
            if samples >= 16000:
                count += 1
                samples -= 16000
                uid = f"a{count}"
                yield HeardTranscript(Transcript(uid, f"second {count}", False, language=language))
                yield SpeechEnded(uid, count * 1.0)
                yield HeardTranscript(Transcript(uid, f"second {count}", True, language=language),
                                      Utterance(f"second {count}", source="speech", language=language))


async def test_stream_audio_feeds_the_hearing_and_acts(short_dir):
    daemon = Daemon(unix_settings(short_dir), hearing=SecondsHearing())
    await daemon.start()
    editor, buffer, _ = await connect_editor(daemon.address, text="> ")

    async def two_seconds():
        for _ in range(8):
            yield b"\x01\x00" * 4000  # a quarter second

    async with DaemonClient(daemon.address) as client:
        updates = [u async for u in client.stream_audio(two_seconds(), AudioStart(language="ru"))]
        decided = [u for u in updates if isinstance(u, UtteranceDecided)]
        assert [d.result.intent.text for d in decided] == ["second 1", "second 2"]
        assert all(d.result.applied for d in decided)
        assert buffer.text == "> second 1second 2"
        assert any(isinstance(u, SpeechBoundary) and u.started for u in updates)
        assert [t.text for t in (await client.status()).recent_transcripts][-2:] == ["second 1", "second 2"]

        async def odd():
            yield b"\x00\x00\x00"

        with pytest.raises(DaemonCallError) as failure:
            async for _ in client.stream_audio(odd()):
                pass
        assert failure.value.code == grpc.StatusCode.INVALID_ARGUMENT and "whole number" in failure.value.details

        async def too_big():
            yield b"\x00" * (64 * 1024 + 2)

        with pytest.raises(DaemonCallError, match="64 KiB"):
            async for _ in client.stream_audio(too_big()):
                pass
    await editor.close()
    await daemon.stop(0.2)


async def test_audio_feed_stops_reading_when_the_recognizer_falls_behind():
    pulled = []

    async def fast_client():
        for index in range(100):
            pulled.append(index)
            yield pb.AudioChunk(pcm=b"\x00\x00" * 512)

    feed = AudioFeed(capacity=4)
    feeder = asyncio.create_task(feed.run(fast_client()))
    await asyncio.sleep(0.1)
    # Four queued, one in hand waiting for room: the rest stays with the client (gRPC flow control).
    assert len(pulled) <= 6 and feed.queue.qsize() == 4 and feed.state is FeedState.READING
    received = 0
    async for _ in feed.chunks():
        received += 1
    await feeder
    assert received == 100 and feed.state is FeedState.ENDED
