"""Bad input of every kind gets a clear error, and the daemon keeps serving everyone else."""

from __future__ import annotations

import asyncio
import dataclasses
import os

import grpc
import pytest

from pushkin.clients.connection import DaemonUnavailable, open_channel
from pushkin.clients.daemon_client import DaemonCallError, DaemonClient
from pushkin.clients.editor import EditorClient, ReconnectPolicy
from pushkin.daemon.server import Daemon, DaemonError
from pushkin.daemon.settings import Settings
from pushkin.proto import convert
from pushkin.proto.types import (
    CloseDocument,
    EditOutcome,
    EditResult,
    ErrorCode,
    Focus,
    Hello,
    OpenDocument,
    ProtocolError,
    TextEdit,
    UpdateDocument,
)
from pushkin.proto.v1 import pushkin_pb2 as pb
from pushkin.proto.v1 import pushkin_pb2_grpc as pb_grpc

from .conftest import connect_editor, unix_settings


class RawEditor:
    """A Connect stream driven message by message, to send what a well-behaved client never would."""

    def __init__(self, address, metadata=None):
        self.channel = open_channel(address)
        self.call = pb_grpc.PushkinStub(self.channel).Connect(metadata=metadata)

    async def send(self, event):
        await self.call.write(convert.editor_event_to_pb(event))

    async def receive(self, timeout_s=5.0):
        message = await asyncio.wait_for(self.call.read(), timeout_s)
        return None if message is grpc.aio.EOF else convert.daemon_event_from_pb(message)

    async def close(self):
        self.call.cancel()
        await self.channel.close()


async def still_serving(address):
    editor, buffer, _ = await connect_editor(address, text="still ", document_id="probe")
    async with DaemonClient(address) as client:
        result = await client.say("here")
    await editor.close()
    assert result.applied and buffer.text == "still here"


async def test_first_message_must_be_hello(daemon):
    raw = RawEditor(daemon.address)
    await raw.send(Focus("doc"))
    error = await raw.receive()
    assert isinstance(error, ProtocolError) and error.code is ErrorCode.BAD_MESSAGE and error.fatal
    assert "Hello" in error.message
    assert await raw.receive() is None
    await raw.close()
    await still_serving(daemon.address)


async def test_unsupported_protocol_version(daemon):
    raw = RawEditor(daemon.address)
    await raw.send(Hello("future-editor", protocol_version=2))
    error = await raw.receive()
    assert error.code is ErrorCode.UNSUPPORTED_VERSION and "1" in error.message
    await raw.close()


async def test_empty_oneof_and_unknown_documents_are_non_fatal(daemon):
    raw = RawEditor(daemon.address)
    await raw.send(Hello("raw"))
    assert (await raw.receive()).session_id
    await raw.call.write(pb.EditorMessage())  # nothing set
    error = await raw.receive()
    assert error.code is ErrorCode.BAD_MESSAGE and not error.fatal
    await raw.send(UpdateDocument("nope", 2, text="x"))
    error = await raw.receive()
    assert error.code is ErrorCode.UNKNOWN_DOCUMENT and "nope" in error.message and not error.fatal
    await raw.send(Focus("nope"))
    assert (await raw.receive()).code is ErrorCode.UNKNOWN_DOCUMENT
    await raw.send(CloseDocument("nope"))
    assert (await raw.receive()).code is ErrorCode.UNKNOWN_DOCUMENT
    await raw.send(EditResult(999, "nope", EditOutcome.APPLIED, 3))
    assert (await raw.receive()).code is ErrorCode.UNKNOWN_BATCH
    # The stream is still open and usable.
    await raw.send(OpenDocument("doc", "abc", 1))
    await raw.send(Focus("doc"))
    async with DaemonClient(daemon.address) as client:
        saying = asyncio.create_task(client.say("d", timeout_s=2))
        batch = await raw.receive()
        assert batch.document_id == "doc" and batch.base_version == 1
        await raw.send(EditResult(batch.batch_id, "doc", EditOutcome.APPLIED, 2))
        assert (await saying).final_text == "dabc"
    await raw.close()


