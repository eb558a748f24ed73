"""Issue 11, the daemon side: timeouts, expiring batches, malformed messages, contract rules, TCP tokens.

Every test runs a real daemon on a real socket; the stopped editor is a real process stopped with SIGSTOP.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import signal
import sys
import textwrap
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from pushkin.clients.buffer import EditorBuffer
from pushkin.clients.connection import open_channel
from pushkin.clients.daemon_client import DaemonCallError, DaemonClient
from pushkin.clients.editor import EditorClient, ReconnectPolicy
from pushkin.daemon.server import Daemon
from pushkin.proto import convert
from pushkin.proto.endpoint import TOKEN_METADATA_KEY
from pushkin.proto.types import (
    EditOutcome,
    EditResult,
    ErrorCode,
    Focus,
    Hello,
    ListenMode,
    ListenState,
    OpenDocument,
    ProtocolError,
    Selection,
    StatusNotice,
    TextEdit,
    UpdateDocument,
    Welcome,
)
from pushkin.proto.v1 import pushkin_pb2 as pb
from pushkin.proto.v1 import pushkin_pb2_grpc as pb_grpc

from .conftest import Recorder, connect_editor, unix_settings
from .test_bad_input import RawEditor, still_serving, tcp_settings

# ---- a real editor process that can be stopped ---------------------------------------------------------

EDITOR_PROCESS = textwrap.dedent("""
    import asyncio, json, sys
    from pushkin.clients.buffer import EditorBuffer
    from pushkin.clients.editor import BatchHandled, EditorClient, ReconnectPolicy
    from pushkin.proto.types import Selection

    async def main(address, document_id, text):
        buffer = EditorBuffer(document_id, text=text, version=1, selection=Selection.cursor(len(text)))

        def report(event):
            if isinstance(event, BatchHandled):
                print(json.dumps({"outcome": event.result.outcome.value, "text": buffer.text}), flush=True)

        client = EditorClient(address, editor_name="stoppable", on_event=report,
                              reconnect=ReconnectPolicy(enabled=False))
        await client.start()
        await client.open(buffer, focus=False)
        print(json.dumps({"ready": True}), flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main(*sys.argv[1:]))
