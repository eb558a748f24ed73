"""One connected editor: its documents, its outgoing messages, and the edit batches it has not answered.

An :class:`EditorSession` is transport-free: the gRPC edge (:mod:`pushkin.daemon.service`) feeds it the
editor's messages as dataclasses (:meth:`EditorSession.handle`, called in stream order) and drains
:attr:`EditorSession.outbox`. Everything that changes a document copy happens inside ``handle``, in the
order the editor sent it, so an UpdateDocument that follows an EditResult is applied after the batch.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from pushkin.proto.textedit import EditError, diff_texts
from pushkin.proto.types import (
    CloseDocument,
    DaemonEvent,
    EditBatch,
    EditOutcome,
    EditResult,
    ErrorCode,
    Focus,
    Hello,
    ListenState,
    NoticeLevel,
    OpenDocument,
    ProposalDecision,
    ProtocolError,
    Selection,
    StatusNotice,
    TextEdit,
    UpdateDocument,
)

from .documents import Document, clamp_selection
from .settings import LimitSettings

log = logging.getLogger(__name__)

# Sentinel put into the outbox to end the stream.
CLOSE = object()


class SessionState(enum.Enum):
    ACTIVE = "active"
    CLOSING = "closing"  # the outbox is being drained; nothing new is accepted
    CLOSED = "closed"


class SessionEvents(Protocol):
    """What a session reports about its editor, in the order the editor's messages came (the daemon core
    implements it). Sessions see only this, never the core."""

    @property
    def listen_state(self) -> ListenState:
        """The state StatusNotices carry."""

    def document_changed(self, document_id: str, old_text: str, edits: Sequence[TextEdit], new_version: int) -> None:
        """The editor changed a document by ``edits`` (relative to ``old_text``): typing, undo, a resync."""

    def batch_answered(self, batch: EditBatch, applied_version: int | None) -> None:
        """The editor answered ``batch``: ``applied_version`` is the version the daemon's copy took it at, or
        None when the copy did not take it (refused, stale, or an answer the copy could not follow)."""

    def document_gone(self, session: EditorSession, document_id: str) -> None:
        """A document of ``session`` was closed or dropped."""

    def focus_changed(self, session: EditorSession, document_id: str, focused: bool) -> None:
        """The editor's focus moved to (or away from) ``document_id``."""

    def proposal_decided(self, session: EditorSession, decision: ProposalDecision) -> None:
        """The editor accepted or rejected a proposal."""


@dataclass
class PendingBatch:
    """A batch sent to the editor and not yet answered."""

    batch: EditBatch
    answer: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    given_up: bool = False  # the daemon stopped waiting and told the caller the outcome is unknown