async def test_offsets_out_of_range_mark_the_copy_out_of_sync_until_the_full_text_comes(daemon):
    raw = RawEditor(daemon.address)
    await raw.send(Hello("raw"))
    await raw.receive()
    await raw.send(OpenDocument("doc", "Привет", 1))
    await raw.send(Focus("doc"))
    await raw.send(UpdateDocument("doc", 2, changes=(TextEdit(4, 40, "!"),)))
    error = await raw.receive()
    assert error.code is ErrorCode.BAD_RANGE and "past the end" in error.message and not error.fatal
    async with DaemonClient(daemon.address) as client:
        result = await client.say("ignored")
        assert not result.batches and "out of sync" in result.message
        assert result.final_text == "Привет"  # the daemon's copy was not corrupted by the bad change
        await raw.send(UpdateDocument("doc", 3, text="Привет!"))
        await asyncio.sleep(0.05)
        saying = asyncio.create_task(client.say("ok"))
        batch = await raw.receive()
        assert batch.base_version == 3 and batch.edits == (TextEdit(7, 7, "ok"),)  # after a resync the cursor is at the end
        await raw.send(EditResult(batch.batch_id, "doc", EditOutcome.APPLIED, 4))
        assert (await saying).final_text == "Привет!ok"
    await raw.send(OpenDocument("doc2", "ab", 1, selection=convert.selection_from_pb(pb.Selection(anchor=9, active=9))))
    error = await raw.receive()
    assert error.code is ErrorCode.BAD_RANGE
    await raw.close()


async def test_a_stale_answer_without_text_is_refused(daemon):
    raw = RawEditor(daemon.address)
    await raw.send(Hello("raw"))
    await raw.receive()
    await raw.send(OpenDocument("doc", "abc", 1))
    await raw.send(Focus("doc"))
    async with DaemonClient(daemon.address) as client:
        saying = asyncio.create_task(client.say("x"))
        batch = await raw.receive()
        await raw.send(EditResult(batch.batch_id, "doc", EditOutcome.STALE, 5))  # no text
        error = await raw.receive()
        assert error.code is ErrorCode.BAD_MESSAGE and "current text" in error.message
        result = await saying
        assert not result.applied
    await raw.close()


async def test_oversized_documents_and_messages(short_dir):
    daemon = Daemon(unix_settings(short_dir, limits={"max_document_chars": 1000, "max_message_bytes": 64 * 1024}))
    await daemon.start()
    raw = RawEditor(daemon.address)
    await raw.send(Hello("raw"))
    await raw.receive()
    await raw.send(OpenDocument("big", "я" * 1001, 1))
    error = await raw.receive()
    assert error.code is ErrorCode.TOO_LARGE and "1000" in error.message and not error.fatal
    await raw.send(OpenDocument("small", "ok", 1))
    await raw.send(UpdateDocument("small", 2, text="z" * 5000))
    assert (await raw.receive()).code is ErrorCode.TOO_LARGE
    # Above the gRPC message limit: that one stream ends with RESOURCE_EXHAUSTED; the daemon goes on.
    await raw.send(OpenDocument("huge", "x" * 100_000, 1))
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await raw.receive()
    assert failure.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    await raw.close()
    async with DaemonClient(daemon.address) as client:
        result = await client.say("y" * 20_000)
        assert not result.batches and "limit" in result.message
    await still_serving(daemon.address)
    await daemon.stop(0.2)


