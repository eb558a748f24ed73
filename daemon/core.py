"""The daemon's state and its edit dispatcher, free of any transport.

:class:`DaemonCore` holds the connected editors (:class:`EditorSession`), which document has the focus,
the listening modes, the planner (:class:`~pushkin.daemon.model_planner.ModelPlanner`) and the batches in
flight. :meth:`DaemonCore.handle_utterance` is the edit dispatcher: it plans against a snapshot, sends the
batch, waits for the editor's answer, and on a STALE answer re-plans against the editor's current text
(which the session has already taken into its copy), a bounded number of times, before giving up with a
notice. A batch is never applied blindly: the editor checks the version, and the daemon's copy follows only
what the editor reports. Sessions report to the core through
:class:`~pushkin.daemon.sessions.SessionEvents`; see docs/architecture-core.md for the whole data path.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from pushkin.proto.types import (
    Component,
    DaemonStatus,
    EditBatch,
    EditorInfo,
    EditOutcome,
    EditResult,
    ErrorCode,
    Hello,
    Intent,
    IntentKind,
    IntentMode,
    ListenMode,
    ListenState,
    NoticeLevel,
    Proposal,
    ProposalDecision,
    SentBatch,
    StatusNotice,
    TextEdit,
    Transcript,
    UtteranceResult,
)
from pushkin.proto.version import package_version

from .hearing_api import new_utterance_id
from .model_planner import ModelPlanner, Rewriter
from .planning import PROPOSALS_CAPABILITY, DocumentSnapshot, EditPlan, EditPlanner, Modes, Utterance
from .sessions import EditorSession, SessionState
from .settings import Settings

log = logging.getLogger(__name__)

DAEMON_VERSION = package_version()
PROTOCOL_VERSION = 1


class TooManyEditors(RuntimeError):
    pass


class ListeningControls(Protocol):
    """What SetListening moves besides the core's own modes: the speech front end and the microphone."""

    def set_listen_mode(self, mode: ListenMode) -> None:
        """Always-on VAD, push-to-talk or toggle boundaries."""

    def key(self, pressed: bool) -> None:
        """The push-to-talk / toggle key went down (True) or up (False)."""

    def set_muted(self, muted: bool) -> None:
        """Close (True) or reopen (False) the microphone."""

    def add_vocabulary(self, words: str, language: str) -> str:
        """Teach the recognizer ``words``; what to tell the user."""

    def pin_language(self, document_id: str, pinned: str, language: str) -> str:
        """Decode speech for ``document_id`` in ``pinned``; what to tell the user."""


class ReplyVoice(Protocol):
    """What the core asks of the voice (pushkin.daemon.voice.Voice when [voice] enabled)."""

    def answer(self, utterance: Utterance, result: UtteranceResult) -> str:
        """Queue the spoken reply that ``result`` calls for; returns the reply's kind."""


@dataclass(frozen=True)
class _SentPlan:
    """A batch in flight: the plan it carries and the snapshot it was planned against, for the planner's
    ``applied`` when the editor's answer comes (late answers included)."""

    session_id: str
    snapshot: DocumentSnapshot
    plan: EditPlan


