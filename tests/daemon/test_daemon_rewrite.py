"""Rewrite commands in the daemon: the model worker thread, one undo group, cancellation, proposals."""

from __future__ import annotations

import asyncio
import threading

import pytest

from pushkin.daemon.planning import DocumentSnapshot, EditPlan
from pushkin.daemon.rewrite import ProposalBook, ProposalError, RewriteError, RewriteRunner, plan_rewrite
from pushkin.model.rewrite import RewriteOptions
from pushkin.model.worker import ModelWorker
from pushkin.proto.textedit import apply_edits, invert_edits
from pushkin.proto.types import Intent, IntentKind, Selection, TextEdit

TEXT = "First line. the fox jump over dog. Last line."
THAT = (12, 34)  # "the fox jump over dog."


def _command(task, start, end):
    """The intent engine's plan for a rewrite of [start, end)."""
    return EditPlan(Intent(IntentKind.COMMAND, "rewrite", {"task": task}, text=f"{task} that"), span=(start, end))


def _doc(text=TEXT, version=3):
    return DocumentSnapshot("doc-1", text, version, Selection.cursor(len(text)))


@pytest.fixture
def worker(composed):
    worker = ModelWorker(lambda progress: composed, name="test-rewrite-worker")
    yield worker
    worker.shutdown()


LIVELY = RewriteOptions(temperature=3.0, min_p=0.0, max_new_tokens=12, seed=5)


class ScriptedModel:
    """A LanguageModel (the daemon's seam) that writes given texts in turn, word by word. The tiny random
    model writes noise the guards refuse (see test_the_guards_refuse_the_tiny_models_noise), so the tests of
    what happens to an accepted rewrite use this; the real tier runs them on Gemma 3 270M."""

    def __init__(self, *texts: str) -> None:
        self.texts = texts
        self.calls = 0

    def compose(self, mode, task=""):
        from pushkin.model.composed import CompositionStatus

        return CompositionStatus(mode, task, (), (), False)

    def stream(self, prompt, options, cancel=None):
        import re

        text = self.texts[self.calls % len(self.texts)]
        self.calls += 1
        for piece in re.findall(r"\s*\S+", text):
            if cancel is not None and cancel.is_set():
                return
            yield piece


@pytest.fixture
def scripted():
    def make(*texts):
        worker = ModelWorker(lambda progress: ScriptedModel(*texts), name="test-rewrite-worker")
        made.append(worker)
        return worker

    made = []
    yield make
    for worker in made:
        worker.shutdown()


async def test_a_rewrite_is_one_edit_in_one_undo_group(scripted):
    runner = RewriteRunner(scripted("The fox jumped over the dog.", "the fox jumped over a dog."), options=LIVELY)
    partials = []
    outcome = await runner.run(_command("formal", *THAT), _doc(), on_partial=partials.append)
    plan = outcome.plan
    assert outcome.text and not outcome.cancelled and partials and partials[-1].strip() == outcome.text
    assert len(plan.edits) == 1 and plan.edits[0] == TextEdit(*THAT, outcome.text)
    assert plan.undo_group.startswith("rewrite-") and plan.description == "rewrite: formal"
    assert plan.selection_after == Selection.span(12, 12 + len(outcome.text))
    rewritten = apply_edits(TEXT, plan.edits)
    assert rewritten.startswith("First line. ") and rewritten.endswith(" Last line.")
    # "undo" reverts the whole group in one step.
    assert apply_edits(rewritten, invert_edits(TEXT, plan.edits)) == TEXT
    second = await runner.run(_command("casual", *THAT), _doc())
    assert second.plan.undo_group != plan.undo_group


async def test_the_model_runs_on_the_worker_thread_not_the_event_loop(worker, composed):
    seen = []
    original = composed.stream

    def spy(*args, **kwargs):
        seen.append(threading.current_thread().name)
        return original(*args, **kwargs)

    composed.stream = spy
    try:
        await RewriteRunner(worker, options=LIVELY).run(_command("rephrase", *THAT), _doc())
    finally:
        del composed.stream
    assert seen == ["test-rewrite-worker"]


async def test_cancel_stops_the_rewrite_and_plans_nothing(worker):
    runner = RewriteRunner(worker, options=RewriteOptions(temperature=3.0, min_p=0.0, max_new_tokens=400, seed=5))
    outcome_task = asyncio.create_task(runner.run(_command("expand", *THAT), _doc(),
                                                  on_partial=lambda text: runner.cancel()))
    outcome = await asyncio.wait_for(outcome_task, 30)
    assert outcome.cancelled and outcome.plan.edits == () and "cancelled" in outcome.plan.message
    assert not runner.running