""")


class EditorProcess:
    """``python -c EDITOR_PROCESS``: an EditorClient in its own process, reporting each handled batch."""

    def __init__(self, process: asyncio.subprocess.Process):
        self.process = process

    @classmethod
    async def start(cls, address, document_id: str, text: str) -> EditorProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", EDITOR_PROCESS, address.uri, document_id, text,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        editor = cls(process)
        assert (await editor.report(20.0)) == {"ready": True}
        return editor

    async def report(self, timeout_s: float = 5.0) -> dict:
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout_s)
        if not line:
            raise AssertionError(f"the editor process ended: {(await self.process.stderr.read()).decode()[-2000:]}")
        return json.loads(line)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
        await self.process.wait()


async def wait_for_document(address, document_id: str, timeout_s: float = 5.0) -> None:
    async with DaemonClient(address) as client:
        deadline = time.monotonic() + timeout_s
        while not any(document_id in e.document_ids for e in (await client.status()).editors):
            assert time.monotonic() < deadline, f"{document_id} never opened"
            await asyncio.sleep(0.02)


# ---- item 4: timeouts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("timeout_s", [math.inf, -math.inf, math.nan, -1.0, 1e308, 61.0])
async def test_absurd_timeouts_are_refused_naming_the_field(daemon, timeout_s):
    editor, buffer, _ = await connect_editor(daemon.address, text="keep ")
    async with DaemonClient(daemon.address) as client:
        with pytest.raises(DaemonCallError) as failure:
            await client.say("never", timeout_s=timeout_s)
        assert failure.value.code == grpc.StatusCode.INVALID_ARGUMENT
        assert "timeout_s" in failure.value.details and "60" in failure.value.details
        assert (await client.say("fine", timeout_s=60)).applied  # the cap itself is allowed
    assert buffer.text == "keep fine"
    await editor.close()


@pytest.mark.parametrize("field", ["pause_before_s", "pause_after_s"])
async def test_non_finite_pauses_are_refused(daemon, field):
    async with DaemonClient(daemon.address) as client:
        for value in (math.nan, math.inf, -2.0):
            with pytest.raises(DaemonCallError) as failure:
                await client.say("x", **{field: value})
            assert failure.value.code == grpc.StatusCode.INVALID_ARGUMENT and field in failure.value.details


async def test_a_stopped_editor_does_not_stall_another_editors_utterance(daemon):
    stopped = await EditorProcess.start(daemon.address, "stopped-doc", "frozen ")
    steady, buffer, _ = await connect_editor(daemon.address, name="steady", text="live ", document_id="steady-doc")
    try:
        stopped.stop()
        async with DaemonClient(daemon.address) as client:
            waiting = [asyncio.create_task(client.say(f"lost{i}", document_id="stopped-doc", timeout_s=4))
                       for i in range(3)]
            await asyncio.sleep(0.2)  # the first batch is on its way to the stopped editor, two more are queued
            began = time.monotonic()
            result = await client.say("fast", document_id="steady-doc")
            took = time.monotonic() - began
            assert result.applied and buffer.text == "live fast"
            assert took < 1.0, f"the steady editor's utterance waited {took:.2f} s behind a stopped editor"
            for task in waiting:
                task.cancel()
    finally:
        await stopped.kill()
        await steady.close()


# ---- item 5: "not applied" is true --------------------------------------------------------------------


async def test_a_stopped_editor_refuses_the_expired_batch_and_the_user_is_never_told_not_applied(daemon):
    editor = await EditorProcess.start(daemon.address, "late-doc", "draft ")
    try:
        editor.stop()
        async with DaemonClient(daemon.address) as client:
            result = await client.say("twice", document_id="late-doc", timeout_s=0.5)
            assert not result.applied
            assert "unknown" in result.message and "not applied" not in result.message
            assert result.batches and result.batches[0].outcome is EditOutcome.UNANSWERED
            assert result.batches[0].batch.expires_at_unix_ms > 0
            editor.resume()
            # The editor reads the batch now, after its expiry: it refuses it and its text stays as it was.
            assert await editor.report() == {"outcome": "expired", "text": "draft "}
            await asyncio.sleep(0.1)
            status_text = (await client.say("", document_id="late-doc")).final_text
            assert status_text == "draft "
            # The user repeats the utterance, as told they may after checking: it lands exactly once.
            again = await client.say("twice", document_id="late-doc")
            assert again.applied and again.final_text == "draft twice"
            assert await editor.report() == {"outcome": "applied", "text": "draft twice"}
    finally:
        await editor.kill()


async def test_an_answer_that_comes_after_the_wait_is_reported_as_a_late_edit(short_dir):
    daemon = Daemon(unix_settings(short_dir, edits={"answer_grace_s": 0.2}))
    await daemon.start()
    started_applying = asyncio.Event()

    async def slow_apply(buffer, batch):
        started_applying.set()
        await asyncio.sleep(1.0)  # the batch was fresh when this began; the daemon gives up meanwhile
        return buffer.apply_batch(batch)

    recorder = Recorder()
    editor = EditorClient(daemon.address, editor_name="slow", apply=slow_apply, on_event=recorder,
                          reconnect=ReconnectPolicy(enabled=False))
    await editor.start()
    buffer = EditorBuffer("slow-doc", text="a ", selection=Selection.cursor(2))
    await editor.open(buffer)
    async with DaemonClient(daemon.address) as client:
        result = await client.say("b", timeout_s=0.3)
        assert started_applying.is_set() and not result.applied
        assert "unknown" in result.message and "not applied" not in result.message
        notice = await recorder.wait_for(lambda e: isinstance(e, StatusNotice) and e.code == "late-edit-applied")
        assert notice.document_id == "slow-doc" and buffer.text == "a b"
        # The daemon's copy followed the late answer: the next utterance plans against "a b".
        assert (await client.say("c")).final_text == "a bc" and buffer.text == "a bc"
    await editor.close()
    await daemon.stop(0.2)


# ---- item 7: malformed messages ------------------------------------------------------------------------


class RawBytesEditor:
    """A Connect stream that writes raw bytes, to send what no protobuf library would."""

    def __init__(self, address, metadata=None):
        self.channel = open_channel(address)
        connect = self.channel.stream_stream("/pushkin.v1.Pushkin/Connect", request_serializer=None,
                                             response_deserializer=pb.DaemonMessage.FromString)
        self.call = connect(metadata=metadata)

    async def send(self, data: bytes | object):
        if not isinstance(data, bytes):
            data = convert.editor_event_to_pb(data).SerializeToString()
        await self.call.write(data)

    async def receive(self, timeout_s=5.0):
        message = await asyncio.wait_for(self.call.read(), timeout_s)
        return None if message is grpc.aio.EOF else convert.daemon_event_from_pb(message)

    async def close(self):
        self.call.cancel()
        await self.channel.close()


UNDECODABLE = [
    b"\xff\xff\xff\xff\x0f not a protobuf",
    b"\x0a\x05\x0a\x03\xff\xfe\xfd",  # Hello.editor_name with invalid UTF-8
    b"\x12\x04\x0a\x02\xed\xa0",  # OpenDocument.document_id: a lone surrogate in UTF-8
    b"\x0a",  # a truncated field
    b"\x1a\xff\xff\xff\xff\x0f",  # a length past the end
]


async def test_undecodable_messages_after_hello_get_bad_message_and_the_stream_goes_on(daemon, caplog):
    raw = RawBytesEditor(daemon.address)
    await raw.send(Hello("raw"))
    assert isinstance(await raw.receive(), Welcome)
    for data in UNDECODABLE:
        await raw.send(data)
        error = await raw.receive()
        assert isinstance(error, ProtocolError) and error.code is ErrorCode.BAD_MESSAGE and not error.fatal
        assert "could not be decoded as a EditorMessage" in error.message
    # The same stream still works: a document opens and receives dictation.
    await raw.send(OpenDocument("doc", "ok", 1))
    await raw.send(Focus("doc"))
    async with DaemonClient(daemon.address) as client:
        saying = asyncio.create_task(client.say("!"))
        batch = await raw.receive()
        await raw.send(EditResult(batch.batch_id, "doc", EditOutcome.APPLIED, 2))
        assert (await saying).final_text == "!ok"  # the cursor of a new document is at its start
    await raw.close()
    assert not [r for r in caplog.records if r.exc_info], "a malformed message logged a traceback"


async def test_an_edit_result_without_a_known_outcome_is_a_bad_message(daemon):
    raw = RawEditor(daemon.address)
    await raw.send(Hello("raw"))
    await raw.receive()
    for outcome in (0, 99):
        await raw.call.write(pb.EditorMessage(edit_result=pb.EditResult(batch_id=1, document_id="d", outcome=outcome)))
        error = await raw.receive()
        assert error.code is ErrorCode.BAD_MESSAGE and "outcome" in error.message and not error.fatal
    await raw.close()


@pytest.mark.parametrize("method", ["SendUtterance", "GetStatus", "SetListening"])
async def test_undecodable_unary_requests_are_invalid_argument_without_a_traceback(daemon, caplog, method):
    caplog.set_level(logging.DEBUG)
    channel = open_channel(daemon.address)
    call = channel.unary_unary(f"/pushkin.v1.Pushkin/{method}", request_serializer=None, response_deserializer=None)
    undecodable = [b"\xff\xff\xff", b"\x0a\xff\xff\xff\xff\x0f"]
    if method == "SendUtterance":
        undecodable.append(b"\x0a\x05\xff\xfe\xfd\xfc\xfb")  # text with invalid UTF-8
    for data in undecodable:
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await call(data)
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "could not be decoded" in failure.value.details()
    await channel.close()
    await still_serving(daemon.address)
    assert not [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]


async def test_undecodable_audio_chunks_are_invalid_argument(daemon):
    channel = open_channel(daemon.address)
    call = channel.stream_stream("/pushkin.v1.Pushkin/StreamAudio", request_serializer=None,
                                 response_deserializer=None)(iter([b"\x0a\x02\x2a\xff"]))
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        async for _ in call:
            pass
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "AudioChunk" in failure.value.details()
    await channel.close()


# ---- item 8: contract rules ----------------------------------------------------------------------------


async def test_versions_going_backwards_are_refused_and_never_planned_against(daemon):
    raw = RawEditor(daemon.address)
    await raw.send(Hello("raw"))
    await raw.receive()
    await raw.send(OpenDocument("doc", "abc", 5))
    await raw.send(Focus("doc"))
    await raw.send(UpdateDocument("doc", 3, changes=(TextEdit(0, 0, "X"),)))
    error = await raw.receive()
    assert error.code is ErrorCode.BAD_MESSAGE and "backwards" in error.message and "from 5 to 3" in error.message
    await raw.send(UpdateDocument("doc", 5, text="abcd"))  # the same version with another text: refused too
    assert (await raw.receive()).code is ErrorCode.BAD_MESSAGE
    async with DaemonClient(daemon.address) as client:
        result = await client.say("y")
        assert not result.batches and "out of sync" in result.message and result.final_text == "abc"
        # A selection-only update at an older version is refused; at the same version it is fine.
        await raw.send(UpdateDocument("doc", 4))
        assert (await raw.receive()).code is ErrorCode.BAD_MESSAGE
        await raw.send(UpdateDocument("doc", 7, text="Xabc"))  # the full text at a newer version resyncs
        await asyncio.sleep(0.05)
        saying = asyncio.create_task(client.say("y"))
        batch = await raw.receive()
        assert batch.base_version == 7
        # An answer whose version does not grow is refused as well.
        await raw.send(EditResult(batch.batch_id, "doc", EditOutcome.APPLIED, 6))
        error = await raw.receive()
        assert error.code is ErrorCode.BAD_MESSAGE and "did not grow" in error.message
        assert not (await saying).applied
    await raw.close()


@pytest.mark.parametrize("field, value", [("state", 99), ("state", 0), ("state", 4), ("mode", 99), ("mode", 0),
                                          ("intent_mode", 7), ("intent_mode", 0), ("key", 5)])
async def test_set_listening_with_an_unknown_enum_value_is_invalid_argument(daemon, field, value):
    async with DaemonClient(daemon.address) as client:
        before = await client.status()
        stub = pb_grpc.PushkinStub(client._channel)
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await stub.SetListening(pb.SetListeningRequest(**{field: value}))
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT and field in failure.value.details()
        after = await client.status()
        assert (after.state, after.listen_mode, after.intent_mode) == (before.state, before.listen_mode,
                                                                        before.intent_mode)
        status = await client.set_listening(mode=ListenMode.PUSH_TO_TALK)  # a known value still works
        assert status.listen_mode is ListenMode.PUSH_TO_TALK and status.state is ListenState.MUTED


# ---- item 10c: TCP health and reflection need the token ------------------------------------------------


async def test_tcp_health_and_reflection_require_the_token(short_dir):
    daemon = Daemon(tcp_settings(short_dir))
    address = await daemon.start()
    token = (short_dir / "token").read_text().strip()
    channel = open_channel(address)
    health = health_pb2_grpc.HealthStub(channel)
    reflect = reflection_pb2_grpc.ServerReflectionStub(channel)

    async def list_services(metadata):
        async def ask():
            yield reflection_pb2.ServerReflectionRequest(list_services="")

        names = set()
        async for answer in reflect.ServerReflectionInfo(ask(), metadata=metadata):
            names |= {s.name for s in answer.list_services_response.service}
        return names

    for metadata in (None, ((TOKEN_METADATA_KEY, "wrong"),)):
        for call in (health.Check(health_pb2.HealthCheckRequest(service=""), metadata=metadata),
                     list_services(metadata)):
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await call
            assert failure.value.code() == grpc.StatusCode.UNAUTHENTICATED and "token" in failure.value.details()
        watch = health.Watch(health_pb2.HealthCheckRequest(service=""), metadata=metadata)
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await watch.read()
        assert failure.value.code() == grpc.StatusCode.UNAUTHENTICATED
    good = ((TOKEN_METADATA_KEY, token),)
    answer = await health.Check(health_pb2.HealthCheckRequest(service="pushkin.v1.Pushkin"), metadata=good)
    assert answer.status == health_pb2.HealthCheckResponse.SERVING
    assert "pushkin.v1.Pushkin" in await list_services(good)
    await channel.close()
    await daemon.stop(0.2)


@pytest.mark.parametrize("overrides, words", [
    ({"edits.timeout_s": "inf"}, "edits.timeout_s must be a positive number"),
    ({"edits.max_timeout_s": "nan"}, "edits.max_timeout_s must be a positive number"),
    ({"edits.answer_grace_s": "-1.0"}, "edits.answer_grace_s must be a positive number"),
    ({"edits.timeout_s": "90.0"}, "above edits.max_timeout_s"),
])
def test_edit_timeout_settings_are_checked(overrides, words):
    from pushkin.daemon.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match=words):
        load_settings(None, overrides)


# ---- load: connecting costs the same however many editors are connected ----------------------------------


async def test_a_welcome_lists_only_its_own_editor(daemon):
    editors = [await connect_editor(daemon.address, name=f"e{i}", document_id=f"d{i}", focus=False)
               for i in range(3)]
    raw = RawEditor(daemon.address)
    await raw.send(Hello("newcomer"))
    welcome = await raw.receive()
    assert [e.editor_name for e in welcome.status.editors] == ["newcomer"]
    async with DaemonClient(daemon.address) as client:
        assert len((await client.status()).editors) == 4  # GetStatus still lists everyone
    await raw.close()
    for editor, _, _ in editors:
        await editor.close()
