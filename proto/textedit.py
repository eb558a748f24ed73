"""Range edits on code-point strings: validation, application, offset mapping and diffing.

These are the semantics the contract promises for an EditBatch (and UpdateDocument.changes): all edits are
relative to the same base text, none overlap, and they are applied as one. The daemon, the client library
and the intent engine all use these functions, so an edit means the same thing everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .types import Selection, TextEdit


class EditError(ValueError):
    """An edit that cannot be applied to the text it names (the contract's BAD_RANGE)."""


def validate_edits(text_length: int, edits: Iterable[TextEdit]) -> tuple[TextEdit, ...]:
    """Check ``edits`` against a text of ``text_length`` code points; return them sorted by position.

    Raises EditError for offsets out of range, reversed ranges, and overlapping ranges. Two insertions at
    the same offset overlap (their order would be ambiguous); an insertion at the end of a replaced range
    does not.
    """
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    previous_end = -1
    previous_was_insert_at = -1
    for edit in ordered:
        if edit.start < 0 or edit.end < 0:
            raise EditError(f"negative offset in edit [{edit.start}, {edit.end})")
        if edit.start > edit.end:
            raise EditError(f"reversed range [{edit.start}, {edit.end})")
        if edit.end > text_length:
            raise EditError(f"edit [{edit.start}, {edit.end}) is past the end of the text ({text_length} code points)")
        if edit.start < previous_end:
            raise EditError(f"edit [{edit.start}, {edit.end}) overlaps the one before it")
        if edit.start == edit.end and edit.start == previous_was_insert_at:
            raise EditError(f"two insertions at offset {edit.start}")
        previous_end = edit.end
        previous_was_insert_at = edit.start if edit.start == edit.end else -1
    return tuple(ordered)


def apply_edits(text: str, edits: Iterable[TextEdit]) -> str:
    """Apply non-overlapping edits, all relative to ``text``; validates first."""
    return _splice(text, validate_edits(len(text), edits))


def _splice(text: str, ordered: Sequence[TextEdit]) -> str:
    if not ordered:
        return text
    pieces: list[str] = []
    cursor = 0
    for edit in ordered:
        pieces.append(text[cursor:edit.start])
        pieces.append(edit.text)
        cursor = edit.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def check_selection(selection: Selection, text_length: int, what: str = "selection") -> Selection:
    """``selection`` when it lies within a text of ``text_length`` code points; EditError (BAD_RANGE) if not."""
    if selection.anchor > text_length or selection.active > text_length:
        raise EditError(f"{what} ({selection.anchor}, {selection.active}) is past the end of the text "
                        f"({text_length} code points)")
    return selection


@dataclass(frozen=True)
class EditedText:
    """A text after one batch of edits: the new text, its selection, and the edits (sorted, validated)."""

    text: str
    selection: Selection
    edits: tuple[TextEdit, ...]


def apply_edit_batch(text: str, selection: Selection, edits: Iterable[TextEdit],
                     selection_after: Selection | None = None) -> EditedText:
    """Apply ``edits`` (all relative to ``text``) as one batch, the way every holder of a document does.

    The selection becomes ``selection_after`` when one is given, else ``selection`` carried through the
    edits. Raises EditError for an edit that does not fit ``text`` or a selection past the new end.
    """
    ordered = validate_edits(len(text), edits)
    new_text = _splice(text, ordered)
    new_selection = selection_after if selection_after is not None else map_selection(selection, ordered)
    check_selection(new_selection, len(new_text), "selection_after" if selection_after is not None else "selection")
    return EditedText(new_text, new_selection, ordered)


def invert_edits(text: str, edits: Sequence[TextEdit]) -> tuple[TextEdit, ...]:
    """The edits that turn ``apply_edits(text, edits)`` back into ``text`` (relative to the new text)."""
    ordered = validate_edits(len(text), edits)
    inverse = []
    shift = 0
    for edit in ordered:
        new_start = edit.start + shift
        inverse.append(TextEdit(new_start, new_start + len(edit.text), text[edit.start:edit.end]))
        shift += edit.delta
    return tuple(inverse)


def map_offset(offset: int, edits: Sequence[TextEdit], *, stick_right: bool = False) -> int:
    """Where ``offset`` in the base text lands after ``edits`` (sorted, validated) are applied.

    An offset inside a replaced range moves to the range's end in the new text (its start when the
    range was deleted with nothing inserted... both are the same point then). At an insertion point the
    offset stays before the inserted text unless ``stick_right``.
    """
    shift = 0
    for edit in edits:
        if edit.end < offset or (edit.end == offset and edit.start < offset):
            shift += edit.delta
        elif edit.start == offset == edit.end:
            if stick_right:
                shift += edit.delta
        elif edit.start < offset < edit.end:
            return edit.start + shift + len(edit.text)
        else:
            break
    return offset + shift


def map_selection(selection: Selection, edits: Sequence[TextEdit]) -> Selection:
    """Carry a selection through edits (sorted, validated); a cursor sticks after text typed at it."""
    if selection.is_cursor:
        point = map_offset(selection.active, edits, stick_right=True)
        return Selection.cursor(point)
    return Selection(map_offset(selection.anchor, edits), map_offset(selection.active, edits))


def diff_texts(old: str, new: str) -> tuple[TextEdit, ...]:
    """One edit (or none) turning ``old`` into ``new``: the span between their common prefix and suffix.

    Linear in the texts' length and allocation-free until the differing middle, which is what the
    daemon needs when an editor reports a full new text after the user typed.
    """
    if old == new:
        return ()
    limit = min(len(old), len(new))
    prefix = 0
    # Compare in growing blocks first: a long shared prefix is the common case (typing at the end).
    step = 4096
    while prefix + step <= limit and old[prefix:prefix + step] == new[prefix:prefix + step]:
        prefix += step
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    max_suffix = limit - prefix
    while suffix + step <= max_suffix and old[len(old) - suffix - step:len(old) - suffix] == new[len(new) - suffix - step:len(new) - suffix]:
        suffix += step
    while suffix < max_suffix and old[len(old) - suffix - 1] == new[len(new) - suffix - 1]:
        suffix += 1
    return (TextEdit(prefix, len(old) - suffix, new[prefix:len(new) - suffix]),)
