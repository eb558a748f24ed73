"""The daemon over a real Unix socket: focus, versioned edits, stale re-planning, Unicode, shutdown."""

from __future__ import annotations

import asyncio
import os
import stat

import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from pushkin.clients.buffer import EditorBuffer
from pushkin.clients.connection import open_channel
from pushkin.clients.daemon_client import DaemonClient
from pushkin.clients.editor import BatchHandled, Disconnected, EditorClient, ReconnectPolicy
from pushkin.daemon.server import Daemon, DaemonError
from pushkin.proto.types import (
    EditOutcome,
    ListenMode,
    ListenState,
    Selection,
    StatusNotice,
    TextEdit,
)

from .conftest import Recorder, connect_editor, unix_settings


async def test_say_inserts_at_the_focused_editors_cursor(daemon):
    editor, buffer, recorder = await connect_editor(daemon.address, text="Привет. ")
    async with DaemonClient(daemon.address) as client:
        result = await client.say("Hello world")
    assert result.applied, result.message
    assert buffer.text == "Привет. Hello world"
    assert result.final_text == buffer.text
    assert buffer.version == 2 and buffer.selection == Selection.cursor(19)
    assert [s.outcome for s in result.batches] == [EditOutcome.APPLIED]
    assert recorder.of_type(BatchHandled)[0].result.outcome is EditOutcome.APPLIED
    await editor.close()


async def test_only_the_most_recently_focused_editor_receives(daemon):
    first, first_buffer, _ = await connect_editor(daemon.address, name="a", text="A:", document_id="a.md")
    second, second_buffer, _ = await connect_editor(daemon.address, name="b", text="B:", document_id="b.md")
    async with DaemonClient(daemon.address) as client:
        result = await client.say("one")
        assert result.document_id == "b.md" and result.applied
        assert (first_buffer.text, second_buffer.text) == ("A:", "B:one")
        await first.focus("a.md")
        await asyncio.sleep(0.05)
        result = await client.say("two")
        assert result.document_id == "a.md"
        assert (first_buffer.text, second_buffer.text) == ("A:two", "B:one")
        # The editor lost focus altogether: dictation goes nowhere, and nothing changes.
        await first.focus("a.md", focused=False)
        await asyncio.sleep(0.05)
        result = await client.say("three")
        assert not result.batches and result.document_id == ""
        assert (first_buffer.text, second_buffer.text) == ("A:two", "B:one")
        assert "three" in [t.text for t in (await client.status()).recent_transcripts]
    await first.close()
    await second.close()


async def test_stale_batch_is_replanned_with_the_users_typing_first(daemon):
    recorder = Recorder()
    typed_once = []

    async def user_types_before_the_batch_arrives(buffer: EditorBuffer, batch):
        if not typed_once:
            typed_once.append(True)
            # The user typed "And more. " after the daemon planned; the editor reports it and answers STALE.
            await client.update(buffer.type_edits([TextEdit(len(buffer.text), len(buffer.text), "And more. ")]))
        return buffer.apply_batch(batch)

    client = EditorClient(daemon.address, editor_name="typist", apply=user_types_before_the_batch_arrives,
                          on_event=recorder, reconnect=ReconnectPolicy(enabled=False))
    await client.start()
    buffer = EditorBuffer("doc", text="I wrote. ", version=7, selection=Selection.cursor(9))
    await client.open(buffer)
    async with DaemonClient(daemon.address) as say:
        result = await say.say("This.")
    assert [s.outcome for s in result.batches] == [EditOutcome.STALE, EditOutcome.APPLIED]
    assert result.batches[0].batch.base_version == 7 and result.batches[1].batch.base_version == 8
    assert buffer.text == "I wrote. And more. This."
    assert result.final_text == buffer.text and result.applied
    await client.close()


