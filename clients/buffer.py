"""A versioned text buffer that applies the daemon's edit batches the way the contract says.

:class:`EditorBuffer` is the editor side of a document: the text, a version that grows with every change
(the user's or the daemon's), and a selection. :meth:`EditorBuffer.apply_batch` applies an EditBatch only
when the buffer is still at the batch's base version and answers with the EditResult to send back:
APPLIED with the new version, STALE with the current text, or FAILED with the reason. Editor integrations
that keep their own text (Neovim, VS Code) follow the same rules; this class is what the CLI and tests use
and what a Python plugin bridge can reuse as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pushkin.proto.textedit import EditError, apply_edit_batch, check_selection
from pushkin.proto.types import EditBatch, EditOutcome, EditResult, OpenDocument, Selection, TextEdit, UpdateDocument


@dataclass
class EditorBuffer:
    """One document as an editor holds it. Offsets are code points; ``version`` only grows."""

    document_id: str
    text: str = ""
    version: int = 1
    selection: Selection = field(default_factory=lambda: Selection(0, 0))
    path: str = ""
    language_id: str = ""

    def open_message(self) -> OpenDocument:
        return OpenDocument(self.document_id, self.text, self.version, self.selection, self.language_id, self.path)

    def apply_batch(self, batch: EditBatch) -> EditResult:
        """Apply ``batch`` if the buffer is at its base version; the answer to send either way."""
        if batch.document_id != self.document_id:
            return EditResult(batch.batch_id, batch.document_id, EditOutcome.FAILED, self.version,
                              error=f"this buffer is {self.document_id!r}, not {batch.document_id!r}")
        if batch.base_version != self.version:
            return EditResult(batch.batch_id, self.document_id, EditOutcome.STALE, self.version, self.text,
                              self.selection)
        try:
            edited = apply_edit_batch(self.text, self.selection, batch.edits, batch.selection_after)
        except EditError as error:
            return EditResult(batch.batch_id, self.document_id, EditOutcome.FAILED, self.version,
                              selection=self.selection, error=str(error))
        self.text, self.selection = edited.text, edited.selection
        self.version += 1
        return EditResult(batch.batch_id, self.document_id, EditOutcome.APPLIED, self.version, selection=edited.selection)

    def type_edits(self, edits: tuple[TextEdit, ...] | list[TextEdit],
                   selection: Selection | None = None) -> UpdateDocument:
        """The user changed the text by ``edits``; returns the UpdateDocument to send."""
        edited = apply_edit_batch(self.text, self.selection, edits, selection)
        self.text, self.selection = edited.text, edited.selection
        self.version += 1
        return UpdateDocument(self.document_id, self.version, changes=edited.edits, selection=self.selection)

    def replace_all(self, text: str, selection: Selection | None = None) -> UpdateDocument:
        """The text was replaced wholesale (reloaded from disk, say); returns the UpdateDocument to send."""
        self.text = text
        self.selection = selection if selection is not None else Selection.cursor(len(text))
        self.version += 1
        return UpdateDocument(self.document_id, self.version, text=text, selection=self.selection)

    def move_selection(self, selection: Selection) -> UpdateDocument:
        self.selection = check_selection(selection, len(self.text))
        return UpdateDocument(self.document_id, self.version, selection=selection)