class EditorSession:
    """A connected editor. Create through :meth:`pushkin.daemon.core.DaemonCore.open_session`."""

    def __init__(self, events: SessionEvents, session_id: str, hello: Hello, limits: LimitSettings,
                 outbox_limit: int = 4096):
        self.events = events
        self.limits = limits
        self.session_id = session_id
        self.hello = hello
        self.documents: dict[str, Document] = {}
        self.focused_document_id = ""
        self.state = SessionState.ACTIVE
        # Bounded: an editor that stops reading is disconnected rather than allowed to grow the daemon.
        self.outbox: asyncio.Queue = asyncio.Queue(maxsize=outbox_limit)
        self.pending: dict[int, PendingBatch] = {}

    @property
    def name(self) -> str:
        return f"{self.hello.editor_name or 'editor'}#{self.session_id}"

    def wants(self, capability: str) -> bool:
        return capability in self.hello.capabilities

    # ---- outgoing -------------------------------------------------------------------------------

    def send(self, event: DaemonEvent) -> bool:
        """Queue a message for the editor; False when the session is closed or its queue is full."""
        if self.state is not SessionState.ACTIVE:
            return False
        try:
            self.outbox.put_nowait(event)
            return True
        except asyncio.QueueFull:
            log.warning("%s is not reading its messages; disconnecting it", self.name)
            self.close()
            return False

    def error(self, code: ErrorCode, message: str, document_id: str = "", fatal: bool = False) -> None:
        log.info("%s: %s: %s", self.name, code.value, message)
        self.send(ProtocolError(code, message, document_id, fatal))
        if fatal:
            self.close()

    def close(self) -> None:
        """Stop accepting messages; the stream ends after what is queued has been sent."""
        if self.state is not SessionState.ACTIVE:
            return
        self.state = SessionState.CLOSING
        try:
            self.outbox.put_nowait(CLOSE)
        except asyncio.QueueFull:
            # The editor is not reading; drop what it would not read anyway so the stream can end.
            while not self.outbox.empty():
                self.outbox.get_nowait()
            self.outbox.put_nowait(CLOSE)

    def end(self) -> None:
        """The editor went away: every unanswered batch is answered UNANSWERED and every document is gone."""
        self.close()
        self.state = SessionState.CLOSED
        for pending in self.pending.values():
            if not pending.answer.done():
                pending.answer.set_result(EditResult(pending.batch.batch_id, pending.batch.document_id,
                                                     EditOutcome.UNANSWERED, 0, error="the editor disconnected"))
        self.pending.clear()
        for document_id in list(self.documents):
            self._forget(document_id)

    async def send_batch(self, batch: EditBatch, timeout_s: float, grace_s: float = 0.0) -> EditResult:
        """Send ``batch`` and wait for the editor's answer: UNANSWERED after ``timeout_s`` + ``grace_s`` or a
        disconnect, which means the outcome is unknown (the core tells the user so).

        The batch should carry ``expires_at_unix_ms`` ``timeout_s`` from now: an editor that reads it later
        refuses it (EXPIRED), and ``grace_s`` lets an answer sent just before the deadline still arrive. A late
        answer still updates the document copy (see :meth:`_edit_result`): only the wait ends.
        """
        pending = PendingBatch(batch)
        self.pending[batch.batch_id] = pending
        if not self.send(batch):
            self.pending.pop(batch.batch_id, None)
            return EditResult(batch.batch_id, batch.document_id, EditOutcome.UNANSWERED, 0,
                              error="the editor disconnected")
        try:
            return await asyncio.wait_for(asyncio.shield(pending.answer), timeout_s + grace_s)
        except TimeoutError:
            pending.given_up = True
            return EditResult(batch.batch_id, batch.document_id, EditOutcome.UNANSWERED, 0,
                              error=f"the editor did not answer within {timeout_s:g} s")

    # ---- incoming -------------------------------------------------------------------------------

    def handle(self, event) -> None:
        """Process one message from the editor (after Hello). Problems become Error messages, never raises."""
        if self.state is not SessionState.ACTIVE:
            return
        try:
            if isinstance(event, UpdateDocument):
                self._update(event)
            elif isinstance(event, EditResult):
                self._edit_result(event)
            elif isinstance(event, Focus):
                self._focus(event)
            elif isinstance(event, OpenDocument):
                self._open(event)
            elif isinstance(event, CloseDocument):
                self._close_document(event)
            elif isinstance(event, ProposalDecision):
                self.events.proposal_decided(self, event)
            elif isinstance(event, Hello):
                self.error(ErrorCode.BAD_MESSAGE, "Hello may be sent only once, as the first message")
            else:
                self.error(ErrorCode.BAD_MESSAGE, f"unexpected message {type(event).__name__}")
        except Exception:  # a bug here must not take the daemon down; the editor hears about it
            log.exception("%s: failed to handle %s", self.name, type(event).__name__)
            self.error(ErrorCode.BAD_MESSAGE, f"the daemon failed to handle {type(event).__name__}; see its log")

    def _check_size(self, document_id: str, text: str) -> bool:
        limit = self.limits.max_document_chars
        if len(text) > limit:
            self.error(ErrorCode.TOO_LARGE, f"document {document_id!r} has {len(text)} code points; the limit is "
                       f"{limit} ([limits] max_document_chars)", document_id)
            return False
        return True

    def _open(self, event: OpenDocument) -> None:
        if not event.document_id:
            self.error(ErrorCode.BAD_MESSAGE, "OpenDocument needs a document_id")
            return
        if not self._check_size(event.document_id, event.text):
            self._forget(event.document_id)
            return
        if event.document_id not in self.documents and \
                len(self.documents) >= self.limits.max_documents_per_editor:
            self.error(ErrorCode.TOO_LARGE, f"this editor already has {len(self.documents)} documents open; the "
                       f"limit is {self.limits.max_documents_per_editor}", event.document_id)
            return
        try:
            selection = clamp_selection(event.selection, len(event.text))
        except ValueError as problem:
            self.error(ErrorCode.BAD_RANGE, f"OpenDocument {event.document_id!r}: {problem}", event.document_id)
            return
        previous = self.documents.get(event.document_id)
        self.documents[event.document_id] = Document(event.document_id, event.text, event.version, selection,
                                                     event.language_id, event.path)
        if previous is not None:
            self.events.document_changed(event.document_id, previous.text,
                                   diff_texts(previous.text, event.text), event.version)

    def _forget(self, document_id: str) -> None:
        if self.documents.pop(document_id, None) is not None:
            if self.focused_document_id == document_id:
                self.focused_document_id = ""
            self.events.document_gone(self, document_id)

    def _close_document(self, event: CloseDocument) -> None:
        if event.document_id not in self.documents:
            self.error(ErrorCode.UNKNOWN_DOCUMENT, f"CloseDocument: {event.document_id!r} is not open", event.document_id)
            return
        self._forget(event.document_id)

    def _focus(self, event: Focus) -> None:
        if event.focused and event.document_id not in self.documents:
            self.error(ErrorCode.UNKNOWN_DOCUMENT, f"Focus: {event.document_id!r} is not open; open it first",
                       event.document_id)
            return
        if event.focused:
            self.focused_document_id = event.document_id
        self.events.focus_changed(self, event.document_id, event.focused)

    def _update(self, event: UpdateDocument) -> None:
        document = self.documents.get(event.document_id)
        if document is None:
            self.error(ErrorCode.UNKNOWN_DOCUMENT, f"UpdateDocument: {event.document_id!r} is not open",
                       event.document_id)
            return
        if not self._version_grows(document, event):
            return
        if event.text is not None:
            if not self._check_size(event.document_id, event.text):
                self._forget(event.document_id)
                return
            try:
                old_text, edits = document.replace_text(event.text, event.version, event.selection)
            except ValueError as problem:
                # Keep the text (it is the editor's); only the bad selection is replaced.
                old_text, edits = document.replace_text(event.text, event.version, Selection.cursor(len(event.text)))
                self.error(ErrorCode.BAD_RANGE, f"UpdateDocument {event.document_id!r}: {problem}; the cursor is "
                           "taken to be at the end", event.document_id)
            if edits:
                self.events.document_changed(event.document_id, old_text, edits, event.version)
            return
        if not event.changes:
            if event.selection is not None:
                try:
                    document.selection = clamp_selection(event.selection, len(document.text))
                except ValueError as problem:
                    self.error(ErrorCode.BAD_RANGE, f"UpdateDocument {event.document_id!r}: {problem}",
                               event.document_id)
                    return
            document.version = event.version
            return
        if not document.in_sync:
            self.error(ErrorCode.BAD_MESSAGE, f"document {event.document_id!r} is out of sync "
                       f"({document.sync_problem}); send its full text (UpdateDocument.text)", event.document_id)
            return
        try:
            old_text, edits = document.apply_changes(event.changes, event.version, event.selection)
        except (EditError, ValueError) as problem:
            document.mark_out_of_sync(f"a change could not be applied: {problem}")
            self.error(ErrorCode.BAD_RANGE, f"UpdateDocument {event.document_id!r}: {problem}; the daemon's copy "
                       "is out of sync until the editor sends the full text", event.document_id)
            return
        self.events.document_changed(event.document_id, old_text, edits, event.version)

    def _version_grows(self, document: Document, event: UpdateDocument) -> bool:
        """Versions must grow with every change (the contract's VERSIONS rule): a change at a version the copy
        has already passed would let a batch planned for one text be applied to another. Such a change is
        refused and the copy is marked out of sync, so nothing is planned against it until the editor
        reopens the document (OpenDocument) or sends its full text at a newer version."""
        changes_text = event.text is not None and event.text != document.text or bool(event.changes)
        if event.version > document.version or (event.version == document.version and not changes_text):
            return True
        problem = (f"UpdateDocument {event.document_id!r}: the version went backwards or did not grow (from "
                   f"{document.version} to {event.version}); versions must grow with every change")
        if changes_text:
            document.mark_out_of_sync(f"a change came at version {event.version}, not after {document.version}")
            problem += ("; the daemon's copy is out of sync until the editor sends its full text at a newer version "
                        "or reopens the document")
        self.error(ErrorCode.BAD_MESSAGE, problem, event.document_id)
        return False

    def _edit_result(self, result: EditResult) -> None:
        pending = self.pending.pop(result.batch_id, None)
        if pending is None or pending.batch.document_id != result.document_id:
            if pending is not None:
                self.pending[result.batch_id] = pending
            self.error(ErrorCode.UNKNOWN_BATCH, f"EditResult for batch {result.batch_id} of {result.document_id!r}: "
                       "no such batch is waiting for an answer", result.document_id)
            return
        batch = pending.batch
        document = self.documents.get(batch.document_id)
        if result.outcome in (EditOutcome.APPLIED, EditOutcome.STALE) and result.version <= batch.base_version:
            if document is not None:
                document.mark_out_of_sync(f"the editor answered batch {batch.batch_id} at version {result.version}, "
                                          f"not after its base version {batch.base_version}")
            self.error(ErrorCode.BAD_MESSAGE, f"EditResult for batch {batch.batch_id}: the version went backwards or "
                       f"did not grow ({batch.base_version} to {result.version}); send the full text "
                       "(UpdateDocument.text) at a newer version", batch.document_id)
            document = None  # nothing of this answer goes into the copy
        applied_version = None
        if document is not None:
            if result.outcome is EditOutcome.APPLIED:
                applied_version = self._batch_applied(document, batch, result)
            elif result.outcome is EditOutcome.STALE:
                if result.text is None:
                    document.mark_out_of_sync("a STALE answer came without the current text")
                    self.error(ErrorCode.BAD_MESSAGE, f"EditResult STALE for batch {batch.batch_id} needs the "
                               "current text; send UpdateDocument.text", batch.document_id)
                else:
                    self._stale(document, result, result.text)
        self.events.batch_answered(batch, applied_version)
        if not pending.answer.done():
            pending.answer.set_result(result)
        if pending.given_up and result.outcome is EditOutcome.APPLIED:
            # The user was told the outcome was unknown; now it is known: say so where the text changed.
            log.warning("%s applied batch %d after the daemon stopped waiting", self.name, batch.batch_id)
            self.notice(NoticeLevel.WARNING, "late-edit-applied",
                        f"The edit “{batch.description or 'edit'}” (batch {batch.batch_id}) was applied after the "
                        "daemon stopped waiting for it; it is in the document now.", batch.document_id)

    def _batch_applied(self, document: Document, batch: EditBatch, result: EditResult) -> int | None:
        """Take an applied batch into the copy; the copy's new version, or None when it could not follow."""
        if not document.in_sync or document.version != batch.base_version:
            document.mark_out_of_sync(f"the editor applied batch {batch.batch_id} (base version {batch.base_version}) "
                                      f"while the daemon's copy is at version {document.version}")
            self.error(ErrorCode.BAD_MESSAGE, f"{document.sync_problem}; send the full text (UpdateDocument.text)",
                       batch.document_id)
            return None
        try:
            document.apply_batch(batch, result.version, result.selection)
        except (EditError, ValueError) as problem:
            document.mark_out_of_sync(f"batch {batch.batch_id} could not be applied to the daemon's copy: {problem}")
            self.error(ErrorCode.BAD_RANGE, f"{document.sync_problem}; send the full text (UpdateDocument.text)",
                       batch.document_id)
            return None
        return result.version

    def _stale(self, document: Document, result: EditResult, text: str) -> None:
        """Take the editor's current ``text``, which a STALE ``result`` carries (checked by the caller)."""
        if not self._check_size(document.document_id, text):
            self._forget(document.document_id)
            return
        try:
            old_text, edits = document.replace_text(text, result.version, result.selection)
        except ValueError as problem:
            self.error(ErrorCode.BAD_RANGE, f"EditResult {result.batch_id}: {problem}", document.document_id)
            return
        if edits:
            self.events.document_changed(document.document_id, old_text, edits, result.version)

    def notice(self, level: NoticeLevel, code: str, message: str, document_id: str = "") -> None:
        self.send(StatusNotice(level, code, message, self.events.listen_state, document_id))