async def test_an_editor_that_keeps_changing_gets_the_utterance_dropped_with_a_notice(short_dir):
    daemon = Daemon(unix_settings(short_dir, edits={"max_replans": 2}))
    await daemon.start()
    recorder = Recorder()

    async def always_typing(buffer: EditorBuffer, batch):
        await client.update(buffer.type_edits([TextEdit(0, 0, "x")]))
        return buffer.apply_batch(batch)

    client = EditorClient(daemon.address, apply=always_typing, on_event=recorder,
                          reconnect=ReconnectPolicy(enabled=False))
    await client.start()
    buffer = EditorBuffer("doc", text="text", selection=Selection.cursor(4))
    await client.open(buffer)
    async with DaemonClient(daemon.address) as say:
        result = await say.say("lost?")
    assert not result.applied
    assert [s.outcome for s in result.batches] == [EditOutcome.STALE] * 3
    assert "dropped" in result.message
    assert buffer.text == "xxxtext"  # only the user's typing; never a blind edit
    assert result.final_text == buffer.text
    notice = await recorder.wait_for(lambda e: isinstance(e, StatusNotice) and e.code == "edit-dropped")
    assert "lost?" in notice.message
    await client.close()
    await daemon.stop(0.2)


@pytest.mark.parametrize("text, selection, utterance, expected", [
    ("Привет мир", Selection(7, 10), "друг", "Привет друг"),
    ("a👋b", Selection(1, 2), "🙂", "a🙂b"),  # replace exactly one emoji (two UTF-16 units, one code point)
    ("Cafe\u0301 ok", Selection.cursor(5), "!", "Cafe\u0301! ok"),  # after the combining acute, not inside
    ("👨‍👩‍👧 семья", Selection.cursor(5), "моя", "👨‍👩‍👧моя семья"),  # after a ZWJ sequence of five code points
])
async def test_unicode_at_edit_boundaries(daemon, text, selection, utterance, expected):
    editor, buffer, _ = await connect_editor(daemon.address, text=text)
    await editor.update(buffer.move_selection(selection))
    await asyncio.sleep(0.05)
    async with DaemonClient(daemon.address) as client:
        result = await client.say(utterance)
    assert buffer.text == expected
    assert result.final_text == expected  # the daemon's copy agrees, code point for code point
    await editor.close()


async def test_typing_in_russian_is_tracked_by_changes(daemon):
    editor, buffer, _ = await connect_editor(daemon.address, text="Ёж")
    await editor.update(buffer.type_edits([TextEdit(0, 0, "Колючий "), TextEdit(2, 2, "ик")]))
    async with DaemonClient(daemon.address) as client:
        result = await client.say("!")
    assert buffer.text == "Колючий Ёжик!"
    assert result.final_text == buffer.text
    await editor.close()


async def test_client_disconnecting_mid_batch_does_not_hurt_the_others(daemon):
    vanished = asyncio.Event()

    async def vanish(buffer, batch):
        vanished.set()
        await asyncio.sleep(30)  # never answers: the connection is closed under it

    quitter = EditorClient(daemon.address, editor_name="quitter", apply=vanish, reconnect=ReconnectPolicy(enabled=False))
    await quitter.start()
    await quitter.open(EditorBuffer("q", text="keep"))
    async with DaemonClient(daemon.address) as client:
        pending = asyncio.create_task(client.say("hello", timeout_s=10))
        await asyncio.wait_for(vanished.wait(), 5)
        quitter._call.cancel()  # the editor process dies mid-batch
        result = await asyncio.wait_for(pending, 5)
        assert not result.applied and "disconnected" in result.message
        survivor, buffer, _ = await connect_editor(daemon.address, text="ok ")
        assert (await client.say("fine")).applied and buffer.text == "ok fine"
    await survivor.close()
    await quitter.close()


