"""Rewrite commands through the real daemon: intent engine + a word-moving language model, over a Unix socket."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from pushkin.clients.daemon_client import DaemonClient
from pushkin.clients.editor import BatchHandled
from pushkin.daemon.intent import IntentEngine
from pushkin.daemon.rewrite import RewriteExecutor, RewriteRunner
from pushkin.daemon.server import Daemon
from pushkin.model.rewrite import RewriteOptions
from pushkin.model.worker import ModelWorker
from pushkin.proto.types import Proposal, ProposalDecision

from .conftest import connect_editor, unix_settings
from .parrot_lm import ParrotModel

LIVELY = RewriteOptions(temperature=3.0, min_p=0.0, max_new_tokens=10, seed=4)


@pytest.fixture
async def model_daemon(short_dir):
    settings = unix_settings(short_dir)
    settings = dataclasses.replace(settings, intent=dataclasses.replace(settings.intent, language_model=True))
    # A rewrite the guards accept (the tiny random model's noise is refused, see test_daemon_rewrite.py).
    worker = ModelWorker(lambda progress: ParrotModel(), name="test-daemon-model")
    rewriter = RewriteExecutor(RewriteRunner(worker, options=LIVELY))
    daemon = Daemon(settings, planner=IntentEngine(settings.intent), rewriter=rewriter)
    await daemon.start()
    yield daemon
    await daemon.stop(0.2)
    worker.shutdown()


async def test_rephrase_that_is_applied_as_one_step_and_undo_reverts_it(model_daemon):
    editor, buffer, _ = await connect_editor(model_daemon.address, text="")
    async with DaemonClient(model_daemon.address) as client:
        assert (await client.say("the fox jumps over the dog")).applied
        dictated = buffer.text
        result = await client.say("rephrase that")
        assert result.applied, result.message
        assert len(result.batches) == 1 and len(result.batches[0].batch.edits) == 1
        assert buffer.text != dictated
        undo = await client.say("undo")
        assert undo.applied, undo.message
        assert buffer.text == dictated
    await editor.close()


async def test_an_editor_with_proposals_previews_and_accepts_by_voice(model_daemon):
    editor, buffer, recorder = await connect_editor(model_daemon.address, text="", capabilities=("proposals",))
    async with DaemonClient(model_daemon.address) as client:
        assert (await client.say("Писатель открыл документ")).applied
        dictated = buffer.text
        offered = await client.say("перефразируй это")
        assert not offered.batches and "accept" in offered.message
        proposal = await recorder.wait_for(lambda e: isinstance(e, Proposal))
        assert buffer.text == dictated  # shown, not applied
        accepted = await client.say("accept")
        assert accepted.applied and len(accepted.batches) == 1
        assert accepted.batches[0].batch.edits == proposal.edits
        assert buffer.text != dictated
        assert (await client.say("undo")).applied
        assert buffer.text == dictated
        again = await client.say("rephrase that")
        assert "accept" in again.message
        rejected = await client.say("reject")
        assert not rejected.batches and buffer.text == dictated
    await editor.close()


async def test_the_editor_accepts_a_proposal_itself(model_daemon):
    editor, buffer, recorder = await connect_editor(model_daemon.address, text="", capabilities=("proposals",))
    async with DaemonClient(model_daemon.address) as client:
        assert (await client.say("the sea was calm")).applied
        dictated = buffer.text
        await client.say("make that more formal")
        proposal = await recorder.wait_for(lambda e: isinstance(e, Proposal))
        assert await editor.send(ProposalDecision(proposal.proposal_id, True))
        handled = await recorder.wait_for(lambda e: isinstance(e, BatchHandled) and e.batch.edits == proposal.edits)
        assert handled.result.outcome.value == "applied" and buffer.text != dictated
        assert await editor.send(ProposalDecision(proposal.proposal_id, True))  # decided already: an error, no edit
        await asyncio.sleep(0.1)
        assert len([e for e in recorder.events if isinstance(e, BatchHandled)]) == 2
    await editor.close()


async def test_without_a_model_rewrite_commands_say_so(short_dir):
    settings = unix_settings(short_dir)
    daemon = Daemon(settings, planner=IntentEngine(settings.intent))
    await daemon.start()
    try:
        editor, buffer, _ = await connect_editor(daemon.address, text="")
        async with DaemonClient(daemon.address) as client:
            await client.say("hello there")
            before = buffer.text
            result = await client.say("rephrase that")
        assert not result.batches and buffer.text == before
        assert "needs a language model" in result.message
        await editor.close()
    finally:
        await daemon.stop(0.2)
