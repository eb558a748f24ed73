"""Audio sources: files, raw PCM, stdin, and the microphone on a machine without one."""

from __future__ import annotations

import asyncio
import io

import numpy as np
import pytest
import soundfile

from pushkin.daemon.hearing.microphone import MicrophoneService, MicrophoneState
from pushkin.daemon.hearing.settings import MicrophoneSettings
from pushkin.daemon.hearing.sources import (
    AudioFileError,
    BadAudioFormat,
    FileSource,
    MicrophoneSource,
    NoAudioDevice,
    PcmChunkSource,
    StdinSource,
    check_audio_start,
    read_audio_file,
    resolve_input_device,
)
from pushkin.proto.types import ListenState, StatusNotice


def test_stereo_44k_wav_is_downmixed_and_resampled(tmp_path, clips):
    mono = clips["scratch"].astype(np.float32) / 32768
    stereo = np.stack([mono, mono], axis=1)
    from scipy.signal import resample_poly

    stereo_44k = resample_poly(stereo, 441, 160, axis=0)
    path = tmp_path / "stereo.wav"
    soundfile.write(path, stereo_44k, 44100, subtype="PCM_16")
    decoded = read_audio_file(path)
    assert decoded.dtype == np.int16
    assert abs(len(decoded) - len(mono)) <= 2
    correlation = np.corrcoef(decoded[: len(mono) - 2].astype(float), clips["scratch"][: len(mono) - 2].astype(float))[0, 1]
    assert correlation > 0.95


def test_flac_round_trip(tmp_path, clips):
    path = tmp_path / "speech.flac"
    soundfile.write(path, clips["ru_hello"], 16000, subtype="PCM_16")
    np.testing.assert_array_equal(read_audio_file(path), clips["ru_hello"])


def test_unreadable_missing_and_empty_files_are_clear_errors(tmp_path):
    garbage = tmp_path / "notes.wav"
    garbage.write_bytes(b"this is not audio at all" * 10)
    with pytest.raises(AudioFileError, match="Cannot decode .*notes.wav"):
        read_audio_file(garbage)
    with pytest.raises(AudioFileError, match="not found"):
        read_audio_file(tmp_path / "absent.wav")
    with pytest.raises(AudioFileError, match="folder"):
        read_audio_file(tmp_path)
    empty = tmp_path / "empty.wav"
    soundfile.write(empty, np.zeros(0, dtype=np.int16), 16000)
    with pytest.raises(AudioFileError, match="no audio"):
        read_audio_file(empty)


async def test_file_source_chunks_cover_the_file(tmp_path, clips):
    path = tmp_path / "s.wav"
    soundfile.write(path, clips["formal"], 16000, subtype="PCM_16")
    chunks = [chunk async for chunk in FileSource(path, chunk_ms=100).chunks()]
    assert all(len(c) <= 3200 for c in chunks)
    assert np.array_equal(np.frombuffer(b"".join(chunks), dtype=np.int16), clips["formal"])


def test_audio_start_must_be_16k_mono_16_bit():
    check_audio_start(16000, 1, 2)
    with pytest.raises(BadAudioFormat, match="sample_rate 44100 \\(must be 16000; resample"):
        check_audio_start(44100, 1, 2)
    with pytest.raises(BadAudioFormat, match="channels 2.*sample_width 4"):
        check_audio_start(16000, 2, 4)


async def test_pcm_chunks_with_half_samples_or_too_large_are_rejected():
    async def chunks(*items):
        for item in items:
            yield item

    with pytest.raises(BadAudioFormat, match="whole number"):
        [c async for c in PcmChunkSource(chunks(b"\x00\x00", b"\x00\x00\x00")).chunks()]
    with pytest.raises(BadAudioFormat, match="above the limit"):
        [c async for c in PcmChunkSource(chunks(b"\x00" * (64 * 1024 + 2))).chunks()]


async def test_pcm_flood_is_pulled_only_as_fast_as_it_is_consumed():
    produced = 0

    async def flood():
        nonlocal produced
        while True:
            produced += 1
            yield b"\x00" * 3200

    taken = 0
    async for _ in PcmChunkSource(flood()).chunks():
        taken += 1
        await asyncio.sleep(0)
        if taken == 50:
            break
    assert produced <= taken + 1


async def test_stdin_source_reassembles_whole_samples():
    data = np.arange(1001, dtype=np.int16).tobytes()
    chunks = [c async for c in StdinSource(io.BytesIO(data), chunk_bytes=333).chunks()]
    assert all(len(c) % 2 == 0 for c in chunks)
    assert b"".join(chunks) == data


def test_a_missing_named_device_is_a_clear_error():
    with pytest.raises(NoAudioDevice) as error:
        resolve_input_device("no-such-microphone-xyz")
    assert "microphone" in str(error.value).lower() or "no-such-microphone-xyz" in str(error.value)


async def test_microphone_source_without_device_raises_no_audio_device():
    source = MicrophoneSource(MicrophoneSettings(device="no-such-microphone-xyz"))
    with pytest.raises(NoAudioDevice):
        async for _ in source.chunks():
            pass


class Silent:
    """A Hearing that passes nothing through; the service under test is what matters here."""

    async def stream(self, pcm, *, language=""):
        async for _ in pcm:
            pass
        return
        yield


async def test_microphone_service_without_device_reports_and_retries_without_crashing():
    notices = []
    service = MicrophoneService(
        Silent(), notices.append, MicrophoneSettings(device="no-such-microphone-xyz", retry_initial_s=0.02, retry_max_s=0.05)
    )
    task = service.start()
    assert task.get_name() == "hearing-microphone"
    for _ in range(100):
        await asyncio.sleep(0.02)
        if service.attempts >= 3:
            break
    assert service.attempts >= 3, "it keeps retrying"
    assert service.state == MicrophoneState.NO_AUDIO and service.listen_state == ListenState.NO_AUDIO
    assert not task.done()
    no_audio = [n for n in notices if isinstance(n, StatusNotice) and n.code == "no-audio-device"]
    assert len(no_audio) == 1, "reported once, not on every retry"
    assert no_audio[0].state == ListenState.NO_AUDIO and "typed utterances keep working" in no_audio[0].message
    service.mute()
    await asyncio.sleep(0.05)
    assert service.listen_state == ListenState.MUTED
    await service.stop()
    assert service.state == MicrophoneState.STOPPED and task.done()


async def test_microphone_service_listens_on_a_working_source(clips):
    class Clip:
        name = "clip"

        async def chunks(self):
            yield clips["scratch"].tobytes()
            await asyncio.sleep(10)

    events = []

    class Echo:
        async def stream(self, pcm, *, language=""):
            async for chunk in pcm:
                yield len(chunk)

    service = MicrophoneService(Echo(), events.append, source_factory=Clip)
    service.start()
    await asyncio.sleep(0.05)
    assert service.state == MicrophoneState.LISTENING
    assert len(clips["scratch"]) * 2 in events
    await service.stop()
