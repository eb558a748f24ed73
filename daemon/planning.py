"""The seam between the transport and the decision of what an utterance does.

The daemon hands each final utterance, with a snapshot of the target document and the current modes, to
an :class:`EditPlanner`; it gets back an :class:`EditPlan` (the intent, and the edits planned against that
snapshot's version). The daemon then sends the edits, and tells the planner what happened:

* ``applied`` exactly once for a plan whose edits the editor applied, or at once for a plan with no edits
  (from :meth:`pushkin.daemon.core.DaemonCore._applied` only, in the order of the editor's messages);
* ``document_changed`` for every change the editor reports (the user's own typing, undo, paste), so that
  the planner's history ("that", undo groups) follows the text;
* on a STALE answer the daemon reports the editor's current text through ``document_changed`` and calls
  ``plan`` again for the same utterance — so ``plan`` must not change any state that an unapplied plan
  would leave wrong.

:class:`InsertAtCursor` is the placeholder planner (every utterance is inserted at the cursor); the intent
engine replaces it without touching the transport. The core asks it through
:class:`pushkin.daemon.model_planner.ModelPlanner`, which puts the language model (when any) behind it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from pushkin.proto.types import Intent, IntentKind, IntentMode, ListenState, Proposal, Selection, TextEdit

PROPOSALS_CAPABILITY = "proposals"  # Hello capability: the editor previews a rewrite until it is accepted


@dataclass(frozen=True)
class DecidedCommand:
    """An intent-engine command a front end decided with its arguments (the speech-LLM's ``command:`` line,
    mapped by :mod:`pushkin.daemon.intent.decided`): the engine plans it as it is, without reading the words."""

    name: str
    args: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Utterance:
    """One pause-delimited utterance, as heard (or typed).

    A front end that decides the kind itself (the speech-LLM: ``dictate:`` or ``command:``) sets
    ``decided_as``; a plan of another kind, or one with nothing to act on, is not carried out, and the daemon
    decides ``fallback`` instead: the cascade recognizer's reading of the same audio (None when it heard
    nothing; then nothing is done). See :meth:`DaemonCore._plan <pushkin.daemon.core.DaemonCore._plan>`.
    """

    text: str
    pause_before_s: float = 0.0  # 0 means unknown (typed utterances)
    pause_after_s: float = 0.0
    language: str = ""  # "en", "ru", or "" for unknown
    source: str = "typed"  # "typed", "speech", "speech-llm"
    decided_as: IntentKind | None = None  # DICTATION or COMMAND when the front end decided it; None: the planner does
    fallback: Utterance | None = None  # what to decide instead when the plan for this reading is unusable
    command: DecidedCommand | None = None  # the command decided with its arguments; ``text`` is then its phrase


@dataclass(frozen=True)
class DocumentSnapshot:
    """A document as the daemon last knew it from the editor."""

    document_id: str
    text: str
    version: int
    selection: Selection


@dataclass(frozen=True)
class Modes:
    """The daemon's modes, which some commands change ("go to sleep", "command mode")."""

    listen_state: ListenState = ListenState.LISTENING
    intent_mode: IntentMode = IntentMode.DICTATION


@dataclass(frozen=True)
class EditPlan:
    """What to do for one utterance.

    ``edits`` are relative to the snapshot's text. ``selection_after`` is in the text after the edits
    (None: leave the editor's selection where the edits put it). ``modes`` is set when the utterance
    changes the daemon's modes. ``message`` is for the user ("Nothing to scratch."). ``span`` is the
    [start, end) of the snapshot's text that a command for the language model (a rewrite) acts on.
    ``nothing_to_act_on`` marks a refusal: the command found nothing to act on (nothing to scratch or undo,
    no such word near the cursor, no proposal to accept), so nothing changes and ``message`` says why.
    """

    intent: Intent
    edits: tuple[TextEdit, ...] = ()
    selection_after: Selection | None = None
    description: str = ""
    message: str = ""
    modes: Modes | None = None
    undo_group: str = ""
    span: tuple[int, int] | None = None
    nothing_to_act_on: bool = False


class EditorChannel(Protocol):
    """What work that outlasts the plan (a rewrite streaming from the model) may tell the target editor."""

    @property
    def shows_proposals(self) -> bool:
        """Whether the editor previews a rewrite as a Proposal until it is accepted or rejected."""

    def notice(self, code: str, message: str) -> None:
        """An INFO StatusNotice about the document (a rewrite's partial text, a proposal decided)."""

    def propose(self, proposal: Proposal) -> None:
        """Show ``proposal`` as a preview."""


class EditPlanner(Protocol):
    def plan(self, utterance: Utterance, document: DocumentSnapshot | None, modes: Modes) -> EditPlan:
        """Decide what ``utterance`` does to ``document`` (None: no document is focused)."""

    def applied(self, document: DocumentSnapshot, plan: EditPlan, new_version: int) -> None:
        """The editor applied ``plan`` (planned against ``document``); it is now at ``new_version``."""

    def document_changed(self, document_id: str, old_text: str, edits: Sequence[TextEdit], new_version: int) -> None:
        """The editor changed the document by ``edits`` (relative to ``old_text``)."""

    def document_closed(self, document_id: str) -> None:
        """Forget the document."""


@dataclass
class InsertAtCursor:
    """Placeholder planner: every utterance is dictation, inserted at the cursor (replacing a selection)."""

    _groups: itertools.count = field(default_factory=lambda: itertools.count(1))

    def plan(self, utterance: Utterance, document: DocumentSnapshot | None, modes: Modes) -> EditPlan:
        text = utterance.text.strip()
        if not text:
            return EditPlan(Intent(IntentKind.IGNORED, text=utterance.text, source="placeholder"), message="Nothing was said.")
        intent = Intent(IntentKind.DICTATION, text=text, source="placeholder")
        if document is None:
            return EditPlan(intent, message="No document is focused.")
        selection = document.selection
        edit = TextEdit(selection.start, selection.end, text)
        end = selection.start + len(text)
        return EditPlan(intent, (edit,), Selection.cursor(end), description="dictation", undo_group=f"u{next(self._groups)}")

    def applied(self, document: DocumentSnapshot, plan: EditPlan, new_version: int) -> None:
        pass

    def document_changed(self, document_id: str, old_text: str, edits: Sequence[TextEdit], new_version: int) -> None:
        pass

    def document_closed(self, document_id: str) -> None:
        pass
