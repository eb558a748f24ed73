"""Fixtures: a real daemon on a real Unix socket (or loopback TCP) in a short temporary folder."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import tempfile
from pathlib import Path

import pytest

from pushkin.clients.buffer import EditorBuffer
from pushkin.clients.editor import EditorClient, ReconnectPolicy
from pushkin.daemon.server import Daemon
from pushkin.daemon.settings import Settings


@pytest.fixture
def short_dir():
    # Unix socket paths are limited to 107 bytes; pytest's tmp_path can be longer.
    path = Path(tempfile.mkdtemp(prefix="pk-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def unix_settings(folder: Path, **sections) -> Settings:
    """Settings for a test daemon on ``folder``/d.sock. The microphone is off: a test never opens the
    machine's sound card (a test that wants the microphone loop passes its own audio source)."""
    settings = Settings()
    settings = dataclasses.replace(settings, hearing=dataclasses.replace(
        settings.hearing, preload=False,
        microphone=dataclasses.replace(settings.hearing.microphone, enabled=False)))
    settings = dataclasses.replace(settings, server=dataclasses.replace(settings.server, listen=f"unix://{folder}/d.sock"))
    for name, values in sections.items():
        settings = dataclasses.replace(settings, **{name: dataclasses.replace(getattr(settings, name), **values)})
    return settings


@pytest.fixture
async def daemon(short_dir):
    daemon = Daemon(unix_settings(short_dir))
    await daemon.start()
    yield daemon
    await daemon.stop(0.2)


class Recorder:
    """Collects what an EditorClient reports, and lets a test wait for a kind of event."""

    def __init__(self):
        self.events = []
        self._changed = asyncio.Condition()

    async def __call__(self, event):
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    async def wait_for(self, predicate, timeout_s: float = 5.0):
        async def wait():
            async with self._changed:
                while True:
                    for event in self.events:
                        if predicate(event):
                            return event
                    await self._changed.wait()

        return await asyncio.wait_for(wait(), timeout_s)

    def of_type(self, kind):
        return [e for e in self.events if isinstance(e, kind)]


async def connect_editor(address, name="test", text="", document_id="doc", focus=True, cursor=None, **kwargs):
    recorder = Recorder()
    client = EditorClient(address, editor_name=name, on_event=recorder,
                          reconnect=kwargs.pop("reconnect", ReconnectPolicy(enabled=False)), **kwargs)
    await client.start()
    buffer = EditorBuffer(document_id, text=text, version=1)
    if cursor is not None:
        from pushkin.proto.types import Selection

        buffer.selection = Selection.cursor(cursor)
    else:
        from pushkin.proto.types import Selection

        buffer.selection = Selection.cursor(len(text))
    await client.open(buffer, focus=focus)
    return client, buffer, recorder