class DaemonCore:
    def __init__(self, settings: Settings, planner: EditPlanner, *, components: tuple[Component, ...] = (),
                 rewriter=None):
        self.settings = settings
        # The grammar planner, with the language model (when a rewriter is given) behind it: rewrites,
        # proposals and open-ended commands (pushkin.daemon.rewrite.RewriteExecutor).
        self.planner = ModelPlanner(planner, rewriter)
        self.sessions: dict[str, EditorSession] = {}
        self.focus: tuple[str, str] | None = None  # (session id, document id) that receives dictation
        self.modes = Modes()
        self.listen_mode = ListenMode.ALWAYS_ON
        self.components = list(components)
        self.recent_transcripts: collections.deque[Transcript] = collections.deque(
            maxlen=settings.limits.recent_transcripts)
        self.utterances = 0
        self.listen_address = ""
        self._controls: ListeningControls | None = None  # the Listener while the daemon can hear (use_controls)
        self._sent: dict[int, _SentPlan] = {}  # batch id → what it carries, until the editor answers
        self.voice: ReplyVoice | None = None  # when [voice] enabled: it answers after each utterance
        self.audio_problem = ""  # why the microphone cannot deliver audio ("" when it can, or is not used)
        self.started = time.monotonic()
        self._session_ids = itertools.count(1)
        self._batch_ids = itertools.count(1)
        # Utterances for one document are decided one at a time, in the order they came: each plans against
        # the text the previous one left. Different documents do not wait for each other, so an editor that
        # stopped answering delays only its own document (see _TargetLocks).
        self._target_locks = _TargetLocks()

    @property
    def rewriter(self) -> Rewriter | None:
        """The language model's side (None: no model is configured)."""
        return self.planner.rewriter

    @property
    def listen_state(self) -> ListenState:
        """What editors see: the user's state (``modes``), but NO_AUDIO for LISTENING while the microphone is
        missing (sleeping and muted are the user's choices and stay visible; the microphone's own line in
        the status says why it is missing). The planner sees ``modes`` only."""
        if self.audio_problem and self.modes.listen_state is ListenState.LISTENING:
            return ListenState.NO_AUDIO
        return self.modes.listen_state

    # ---- sessions and focus -----------------------------------------------------------------------

    def open_session(self, hello: Hello) -> EditorSession:
        if len(self.sessions) >= self.settings.limits.max_editors:
            raise TooManyEditors(f"{len(self.sessions)} editors are connected; the limit is "
                                 f"{self.settings.limits.max_editors} ([limits] max_editors)")
        session = EditorSession(self, f"s{next(self._session_ids)}", hello, self.settings.limits)
        self.sessions[session.session_id] = session
        log.info("editor %s connected (%s %s)", session.name, hello.editor_name, hello.editor_version)
        return session

    def close_session(self, session: EditorSession) -> None:
        session.end()
        self._sent = {batch_id: sent for batch_id, sent in self._sent.items() if sent.session_id != session.session_id}
        self.sessions.pop(session.session_id, None)
        log.info("editor %s disconnected", session.name)

    # ---- SessionEvents: what sessions report, in the order their editors sent it ---------------------

    def document_changed(self, document_id: str, old_text: str, edits: Sequence[TextEdit], new_version: int) -> None:
        with _logged("the planner's document_changed"):
            self.planner.document_changed(document_id, old_text, edits, new_version)

    def batch_answered(self, batch: EditBatch, applied_version: int | None) -> None:
        sent = self._sent.pop(batch.batch_id, None)
        if sent is not None and applied_version is not None:
            self._applied(sent.snapshot, sent.plan, applied_version)

    def document_gone(self, session: EditorSession, document_id: str) -> None:
        if self.focus == (session.session_id, document_id):
            self.focus = None
        with _logged("the planner's document_closed"):
            self.planner.document_closed(document_id)

    def focus_changed(self, session: EditorSession, document_id: str, focused: bool) -> None:
        if focused:
            self.focus = (session.session_id, document_id)
        elif self.focus is not None and self.focus[0] == session.session_id:
            # The editor lost focus altogether: dictation goes nowhere rather than into a hidden window.
            self.focus = None

    def focused_document_id(self) -> str:
        return self.focus[1] if self.focus else ""

    def focused_document(self) -> DocumentSnapshot | None:
        """The document that receives dictation, as the daemon knows it (None: nothing is focused)."""
        if self.focus is None:
            return None
        session_id, document_id = self.focus
        session = self.sessions.get(session_id)
        document = session.documents.get(document_id) if session is not None else None
        return document.snapshot() if document is not None else None

    def _target(self, document_id: str) -> tuple[EditorSession | None, str]:
        """The session and document that an utterance goes to ('' document: the focused one)."""
        if not document_id:
            if self.focus is None:
                return None, ""
            session = self.sessions.get(self.focus[0])
            return session, self.focus[1]
        if self.focus is not None and self.focus[1] == document_id and self.focus[0] in self.sessions:
            return self.sessions[self.focus[0]], document_id
        for session in reversed(list(self.sessions.values())):
            if document_id in session.documents:
                return session, document_id
        return None, document_id

    def _applied(self, snapshot: DocumentSnapshot, plan: EditPlan, new_version: int) -> None:
        """The one place the planner hears that a plan took effect (its batch applied, or nothing to send)."""
        with _logged("the planner's applied"):
            self.planner.applied(snapshot, plan, new_version)

    def proposal_decided(self, session: EditorSession, decision: ProposalDecision) -> None:
        """An editor accepted or rejected a Proposal: decide it like the spoken "accept"/"reject"."""
        document_id = self.planner.proposal_document(decision.proposal_id)
        if document_id is None:
            why = "" if self.rewriter is not None else " (no language model is configured)"
            session.error(ErrorCode.BAD_MESSAGE, f"no proposal {decision.proposal_id} is open{why}")
            return
        word = "accept" if decision.accept else "reject"
        asyncio.get_running_loop().create_task(
            self.handle_utterance(Utterance(word, source="editor"), document_id,
                                  proposal_id=decision.proposal_id),
            name=f"proposal-{decision.proposal_id}")

    # ---- modes ----------------------------------------------------------------------------------

    def set_listening(self, state: ListenState | None = None, mode: ListenMode | None = None,
                      key_pressed: bool | None = None, intent_mode: IntentMode | None = None) -> None:
        """Change modes and tell every editor. A key press/release acts per the listen mode: push-to-talk
        listens while pressed (muted otherwise); toggle switches between listening and muted."""
        before = (self.modes, self.listen_mode, self.listen_state)
        self._move_controls(state, mode, key_pressed)
        if mode is not None:
            self.listen_mode = mode
            if mode is ListenMode.PUSH_TO_TALK and state is None and key_pressed is None:
                state = ListenState.MUTED
        if key_pressed is not None:
            if self.listen_mode is ListenMode.PUSH_TO_TALK:
                state = ListenState.LISTENING if key_pressed else ListenState.MUTED
            elif self.listen_mode is ListenMode.TOGGLE and key_pressed:
                state = ListenState.MUTED if self.listen_state is ListenState.LISTENING else ListenState.LISTENING
        modes = self.modes
        if state is not None:
            modes = replace(modes, listen_state=state)
        if intent_mode is not None:
            modes = replace(modes, intent_mode=intent_mode)
        self.modes = modes
        if (self.modes, self.listen_mode, self.listen_state) != before:
            self.broadcast_notice(NoticeLevel.INFO, "listen-state",
                                  f"{self.listen_state.value}, {self.listen_mode.value}, {self.modes.intent_mode.value}")

    def use_controls(self, controls: ListeningControls | None) -> None:
        """Hearing started (``controls``: what SetListening and the hearing commands move) or stopped (None)."""
        self._controls = controls

    def _hearing_command(self, intent: Intent, language: str, document_id: str) -> str:
        """Hand a command about hearing (add to the vocabulary, pin the document's language) to the
        listener; what to tell the user."""
        controls = self._controls
        if controls is None:
            return "Nothing hears speech here, so that changes nothing."
        try:
            if intent.name == "add_vocabulary":
                return controls.add_vocabulary(intent.args.get("words", ""), language)
            return controls.pin_language(document_id, intent.args.get("lang", ""), language)
        except Exception:  # a failed hearing command must not cost the utterance or the daemon
            log.exception("the hearing command %s failed", intent.name)
            return "That could not be done; see the daemon's log."

    def _move_controls(self, state: ListenState | None, mode: ListenMode | None, key_pressed: bool | None) -> None:
        """Pass SetListening on to the front end and the microphone. Only an explicit MUTED closes the
        microphone: push-to-talk and toggle keep it open between presses so the first word is not lost."""
        controls = self._controls
        if controls is None:
            return
        try:
            if mode is not None:
                controls.set_listen_mode(mode)
            if state is ListenState.MUTED:
                controls.set_muted(True)
            elif state is not None or key_pressed:
                controls.set_muted(False)
            if key_pressed is not None:
                controls.key(key_pressed)
        except Exception:  # the transport must answer even if hearing misbehaves
            log.exception("the listening controls failed")

    def audio_changed(self, problem: str) -> None:
        """The microphone became unavailable (``problem`` says why) or available again (``""``)."""
        self.audio_problem = problem

    def set_component(self, component: Component) -> None:
        """Add or replace the status line of one component (by name)."""
        for index, known in enumerate(self.components):
            if known.name == component.name:
                self.components[index] = component
                return
        self.components.append(component)

    def transcript_heard(self, transcript: Transcript) -> None:
        """A transcript from speech: interim ones to editors that asked for them, finals to all and to status."""
        if transcript.final and transcript.text:
            self.recent_transcripts.append(transcript)
        self.broadcast_transcript(transcript)

    def broadcast_notice(self, level: NoticeLevel, code: str, message: str, document_id: str = "") -> None:
        self.broadcast(StatusNotice(level, code, message, self.listen_state, document_id))

    def broadcast(self, notice: StatusNotice) -> None:
        for session in list(self.sessions.values()):
            session.send(notice)

    def broadcast_transcript(self, transcript: Transcript) -> None:
        for session in list(self.sessions.values()):
            if session.wants("interim") or transcript.final:
                session.send(transcript)

    # ---- status ---------------------------------------------------------------------------------

    def status(self, only: EditorSession | None = None) -> DaemonStatus:
        """The daemon's state; ``only``: list that one editor (a Welcome, which must not cost more with every
        editor connected — a thousand connecting editors would otherwise cost a million list entries)."""
        sessions = (only,) if only is not None else tuple(self.sessions.values())
        return DaemonStatus(
            daemon_version=DAEMON_VERSION,
            state=self.listen_state,
            listen_mode=self.listen_mode,
            intent_mode=self.modes.intent_mode,
            editors=tuple(EditorInfo(s.session_id, s.hello.editor_name, tuple(s.documents), s.focused_document_id)
                          for s in sessions),
            focused_document_id=self.focused_document_id(),
            components=tuple(self.components),
            recent_transcripts=tuple(self.recent_transcripts),
            utterances=self.utterances,
            listen_address=self.listen_address,
            uptime_s=time.monotonic() - self.started,
        )

    # ---- the edit dispatcher --------------------------------------------------------------------

    async def handle_utterance(self, utterance: Utterance, document_id: str = "", *, act: bool = True,
                               timeout_s: float | None = None, proposal_id: int = 0) -> UtteranceResult:
        """Decide what ``utterance`` does and (``act``) carry it out at the target editor.

        A new utterance cancels a rewrite still generating (the user has moved on). ``proposal_id`` names
        the proposal an editor's decision ("accept"/"reject") is about. The voice (when on) answers after.
        """
        result = await self._decide(utterance, document_id, act, timeout_s, proposal_id)
        return self._answer(utterance, result) if act else result

    async def _decide(self, utterance: Utterance, document_id: str, act: bool, timeout_s: float | None,
                      proposal_id: int) -> UtteranceResult:
        if utterance.source != "editor":
            self.planner.interrupt()
        limit = self.settings.limits.max_utterance_chars
        if len(utterance.text) > limit:
            return UtteranceResult(Intent(IntentKind.IGNORED, text=utterance.text[:80], source="daemon"),
                                   message=f"The utterance has {len(utterance.text)} characters; the limit is {limit}.")
        timeout_s = self.edit_timeout(timeout_s)
        session, target_id = self._target(document_id)
        async with self._target_locks.hold((session.session_id if session is not None else "", target_id)):
            self.utterances += 1
            if utterance.source == "typed":  # a heard one is in the transcripts already (transcript_heard)
                self.recent_transcripts.append(Transcript(new_utterance_id(), utterance.text, True,
                                                          language=utterance.language))
            return await self._dispatch(utterance, session, target_id, act, timeout_s, proposal_id)

    def _answer(self, utterance: Utterance, result: UtteranceResult) -> UtteranceResult:
        """The voice says what the result calls for; "read that" with the voice off says how to turn it on."""
        if self.voice is not None:
            try:
                self.voice.answer(utterance, result)
            except Exception:  # the voice is a courtesy: it never costs an edit
                log.exception("the voice failed to queue a reply")
        elif result.intent.name == "read_that" and result.intent.args.get("text"):
            result = replace(result, message="The voice is off: set [voice] enabled = true to hear it read.")
        return result

    def edit_timeout(self, requested_s: float | None) -> float:
        """The wait for an editor's answer: ``requested_s`` (None or 0: the default); raises
        :class:`BadTimeout` for a value that is not finite, negative, or above ``[edits] max_timeout_s``."""
        edits = self.settings.edits
        if requested_s is None or requested_s == 0:
            return edits.timeout_s
        if not math.isfinite(requested_s) or requested_s < 0 or requested_s > edits.max_timeout_s:
            raise BadTimeout(f"timeout_s must be a number of seconds above 0 and at most {edits.max_timeout_s:g} "
                             f"([edits] max_timeout_s), or 0 for the default ({edits.timeout_s:g} s); got {requested_s!r}")
        return requested_s

    async def _plan(self, utterance: Utterance, snapshot: DocumentSnapshot | None, session: EditorSession | None,
                    act: bool, proposal_id: int) -> EditPlan | None:
        """The planner's plan; None when it failed (logged).

        A reading whose kind the front end decided (the speech-LLM's) is carried out only when its plan does
        what was heard: a command that plans as dictation ("accept" with no proposal) or finds nothing to
        act on ("scratch that" with nothing to scratch) is decided again from ``utterance.fallback``, the
        recognizer's reading of the same audio, as if the speech-LLM had not been there; without one,
        nothing is done.
        """
        plan = await self._planned(utterance, snapshot, session, act, proposal_id)
        if plan is None or not _unusable(utterance, plan):
            return plan
        if utterance.fallback is not None:
            log.info("the %s reading %r planned as %s (%s); deciding the recognizer's %r instead", utterance.source,
                     utterance.text[:80], plan.intent.kind.value, plan.message or "no message",
                     utterance.fallback.text[:80])
            return await self._planned(utterance.fallback, snapshot, session, act, proposal_id)
        if plan.nothing_to_act_on or plan.intent.kind is IntentKind.IGNORED:
            return plan  # it changes nothing, and says why
        decided_as = utterance.decided_as.value if utterance.decided_as is not None else ""
        return EditPlan(Intent(IntentKind.IGNORED, text=utterance.text, source="daemon"),
                        message=f"Heard “{utterance.text[:60]}” as {decided_as}, but here it would be "
                                f"{plan.intent.kind.value}; nothing was changed.")

    async def _planned(self, utterance: Utterance, snapshot: DocumentSnapshot | None, session: EditorSession | None,
                       act: bool, proposal_id: int) -> EditPlan | None:
        editor = _SessionChannel(session, snapshot.document_id) if session is not None and snapshot is not None else None
        try:
            return await self.planner.plan(utterance, snapshot, self.modes, editor, act=act, proposal_id=proposal_id)
        except Exception:
            log.exception("the planner failed on %r", utterance.text[:80])
            return None

    async def _dispatch(self, utterance: Utterance, session: EditorSession | None, document_id: str, act: bool,
                        timeout_s: float, proposal_id: int = 0) -> UtteranceResult:
        """Carry out ``utterance`` at ``document_id`` of ``session`` (the target when the utterance came)."""
        document = session.documents.get(document_id) if session is not None else None
        failed = Intent(IntentKind.IGNORED, text=utterance.text, source="daemon")
        if document is not None and not document.in_sync:
            return UtteranceResult(failed, message=f"Document {document_id!r} is out of sync ({document.sync_problem}); "
                                   "nothing was changed.", document_id=document_id, final_text=document.text,
                                   final_selection=document.selection)
        snapshot = document.snapshot() if document is not None else None
        planned = await self._plan(utterance, snapshot, session, act, proposal_id)
        if planned is None:
            return UtteranceResult(failed, message="The planner failed; see the daemon's log.", document_id=document_id)
        plan = planned
        if plan.modes is not None and act:
            # Only a change is passed on: the same state again must not reopen or close the microphone.
            changed = plan.modes.listen_state if plan.modes.listen_state is not self.modes.listen_state else None
            self.set_listening(state=changed, intent_mode=plan.modes.intent_mode)
        if act and plan.intent.kind is IntentKind.COMMAND and plan.intent.name in ("add_vocabulary", "pin_language"):
            said = self._hearing_command(plan.intent, utterance.language or plan.intent.text, document_id)
            plan = replace(plan, message=said) if said else plan
        sent: list[SentBatch] = []

        def result(applied: bool, message: str) -> UtteranceResult:
            return UtteranceResult(plan.intent, tuple(sent), message, document_id, applied,
                                   document.text if document is not None else "",
                                   document.selection if document is not None else None)

        # A document comes with its session and snapshot; all three are named so the checker sees it too.
        if document is None or session is None or snapshot is None or not _changes_editor(plan, snapshot):
            if snapshot is not None and act:
                self._applied(snapshot, plan, snapshot.version)
            if document is None and document_id and plan.edits:
                return result(False, f"Document {document_id!r} is not open in any editor.")
            return result(not plan.edits, plan.message)
        if not act:
            return result(False, plan.message or "Decided; not acted on.")
        for _ in range(self.settings.edits.max_replans + 1):
            expires_at_unix_ms = int((time.time() + timeout_s) * 1000)
            batch = EditBatch(next(self._batch_ids), document_id, snapshot.version, plan.edits, plan.selection_after,
                              plan.undo_group, plan.description, expires_at_unix_ms)
            self._sent[batch.batch_id] = _SentPlan(session.session_id, snapshot, plan)
            answer = await session.send_batch(batch, timeout_s, self.settings.edits.answer_grace_s)
            if answer.outcome is not EditOutcome.UNANSWERED or session.state is not SessionState.ACTIVE:
                self._sent.pop(batch.batch_id, None)  # answered (the session reported it) or never will be
            sent.append(SentBatch(batch, answer.outcome, session.name))
            if answer.outcome is EditOutcome.APPLIED:
                if not document.in_sync:
                    return result(False, f"The editor applied the edit but the daemon's copy is out of sync "
                                  f"({document.sync_problem}).")
                return result(True, plan.message)
            if answer.outcome is EditOutcome.UNANSWERED:
                return result(False, _unanswered_message(answer, session.state is not SessionState.ACTIVE))
            if answer.outcome is not EditOutcome.STALE:
                why = answer.error or answer.outcome.value
                if answer.outcome is EditOutcome.EXPIRED:
                    why = "it reached the editor after it had expired, so the editor refused it"
                return result(False, f"The edit was not applied: {why}.")
            if session.documents.get(document_id) is not document or not document.in_sync:
                return result(False, "The document changed in a way the daemon could not follow; nothing was applied.")
            # The session already took the editor's current text into the copy and told the planner.
            snapshot = document.snapshot()
            replanned = await self._plan(utterance, snapshot, session, act, proposal_id)
            if replanned is None:
                return result(False, "The planner failed while re-planning; see the daemon's log.")
            plan = replanned
            if not _changes_editor(plan, snapshot):
                self._applied(snapshot, plan, snapshot.version)
                return result(True, plan.message)
        message = (f"The document kept changing; the edit was dropped after {len(sent)} attempts "
                   f"(\"{utterance.text[:60]}\" is kept in the daemon's recent transcripts).")
        session.notice(NoticeLevel.WARNING, "edit-dropped", message, document_id)
        return result(False, message)