async def test_continue_inserts_at_the_cursor(scripted):
    runner = RewriteRunner(scripted(" Then the fox slept."), options=LIVELY)
    end = len(TEXT)
    outcome = await runner.run(_command("continue", end, end), _doc())
    (edit,) = outcome.plan.edits
    assert (edit.start, edit.end) == (end, end) and edit.text == outcome.text
    assert outcome.plan.selection_after == Selection.cursor(end + len(outcome.text))


async def test_bad_rewrite_commands_are_clear(worker):
    runner = RewriteRunner(worker, options=LIVELY)
    with pytest.raises(RewriteError, match="outside the document"):
        await runner.run(_command("formal", 10, 999), _doc())
    with pytest.raises(RewriteError, match="unknown rewrite task"):
        await runner.run(_command("poem", 0, 5), _doc())
    with pytest.raises(RewriteError, match="not a rewrite command"):
        await runner.run(EditPlan(Intent(IntentKind.COMMAND, "undo")), _doc())
    blank = await runner.run(_command("formal", 0, 0), _doc())
    assert blank.plan.edits == () and "nothing to rewrite" in blank.plan.message


async def test_best_of_n_in_the_daemon(scripted):
    worker = scripted("The fox jumped over the dog.", "The fox jumped.", "Fox jumped.\u2028Fox jumped.")
    runner = RewriteRunner(worker, options=RewriteOptions(best_of=3, temperature=3.0, min_p=0.0, max_new_tokens=8,
                                                           seed=2), scorer=lambda source, candidate: -len(candidate))
    outcome = await runner.run(_command("shorten", *THAT), _doc())
    assert len(outcome.candidates) == 3 and outcome.refusals[:2] == (None, None) and "U+2028" in outcome.refusals[2]
    assert outcome.text == "The fox jumped."  # the shortest the guards accepted


async def test_the_guards_refuse_the_tiny_models_noise(worker):
    outcome = await RewriteRunner(worker, options=LIVELY).run(_command("formal", *THAT), _doc())
    assert outcome.candidates and outcome.candidates[0].strip() and outcome.refusals[0]
    assert outcome.plan.edits == () and outcome.text == ""
    assert outcome.plan.message.startswith("The rewrite was refused: ") and "unchanged" in outcome.plan.message


def test_proposals_accept_reject_and_follow_typing():
    document = _doc()
    plan = plan_rewrite(_command("formal", *THAT), document, "The fox jumps over the dog.", "rewrite-1")
    book = ProposalBook()
    proposal = book.offer(document, plan)
    assert proposal.edits == plan.edits and proposal.base_version == 3
    # The user types at the start of the document: the proposal moves with the text.
    typed = (TextEdit(0, 0, ">> "),)
    assert book.document_changed("doc-1", typed, 4) == ()
    moved_text = apply_edits(TEXT, typed)
    accepted = book.accept(_doc(moved_text, 4))
    assert accepted.edits == (TextEdit(15, 37, "The fox jumps over the dog."),)
    assert accepted.undo_group == "rewrite-1"
    assert apply_edits(moved_text, accepted.edits) == ">> First line. The fox jumps over the dog. Last line."
    with pytest.raises(ProposalError, match="no proposal"):
        book.accept(_doc(moved_text, 4))


def test_a_proposal_is_dropped_when_its_text_is_edited_and_can_be_rejected():
    document = _doc()
    book = ProposalBook()
    first = book.offer(document, plan_rewrite(_command("formal", *THAT), document, "A.", "rewrite-1"))
    assert book.document_changed("doc-1", (TextEdit(20, 23, "cat"),), 4) == (first.proposal_id,)
    assert book.pending("doc-1") == ()
    second = book.offer(_doc(version=4), plan_rewrite(_command("casual", *THAT), _doc(version=4), "B.", "rewrite-2"))
    assert book.reject("doc-1").proposal_id == second.proposal_id
    assert book.pending() == ()
    third = book.offer(_doc(version=4), plan_rewrite(_command("casual", *THAT), _doc(version=4), "C.", "rewrite-3"))
    with pytest.raises(ProposalError, match="changes were not reported"):
        book.accept(_doc(version=9))
    assert book.pending("doc-1")[0].proposal_id == third.proposal_id
