"""The daemon's copy of one editor document: text, version, selection, and whether it is in sync.

The copy changes only in the order the editor's messages arrive (opened, updated, a batch applied, a
stale answer's current text), so it is always the editor's text at ``version``. When the editor reports
something that cannot be applied to the copy (a change against the wrong text, a version that went
backwards), the copy is marked out of sync and nothing is planned against it until the editor sends the
full text again: the two copies never diverge silently.
"""

from __future__ import annotations

from dataclasses import dataclass

from pushkin.proto.textedit import apply_edit_batch, check_selection, diff_texts, map_selection
from pushkin.proto.types import EditBatch, Selection, TextEdit

from .planning import DocumentSnapshot

# The name sessions.py knows the selection check by; the check itself is the contract's (proto.textedit).
clamp_selection = check_selection


@dataclass
class Document:
    document_id: str
    text: str
    version: int
    selection: Selection
    language_id: str = ""
    path: str = ""
    in_sync: bool = True
    sync_problem: str = ""

    def snapshot(self) -> DocumentSnapshot:
        return DocumentSnapshot(self.document_id, self.text, self.version, self.selection)

    def mark_out_of_sync(self, why: str) -> None:
        self.in_sync = False
        self.sync_problem = why

    def replace_text(self, text: str, version: int, selection: Selection | None) -> tuple[str, tuple[TextEdit, ...]]:
        """Take the editor's full text; returns the old text and the edit that turned it into the new one."""
        old_text = self.text
        edits = diff_texts(old_text, text)
        if selection is None:
            # Carry the cursor through the change; after a resync the old position means nothing.
            selection = map_selection(self.selection, edits) if self.in_sync else Selection.cursor(len(text))
        selection = clamp_selection(selection, len(text))
        self.text, self.version, self.selection = text, version, selection
        self.in_sync = True
        self.sync_problem = ""
        return old_text, edits

    def apply_changes(self, changes: tuple[TextEdit, ...], version: int,
                      selection: Selection | None) -> tuple[str, tuple[TextEdit, ...]]:
        """Apply the editor's own changes (relative to the current text); raises EditError."""
        old_text = self.text
        edited = apply_edit_batch(old_text, self.selection, changes, selection)
        self.text, self.version, self.selection = edited.text, version, edited.selection
        return old_text, edited.edits

    def apply_batch(self, batch: EditBatch, version: int, selection: Selection | None) -> None:
        """The editor applied ``batch`` (planned against the current version) and is now at ``version``."""
        edited = apply_edit_batch(self.text, self.selection, batch.edits,
                                  selection if selection is not None else batch.selection_after)
        self.text, self.version, self.selection = edited.text, version, edited.selection