@contextlib.contextmanager
def _logged(what: str):
    """A planner's or rewriter's failure is logged, never raised into the transport."""
    try:
        yield
    except Exception:
        log.exception("%s failed", what)


@dataclass(frozen=True)
class _SessionChannel:
    """An :class:`~pushkin.daemon.planning.EditorChannel` to one document of a connected editor."""

    session: EditorSession
    document_id: str

    @property
    def shows_proposals(self) -> bool:
        return self.session.wants(PROPOSALS_CAPABILITY)

    def notice(self, code: str, message: str) -> None:
        self.session.notice(NoticeLevel.INFO, code, message, self.document_id)

    def propose(self, proposal: Proposal) -> None:
        self.session.send(proposal)


class BadTimeout(ValueError):
    """A caller asked for a wait that is not finite, negative, or above the configured maximum."""


class _TargetLocks:
    """One FIFO lock per utterance target (session id, document id), dropped when nobody holds or waits."""

    def __init__(self) -> None:
        self._locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: tuple[str, str]):
        lock, users = self._locks.get(key, (None, 0))
        lock = lock or asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


def _unanswered_message(answer: EditResult, disconnected: bool) -> str:
    """Why the daemon cannot tell whether a batch landed, and what the user can rely on: a batch that may
    still land is never reported as "not applied"."""
    if disconnected:
        return ("The editor disconnected before answering, so whether the edit was applied is unknown; "
                "check the document before repeating it.")
    return (f"The outcome is unknown: {answer.error or 'the editor did not answer'}. The edit has expired, so an "
            "editor that reads it from now on refuses it; if the editor was already applying it, it may still "
            "land, and the editor gets a “late-edit-applied” notice. Check the document before repeating it.")


def _unusable(utterance: Utterance, plan: EditPlan) -> bool:
    """Whether ``plan`` fails the kind the front end decided for ``utterance`` (never for an undecided one)."""
    return utterance.decided_as is not None and (plan.nothing_to_act_on or plan.intent.kind is not utterance.decided_as)


def _changes_editor(plan: EditPlan, snapshot: DocumentSnapshot | None) -> bool:
    """Whether the plan needs a batch: edits, or only a new selection ("go to end", "select that")."""
    if plan.edits:
        return True
    return snapshot is not None and plan.selection_after is not None and plan.selection_after != snapshot.selection
