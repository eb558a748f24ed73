"""Rewrites with real Gemma 3 270M through a real daemon and editor: the text changes in one undo step, and
the guards keep the user's text when the model writes nonsense."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import tempfile
from pathlib import Path

import pytest
from daemon.conftest import connect_editor, unix_settings

from pushkin.clients.daemon_client import DaemonClient
from pushkin.daemon.intent import IntentEngine
from pushkin.daemon.model_settings import ModelSettings
from pushkin.daemon.rewrite import LM_COMPONENT, build_rewriter
from pushkin.daemon.server import Daemon

# The session's one GGUF conversion (minutes on a busy 2-core machine) runs in the first test's setup.
pytestmark = pytest.mark.timeout(1800)


@pytest.fixture
def short_dir():
    path = Path(tempfile.mkdtemp(prefix="pk-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def _daemon(folder, model: ModelSettings):
    settings = unix_settings(folder)
    settings = dataclasses.replace(settings, model=model,
                                   intent=dataclasses.replace(settings.intent, language_model=True))
    rewriter = build_rewriter(model)
    daemon = Daemon(settings, planner=IntentEngine(settings.intent), rewriter=rewriter)
    await daemon.start()
    return daemon, rewriter


async def _ready(client, timeout=600.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        (line,) = [c for c in (await client.status()).components if c.name == LM_COMPONENT]
        if line.state in ("ready", "error"):
            return line
        await asyncio.sleep(0.2)
    raise TimeoutError("the language model did not load")


async def test_make_that_more_formal_changes_the_text_in_one_undo_step(short_dir, gemma_270m):
    model = ModelSettings(enabled=True, model=gemma_270m.source.path, temperature=0.0, min_p=0.0)
    daemon, rewriter = await _daemon(short_dir, model)
    try:
        editor, buffer, _ = await connect_editor(daemon.address, text="")
        async with DaemonClient(daemon.address) as client:
            line = await _ready(client)
            assert line.state == "ready", line.detail
            assert (await client.say("hey, the meeting was kinda boring and way too long")).applied
            dictated = buffer.text
            result = await client.say("make that more formal", timeout_s=60)
            assert result.applied, result.message
            assert len(result.batches) == 1 and len(result.batches[0].batch.edits) == 1
            assert buffer.text != dictated and buffer.text.strip()
            assert "\u2028" not in buffer.text and "Result:" not in buffer.text and "<" not in buffer.text
            undo = await client.say("undo")
            assert undo.applied, undo.message
            assert buffer.text == dictated
        await editor.close()
    finally:
        await daemon.stop(0.5)
        rewriter.runner.worker.shutdown()


async def test_nonsense_from_the_model_is_refused_and_the_text_kept(short_dir, gemma_270m):
    # Sampling at temperature 5 without min-p: the real model writes multilingual noise.
    model = ModelSettings(enabled=True, model=gemma_270m.source.path, temperature=5.0, min_p=0.0)
    daemon, rewriter = await _daemon(short_dir, model)
    try:
        editor, buffer, _ = await connect_editor(daemon.address, text="")
        async with DaemonClient(daemon.address) as client:
            assert (await _ready(client)).state == "ready"
            assert (await client.say("the writer opened the window and looked at the sea")).applied
            dictated = buffer.text
            result = await client.say("rephrase that", timeout_s=60)
            assert not result.batches and "refused" in result.message and "unchanged" in result.message
            assert buffer.text == dictated
        await editor.close()
    finally:
        await daemon.stop(0.5)
        rewriter.runner.worker.shutdown()
