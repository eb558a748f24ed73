"""The language model behind the planning seam: proposals, open-ended commands and rewrites.

The daemon core asks one :class:`ModelPlanner` what an utterance does. It wraps the grammar planner (an
:class:`~pushkin.daemon.planning.EditPlanner`: the intent engine) and, when a language model is configured,
a :class:`Rewriter` (:class:`pushkin.daemon.rewrite.RewriteExecutor`), and decides in this order:

1. "accept"/"reject" while the document has a pending proposal: the proposal's plan, or nothing;
2. the grammar's plan;
3. dictation that looks like an order ("make that shorter") goes to the model; a command it names is
   planned by the grammar under its canonical phrase (:mod:`pushkin.daemon.open_commands`) — unless the
   front end already decided the kind (the speech-LLM's ``Utterance.decided_as``);
4. a rewrite plan gets its edit from the model (or becomes a Proposal the editor previews).

Without a rewriter it is the grammar planner alone. This module does not import the model: the rewriter
is handed in, so the core stays free of it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

from pushkin.model.output_language import CommandOutput
from pushkin.proto.types import IntentKind, TextEdit

from .intent.decided import UndecidableCommand, reading_of_command
from .planning import DocumentSnapshot, EditorChannel, EditPlan, EditPlanner, Modes, Utterance

log = logging.getLogger(__name__)

PROPOSAL_CLOSED_CODE = "proposal-closed"  # StatusNotice code: a preview the editor shows was decided


class Rewriter(Protocol):
    """What the model planner needs of the language model's side (RewriteExecutor)."""

    def cancel(self) -> bool:
        """Stop the rewrite in progress; True when one was running."""

    async def classify(self, text: str) -> CommandOutput | None:
        """The command the model hears in an utterance the grammar took for dictation, or None."""

    def handles(self, plan: EditPlan) -> bool:
        """Whether ``plan`` is a rewrite for the model to carry out."""

    async def execute(self, plan: EditPlan, document: DocumentSnapshot, editor: EditorChannel | None) -> EditPlan:
        """``plan`` with the model's edit (or none, and a Proposal shown in ``editor``)."""

    def open_proposals(self, document_id: str | None = None) -> tuple[tuple[int, str], ...]:
        """(proposal id, document id) of each pending proposal (of ``document_id``, when given)."""

    def decision_for(self, text: str, document_id: str) -> bool | None:
        """True/False when ``text`` accepts/rejects a pending proposal of ``document_id``, else None."""

    def decide(self, document: DocumentSnapshot, accept: bool, proposal_id: int | None = None) -> EditPlan:
        """The plan that carries out the decision."""

    def document_changed(self, document_id: str, edits: Sequence[TextEdit], new_version: int) -> None:
        """Carry pending proposals through the user's edits."""

    def document_closed(self, document_id: str) -> None:
        """Drop the document's proposals."""


class ModelPlanner:
    """The planner the daemon core asks: the grammar planner, with the model (when any) behind it."""

    def __init__(self, grammar: EditPlanner, rewriter: Rewriter | None = None) -> None:
        self.grammar = grammar
        self.rewriter = rewriter
        # The model runs one job at a time and the rewriter tracks one rewrite in progress: utterances for
        # different documents take turns for it (only those that need the model wait).
        self._model_lock = asyncio.Lock()

    def interrupt(self) -> None:
        """A new utterance came: a rewrite still generating is cancelled (the user has moved on)."""
        if self.rewriter is not None:
            self.rewriter.cancel()

    def proposal_document(self, proposal_id: int) -> str | None:
        """The document a pending proposal is for; None when no such proposal is open."""
        if self.rewriter is None:
            return None
        return next((document_id for pending, document_id in self.rewriter.open_proposals() if pending == proposal_id),
                    None)

    async def plan(self, utterance: Utterance, document: DocumentSnapshot | None, modes: Modes,
                   editor: EditorChannel | None = None, *, act: bool = True, proposal_id: int = 0) -> EditPlan:
        """What ``utterance`` does to ``document``. ``act`` false: decide only, without the model's work
        (no open-ended command, no rewrite). ``proposal_id``: the proposal an editor's decision is about."""
        rewriter = self.rewriter
        if rewriter is not None and document is not None:
            accept = rewriter.decision_for(utterance.text, document.document_id)
            if accept is not None:
                return self._decide(rewriter, document, accept, proposal_id, editor)
        plan = self.grammar.plan(utterance, document, modes)
        if rewriter is None or not act:
            return plan
        if plan.intent.kind is IntentKind.DICTATION and utterance.source != "editor" and utterance.decided_as is None:
            plan = await self._open_command(rewriter, utterance, document, modes, plan)
        if document is not None and rewriter.handles(plan):
            async with self._model_lock:
                plan = await rewriter.execute(plan, document, editor)
        return plan

    @staticmethod
    def _decide(rewriter: Rewriter, document: DocumentSnapshot, accept: bool, proposal_id: int,
                editor: EditorChannel | None) -> EditPlan:
        open_before = {pending for pending, _ in rewriter.open_proposals(document.document_id)}
        plan = rewriter.decide(document, accept, proposal_id or None)
        if editor is not None:
            # Editors showing a preview take it down (a spoken decision reaches them no other way).
            still_open = {pending for pending, _ in rewriter.open_proposals(document.document_id)}
            for closed in sorted(open_before - still_open):
                editor.notice(PROPOSAL_CLOSED_CODE, f"Proposal {closed} was {'accepted' if accept else 'rejected'}.")
        return plan

    async def _open_command(self, rewriter: Rewriter, utterance: Utterance, document: DocumentSnapshot | None,
                            modes: Modes, dictation: EditPlan) -> EditPlan:
        """An utterance the grammar took for dictation, as the model's command when it is one (see
        :mod:`pushkin.daemon.open_commands`); the dictation plan when the model says dictation, answers
        outside the output language, names a phrase the grammar does not take, or fails."""
        try:
            async with self._model_lock:
                command = await rewriter.classify(utterance.text)
            try:
                reading = reading_of_command(command) if command is not None else None
            except UndecidableCommand:
                reading = None
            if reading is None:
                return dictation
            phrase = reading.phrase
            plan = self.grammar.plan(replace(utterance, text=phrase, language="en", command=reading.command),
                                     document, modes)
        except Exception:
            log.exception("open-ended command classification failed on %r", utterance.text[:80])
            return dictation
        if plan.intent.kind is not IntentKind.COMMAND:
            return dictation
        intent = replace(plan.intent, text=utterance.text, source="model")
        note = f"Heard “{utterance.text[:60]}” as the command “{phrase}” (say “undo” to take it back)."
        return replace(plan, intent=intent, message=f"{plan.message} {note}".strip())

    # ---- what the core reports; the rewriter follows the text as the grammar planner does ------------------

    def applied(self, document: DocumentSnapshot, plan: EditPlan, new_version: int) -> None:
        self.grammar.applied(document, plan, new_version)

    def document_changed(self, document_id: str, old_text: str, edits: Sequence[TextEdit], new_version: int) -> None:
        try:
            self.grammar.document_changed(document_id, old_text, edits, new_version)
        finally:  # pending proposals follow the text even when the grammar planner failed
            if self.rewriter is not None:
                self.rewriter.document_changed(document_id, edits, new_version)

    def document_closed(self, document_id: str) -> None:
        try:
            self.grammar.document_closed(document_id)
        finally:
            if self.rewriter is not None:
                self.rewriter.document_closed(document_id)
