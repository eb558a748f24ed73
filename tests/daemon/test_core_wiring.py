"""The daemon core without a transport: who tells the planner what, and when.

The planner hears ``applied`` once per plan that took effect, from the core, in the order the editor's
messages came (a late answer included); sessions report through SessionEvents and never import the core.
"""

from __future__ import annotations

import ast
import asyncio
import re
from dataclasses import replace
from pathlib import Path

from pushkin.daemon.core import DaemonCore
from pushkin.daemon.model_planner import ModelPlanner
from pushkin.daemon.planning import EditPlan, InsertAtCursor, Modes, Utterance
from pushkin.daemon.settings import EditSettings, Settings
from pushkin.model.output_language import CommandOutput
from pushkin.proto.types import (
    EditBatch,
    EditOutcome,
    EditResult,
    Focus,
    Hello,
    Intent,
    IntentKind,
    OpenDocument,
    Proposal,
    Selection,
    UpdateDocument,
)

DAEMON = Path(__file__).resolve().parents[2] / "daemon"


class RecordingPlanner(InsertAtCursor):
    """The placeholder planner, recording what the core tells it."""

    def __init__(self):
        super().__init__()
        self.calls: list[tuple] = []

    def applied(self, document, plan, new_version):
        self.calls.append(("applied", plan.intent.text, document.version, new_version))

    def document_changed(self, document_id, old_text, edits, new_version):
        self.calls.append(("changed", document_id, new_version))


def _core(timeout_s: float = 5.0):
    planner = RecordingPlanner()
    settings = Settings(edits=EditSettings(timeout_s=timeout_s, answer_grace_s=0.05))
    core = DaemonCore(settings, planner)
    session = core.open_session(Hello("test"))
    session.handle(OpenDocument("doc", "Hello", 1, Selection.cursor(5)))
    return core, session, planner


async def _next_batch(session) -> EditBatch:
    while True:
        event = await asyncio.wait_for(session.outbox.get(), 2)
        if isinstance(event, EditBatch):
            return event


async def test_the_planner_hears_applied_once_with_the_version_the_editor_answered():
    core, session, planner = _core()
    decided = asyncio.create_task(core.handle_utterance(Utterance(" world"), "doc"))
    batch = await _next_batch(session)
    session.handle(EditResult(batch.batch_id, "doc", EditOutcome.APPLIED, 2))
    result = await decided
    assert result.applied and result.final_text == "Helloworld"  # the placeholder inserts the stripped text
    assert planner.calls == [("applied", "world", 1, 2)]


async def test_a_stale_batch_is_not_applied_and_the_replan_is():
    core, session, planner = _core()
    decided = asyncio.create_task(core.handle_utterance(Utterance("!"), "doc"))
    first = await _next_batch(session)
    session.handle(EditResult(first.batch_id, "doc", EditOutcome.STALE, 2, text="Hello there",
                              selection=Selection.cursor(11)))
    second = await _next_batch(session)
    assert second.base_version == 2
    session.handle(EditResult(second.batch_id, "doc", EditOutcome.APPLIED, 3))
    assert (await decided).final_text == "Hello there!"
    assert planner.calls == [("changed", "doc", 2), ("applied", "!", 2, 3)]


async def test_a_late_answer_still_reaches_the_planner_in_the_editors_order():
    core, session, planner = _core(timeout_s=0.05)
    result = await asyncio.gather(core.handle_utterance(Utterance(" late"), "doc"), _next_batch(session))
    unanswered, batch = result
    assert unanswered.batches[0].outcome is EditOutcome.UNANSWERED and planner.calls == []
    session.handle(EditResult(batch.batch_id, "doc", EditOutcome.APPLIED, 2))
    session.handle(UpdateDocument("doc", 3, text="Hello late, typed"))
    assert planner.calls == [("applied", "late", 1, 2), ("changed", "doc", 3)]
    assert core._sent == {}  # nothing is kept for a batch once answered


async def test_closing_the_editor_forgets_its_batches_in_flight():
    core, session, planner = _core(timeout_s=0.05)
    await asyncio.gather(core.handle_utterance(Utterance(" gone"), "doc"), _next_batch(session))
    core.close_session(session)
    assert core._sent == {} and core.focus is None and planner.calls == []


async def test_typed_utterances_are_named_like_heard_ones():
    core, _, _ = _core()
    await core.handle_utterance(Utterance("hi"), "", act=False)
    await core.handle_utterance(Utterance("there"), "", act=False)
    ids = [t.utterance_id for t in core.recent_transcripts]
    # The one minting function heard utterances use too (hearing_api.new_utterance_id): "u<n>", never reused.
    assert all(re.fullmatch(r"u\d+", i) for i in ids) and len(set(ids)) == 2