async def test_a_hundred_editors_connect_at_once(daemon):
    async def one(index):
        return await connect_editor(daemon.address, name=f"e{index}", text=f"{index}:", document_id=f"d{index}",
                                    focus=False)

    editors = await asyncio.gather(*(one(i) for i in range(100)))
    async with DaemonClient(daemon.address) as client:
        status = await client.status()
        assert len(status.editors) == 100
        await editors[42][0].focus("d42")
        await asyncio.sleep(0.05)
        result = await client.say("x")
    assert result.applied and editors[42][1].text == "42:x"
    assert all(buffer.text == f"{i}:" for i, (_, buffer, _) in enumerate(editors) if i != 42)
    await asyncio.gather(*(editor.close() for editor, _, _ in editors))


async def test_listening_modes_are_kept_and_announced(daemon):
    editor, _, recorder = await connect_editor(daemon.address)
    async with DaemonClient(daemon.address) as client:
        status = await client.set_listening(mode=ListenMode.PUSH_TO_TALK)
        assert status.listen_mode is ListenMode.PUSH_TO_TALK and status.state is ListenState.MUTED
        status = await client.set_listening(key_pressed=True)
        assert status.state is ListenState.LISTENING
        status = await client.set_listening(key_pressed=False)
        assert status.state is ListenState.MUTED
        status = await client.set_listening(mode=ListenMode.TOGGLE, state=ListenState.LISTENING)
        status = await client.set_listening(key_pressed=True)
        assert status.state is ListenState.MUTED
        assert (await client.status()).listen_mode is ListenMode.TOGGLE
    notice = await recorder.wait_for(lambda e: isinstance(e, StatusNotice) and e.state is ListenState.LISTENING)
    assert notice.code == "listen-state"
    await editor.close()


async def test_health_and_reflection(daemon):
    channel = open_channel(daemon.address)
    health = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service="pushkin.v1.Pushkin"))
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)

    async def ask():
        yield reflection_pb2.ServerReflectionRequest(list_services="")

    services = set()
    async for answer in stub.ServerReflectionInfo(ask()):
        services = {s.name for s in answer.list_services_response.service}
    assert {"pushkin.v1.Pushkin", "grpc.health.v1.Health"} <= services
    await channel.close()


async def test_socket_is_private_and_cleaned_up_and_not_shared(short_dir):
    daemon = Daemon(unix_settings(short_dir))
    address = await daemon.start()
    assert stat.S_IMODE(os.stat(address.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(short_dir).st_mode) & 0o077 == 0
    with pytest.raises(DaemonError, match="already listening"):
        await Daemon(unix_settings(short_dir)).start()
    editor, _, recorder = await connect_editor(address)
    await daemon.stop(0.5)
    await recorder.wait_for(lambda e: isinstance(e, StatusNotice) and e.code == "daemon-stopping")
    await recorder.wait_for(lambda e: isinstance(e, Disconnected))
    assert not os.path.exists(address.path)
    await editor.close()


async def test_a_socket_left_by_a_dead_daemon_is_replaced(short_dir):
    import socket

    leftover = socket.socket(socket.AF_UNIX)
    leftover.bind(str(short_dir / "d.sock"))
    leftover.close()  # bound, never listening: what a killed daemon leaves
    daemon = Daemon(unix_settings(short_dir))
    await daemon.start()
    async with DaemonClient(daemon.address) as client:
        assert (await client.status()).listen_address.endswith("d.sock")
    await daemon.stop(0.2)


async def test_editor_reconnects_and_reopens_its_document(short_dir):
    daemon = Daemon(unix_settings(short_dir))
    await daemon.start()
    editor, buffer, recorder = await connect_editor(
        daemon.address, text="before ", reconnect=ReconnectPolicy(first_delay_s=0.05, max_delay_s=0.2))
    await daemon.stop(0.2)
    await recorder.wait_for(lambda e: isinstance(e, Disconnected))
    restarted = Daemon(unix_settings(short_dir))
    await restarted.start()
    await editor.wait_connected(5)
    async with DaemonClient(restarted.address) as client:
        result = await client.say("after")
    assert result.applied and buffer.text == "before after"
    await editor.close()
    await restarted.stop(0.2)