async def test_malformed_bytes_on_the_wire(daemon):
    channel = open_channel(daemon.address)
    garbage = channel.stream_stream("/pushkin.v1.Pushkin/Connect", request_serializer=None, response_deserializer=None)
    call = garbage(iter([b"\xff\xff\xff\xff\x0f not a protobuf"]))
    answers = [pb.DaemonMessage.FromString(raw) async for raw in call]
    assert len(answers) == 1 and answers[0].error.code == pb.Error.BAD_MESSAGE and answers[0].error.fatal
    assert "could not be decoded" in answers[0].error.message
    unary = channel.unary_unary("/pushkin.v1.Pushkin/SendUtterance", request_serializer=None, response_deserializer=None)
    with pytest.raises(grpc.aio.AioRpcError):
        await unary(b"\x0a\x05\xff\xfe\xfd\xfc\xfb")  # field 1 (text) with invalid UTF-8
    await channel.close()
    await still_serving(daemon.address)


async def test_stream_audio_without_a_recognizer_and_with_bad_audio(daemon):
    from pushkin.proto.types import AudioStart

    async def pcm():
        yield b"\x00\x00" * 100

    async with DaemonClient(daemon.address) as client:
        with pytest.raises(DaemonCallError) as failure:
            async for _ in client.stream_audio(pcm()):
                pass
        assert failure.value.code == grpc.StatusCode.FAILED_PRECONDITION and "no recognizer" in failure.value.details
        for start, words in ((AudioStart(sample_rate=44100), "16000"), (AudioStart(channels=2), "mono"),
                             (AudioStart(sample_width=4), "16-bit")):
            with pytest.raises(DaemonCallError) as failure:
                async for _ in client.stream_audio(pcm(), start):
                    pass
            assert failure.value.code == grpc.StatusCode.INVALID_ARGUMENT and words in failure.value.details


# ---- TCP and tokens --------------------------------------------------------------------------------


def tcp_settings(folder, listen="tcp://127.0.0.1:0", **server):
    settings = Settings()
    return dataclasses.replace(settings, server=dataclasses.replace(
        settings.server, listen=listen, token_file=str(folder / "token"), **server))


async def test_tcp_requires_the_token(short_dir):
    daemon = Daemon(tcp_settings(short_dir))
    address = await daemon.start()
    assert address.port > 0
    token_path = short_dir / "token"
    assert os.stat(token_path).st_mode & 0o777 == 0o600
    async with DaemonClient(address, token="wrong") as client:
        with pytest.raises(DaemonCallError) as failure:
            await client.status()
        assert failure.value.code == grpc.StatusCode.UNAUTHENTICATED and "token" in failure.value.details
    with pytest.raises(DaemonUnavailable, match="token"):
        await EditorClient(address, token="wrong", reconnect=ReconnectPolicy(enabled=False)).start()
    # The right token works as metadata (token file) and as Hello.token for editors that cannot set metadata.
    editor, buffer, _ = await connect_editor(address, text="tcp ", token_file=str(token_path))
    async with DaemonClient(address, token_file=str(token_path)) as client:
        assert (await client.say("ok")).applied and buffer.text == "tcp ok"
    raw_channel = open_channel(address)
    call = pb_grpc.PushkinStub(raw_channel).Connect()
    await call.write(convert.editor_event_to_pb(Hello("raw", token=token_path.read_text().strip())))
    assert isinstance(convert.daemon_event_from_pb(await call.read()), type(editor.welcome))
    call.cancel()
    await raw_channel.close()
    await editor.close()
    await daemon.stop(0.2)


async def test_tcp_refuses_non_loopback_and_unsafe_token_files(short_dir):
    with pytest.raises(DaemonError, match="allow-remote"):
        await Daemon(tcp_settings(short_dir, listen="tcp://0.0.0.0:0")).start()
    token = short_dir / "token"
    token.write_text("secret\n")
    token.chmod(0o644)
    with pytest.raises(DaemonError, match="0600"):
        await Daemon(tcp_settings(short_dir)).start()
    token.chmod(0o600)
    daemon = Daemon(tcp_settings(short_dir, listen="tcp://0.0.0.0:0", allow_remote=True))
    address = await daemon.start()
    async with DaemonClient(f"tcp://127.0.0.1:{address.port}", token="secret") as client:
        assert (await client.status()).listen_address.startswith("tcp://0.0.0.0:")
    await daemon.stop(0.2)