def test_the_focused_document_is_what_the_editor_focused_last():
    core, session, _ = _core()
    assert core.focused_document() is None
    session.handle(Focus("doc", True))
    assert core.focused_document().text == "Hello"
    session.handle(Focus("doc", False))
    assert core.focused_document() is None and session.focused_document_id == "doc"


def test_sessions_and_the_model_planner_do_not_import_the_core():
    for module in ("sessions.py", "model_planner.py", "planning.py", "documents.py", "rewrite.py"):
        tree = ast.parse((DAEMON / module).read_text(encoding="utf-8"))
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert "core" not in imported and "pushkin.daemon.core" not in imported, module


class FakeRewriter:
    """A rewriter that holds one proposal per document and classifies "make that shorter" as shorten."""

    def __init__(self):
        self.proposals: dict[int, str] = {}
        self.executed: list[EditPlan] = []
        self.cancelled = 0

    def cancel(self):
        self.cancelled += 1
        return False

    async def classify(self, text):
        return CommandOutput("rewrite", {"task": "shorten"}) if text.startswith("make that") else None

    def handles(self, plan):
        return plan.intent.name == "rewrite"

    async def execute(self, plan, document, editor):
        self.executed.append(plan)
        if editor is not None and editor.shows_proposals:
            self.proposals[len(self.proposals) + 1] = document.document_id
            editor.propose(Proposal(len(self.proposals), document.document_id, document.version, (), "shorter"))
            return replace(plan, message="Proposed.")
        return plan

    def open_proposals(self, document_id=None):
        return tuple((p, d) for p, d in self.proposals.items() if document_id in (None, d))

    def decision_for(self, text, document_id):
        return {"accept": True, "reject": False}.get(text) if self.open_proposals(document_id) else None

    def decide(self, document, accept, proposal_id=None):
        self.proposals.pop(proposal_id or max(self.proposals))
        return EditPlan(Intent(IntentKind.COMMAND, "accept" if accept else "reject"))

    def document_changed(self, document_id, edits, new_version):
        pass

    def document_closed(self, document_id):
        self.proposals = {p: d for p, d in self.proposals.items() if d != document_id}


class GrammarForRewrites(InsertAtCursor):
    """Dictation, except "shorten that", which it plans as a rewrite of the whole text."""

    def plan(self, utterance, document, modes):
        if utterance.text == "shorten that" and document is not None:
            return EditPlan(Intent(IntentKind.COMMAND, "rewrite", {"task": "shorten"}, utterance.text),
                            span=(0, len(document.text)))
        return super().plan(utterance, document, modes)


class Channel:
    shows_proposals = True

    def __init__(self):
        self.notices: list[tuple[str, str]] = []
        self.proposals: list[Proposal] = []

    def notice(self, code, message):
        self.notices.append((code, message))

    def propose(self, proposal):
        self.proposals.append(proposal)


async def test_the_model_planner_turns_an_order_into_a_rewrite_and_decides_its_proposal():
    from pushkin.daemon.planning import DocumentSnapshot

    rewriter, editor = FakeRewriter(), Channel()
    planner = ModelPlanner(GrammarForRewrites(), rewriter)
    document = DocumentSnapshot("doc", "A long text.", 1, Selection.cursor(12))
    plan = await planner.plan(Utterance("make that shorter", source="speech"), document, Modes(), editor)
    assert plan.intent.source == "model" and plan.intent.text == "make that shorter"
    assert [p.span for p in rewriter.executed] == [(0, 12)] and len(editor.proposals) == 1
    assert planner.proposal_document(1) == "doc" and planner.proposal_document(2) is None
    decided = await planner.plan(Utterance("accept"), document, Modes(), editor)
    assert decided.intent.name == "accept"
    assert editor.notices == [("proposal-closed", "Proposal 1 was accepted.")]


async def test_without_act_or_a_model_the_grammar_alone_plans():
    from pushkin.daemon.planning import DocumentSnapshot

    rewriter = FakeRewriter()
    document = DocumentSnapshot("doc", "Text", 1, Selection.cursor(4))
    decided_only = await ModelPlanner(GrammarForRewrites(), rewriter).plan(
        Utterance("make that shorter"), document, Modes(), act=False)
    assert decided_only.intent.kind is IntentKind.DICTATION and rewriter.executed == []
    grammar_only = await ModelPlanner(GrammarForRewrites()).plan(Utterance("shorten that"), document, Modes())
    assert grammar_only.span == (0, 4) and grammar_only.edits == ()
