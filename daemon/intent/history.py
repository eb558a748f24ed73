"""Per-document memory of voice actions: the dictated phrases ("that") and the undo/redo stacks.

Everything here is a range in the document's current text, carried through every change as it happens:
the planner's own edits (``applied``) and the user's typing (``document_changed``). Nothing stores a copy
of the document; each range keeps the text it expects, so a stale range is detected by comparing a slice
instead of being trusted.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from pushkin.proto.textedit import apply_edits, map_offset
from pushkin.proto.types import TextEdit


class PhraseState(enum.Enum):
    PRESENT = "present"
    REMOVED = "removed"  # taken out by voice (scratched, deleted, undone): "that" skips it silently
    LOST = "lost"  # broken by the user's own editing: "that" says it is gone rather than guess


@dataclass
class Phrase:
    """A dictated phrase: the whole inserted text (with the spaces formatting added) at [start, end)."""

    phrase_id: int
    start: int
    end: int
    text: str
    state: PhraseState = PhraseState.PRESENT
    # The user typed inside the words: a command that would remove or change the phrase would take their
    # characters with it, so it refuses (selecting it stays fine). Never reset: deleting the typing again
    # does not make the rest provably dictated.
    typed_inside: bool = False
    # What the dictation took the place of (a selection, the recognizer's mark a spoken mark replaced, the
    # spaces a mark pulled back over): "scratch that" puts it back. Forgotten once the phrase is edited.
    replaced: str = ""

    def core(self) -> tuple[int, int]:
        """The words without the spacing around them (what "select that" selects)."""
        lead = len(self.text) - len(self.text.lstrip())
        trail = len(self.text) - len(self.text.rstrip())
        return self.start + lead, max(self.start + lead, self.end - trail)

    def is_present_in(self, text: str) -> bool:
        return self.state is PhraseState.PRESENT and self.end <= len(text) and text[self.start:self.end] == self.text and bool(self.text.strip())


@dataclass
class TrackedEdit:
    """Replace [start, end), which should hold ``expected``, with ``replacement``."""

    start: int
    end: int
    expected: str
    replacement: str
    dependents: list = field(default_factory=list)  # what lay inside ``replacement`` (see carry)
    # The user typed inside [start, end): even when the slice reads as ``expected`` again (a letter typed,
    # then the old one deleted), replaying the step would remove their keystrokes.
    typed_inside: bool = False


PhraseLink = tuple[int, int, PhraseState]  # phrase id, index of the edit that holds it, its state after


@dataclass
class UndoStep:
    """One voice action's edits as they would be applied now, and what they do to the phrases."""

    group: str
    description: str
    edits: list[TrackedEdit]  # sorted, non-overlapping in the current text
    links: list[PhraseLink] = field(default_factory=list)  # after applying ``edits``
    inverse_links: list[PhraseLink] = field(default_factory=list)  # after applying their inverse


def new_ranges(edits: Sequence[TextEdit]) -> list[tuple[int, int]]:
    """Where each of ``edits`` (sorted) puts its text in the new document."""
    ranges = []
    shift = 0
    for edit in edits:
        start = edit.start + shift
        ranges.append((start, start + len(edit.text)))
        shift += edit.delta
    return ranges


class DocumentHistory:
    """What the engine remembers about one document."""

    def __init__(self, limit: int):
        self.limit = limit
        self.version = 0
        self.phrases: list[Phrase] = []  # oldest first
        self.undo: list[UndoStep] = []
        self.redo: list[UndoStep] = []
        self._next_phrase_id = 1

    # ---- reading (plan) -------------------------------------------------------------------------

    def last_phrase(self) -> Phrase | None:
        """The most recent phrase not taken out by voice (it may be LOST)."""
        for phrase in reversed(self.phrases):
            if phrase.state is not PhraseState.REMOVED:
                return phrase
        return None

    def scratchable(self, text: str) -> tuple[Phrase | None, int]:
        """The most recent phrase still present, and how many newer ones the user's editing broke."""
        broken = 0
        for phrase in reversed(self.phrases):
            if phrase.state is PhraseState.REMOVED:
                continue
            if phrase.is_present_in(text):
                return phrase, broken
            broken += 1
        return None, broken

    def phrase(self, phrase_id: int) -> Phrase | None:
        for phrase in self.phrases:
            if phrase.phrase_id == phrase_id:
                return phrase
        return None

    # ---- changing (applied, document_changed) ---------------------------------------------------

    def add_phrase(self, start: int, end: int, text: str, replaced: str = "") -> Phrase:
        phrase = Phrase(self._next_phrase_id, start, end, text, replaced=replaced)
        self._next_phrase_id += 1
        self.phrases.append(phrase)
        if len(self.phrases) > self.limit:
            del self.phrases[0]
        return phrase

    def push_undo(self, step: UndoStep) -> None:
        self.undo.append(step)
        if len(self.undo) > self.limit:
            del self.undo[0]

    def push_redo(self, step: UndoStep) -> None:
        self.redo.append(step)
        if len(self.redo) > self.limit:
            del self.redo[0]

    def relink(self, links: Sequence[PhraseLink], ranges: Sequence[tuple[int, int]], texts: Sequence[str]) -> None:
        """Put linked phrases where the step just applied placed their text."""
        for phrase_id, index, state in links:
            phrase = self.phrase(phrase_id)
            if phrase is None or index >= len(ranges):
                continue
            phrase.start, phrase.end = ranges[index]
            phrase.text = texts[index]
            phrase.state = state

    def carry(self, edits: Sequence[TextEdit], *, by_user: bool) -> list[list[Dependent]]:
        """Follow ``edits`` (sorted, validated, relative to the text before them).

        Returns, per edit, what lay inside the text it replaced: a voice edit's inverse puts that text
        back exactly, and then ``restore`` puts those ranges back where they were (a range squeezed to a
        point cannot be recovered by mapping offsets alone).
        """
        covered: list[list[Dependent]] = [[] for _ in edits]
        if not edits:
            return covered
        broken = PhraseState.LOST if by_user else PhraseState.REMOVED
        for phrase in self.phrases:
            if phrase.state is not PhraseState.PRESENT:
                continue
            if not by_user:
                _note_covered(covered, edits, phrase, phrase.start, phrase.end, phrase.state, phrase.text)
            _carry_phrase(phrase, edits, broken, by_user)
        for stack in (self.undo, self.redo):
            for step in stack:
                for tracked in step.edits:
                    if not by_user:
                        _note_covered(covered, edits, tracked, tracked.start, tracked.end, None, "")
                    _carry_tracked(tracked, edits, by_user)
        return covered

    @staticmethod
    def restore(dependents: Sequence[Dependent], start: int) -> None:
        """Put back the ends of ranges that lay in text just restored at ``start``."""
        for target, relative_start, relative_end, state, text in dependents:
            if relative_start is not None:
                target.start = start + relative_start
            if relative_end is not None:
                target.end = start + relative_end
            target.end = max(target.start, target.end)
            # Only a phrase that lay wholly inside gets its state and text back: the restored text is
            # exactly what it was then. One cut at an edge keeps what it has become.
            if isinstance(target, Phrase) and state is not None and relative_start is not None and relative_end is not None:
                target.state, target.text = state, text


# An end of a range that lay in (or at the edge of) a replaced range: the phrase or tracked edit, each
# end's offset from the replaced range's start (None: that end lay elsewhere), and for a phrase its
# state and text then.
class _Range(Protocol):
    start: int
    end: int


Dependent = tuple[_Range, "int | None", "int | None", "PhraseState | None", str]


def _note_covered(covered: list[list[Dependent]], edits: Sequence[TextEdit], target: _Range, start: int, end: int,
                  state: PhraseState | None, text: str) -> None:
    start_done = end_done = False
    for index, edit in enumerate(edits):
        if edit.start > end:
            return
        relative_start = start - edit.start if not start_done and edit.start <= start <= edit.end else None
        relative_end = end - edit.start if not end_done and edit.start <= end <= edit.end else None
        if relative_start is None and relative_end is None:
            continue
        start_done = start_done or relative_start is not None
        end_done = end_done or relative_end is not None
        covered[index].append((target, relative_start, relative_end, state, text))


def _carry_phrase(phrase: Phrase, edits: Sequence[TextEdit], broken: PhraseState, by_user: bool) -> None:
    inside = []
    crossed = phrase.end - phrase.start != len(phrase.text)  # lost track of it: never guess
    for edit in edits:
        if edit.start >= phrase.end:
            break
        if edit.start < phrase.end and edit.end > phrase.start:
            if edit.start >= phrase.start and edit.end <= phrase.end:
                inside.append(TextEdit(edit.start - phrase.start, edit.end - phrase.start, edit.text))
            else:
                crossed = True  # an edit across its edge: the phrase is no longer one piece
    new_start = map_offset(phrase.start, edits, stick_right=True)
    new_end = map_offset(phrase.end, edits)
    phrase.start, phrase.end = new_start, max(new_start, new_end)
    if crossed:
        phrase.state = broken
        return
    if not inside:
        return
    phrase.text = apply_edits(phrase.text, inside)
    phrase.replaced = ""
    typed = [edit for edit in inside if edit.text] if by_user else []
    if typed:
        _set_typing_apart(phrase, inside, typed)
    if not phrase.text.strip():
        phrase.state = broken


def _set_typing_apart(phrase: Phrase, inside: Sequence[TextEdit], typed: Sequence[TextEdit]) -> None:
    """Keep what the user typed inside ``phrase`` (already carried) out of it where it sits at an edge.

    The cursor rests before the space a dictation ends with, so the next keystrokes land inside the
    phrase's range: typing with only spacing between it and an end of the phrase is cut off with that
    spacing, and the phrase keeps its words. Typing between the words marks the phrase ``typed_inside``.
    """
    if len(typed) > 1:
        phrase.typed_inside = True
        return
    edit = typed[0]
    at = edit.start + sum(e.delta for e in inside if e.start < edit.start)  # where it landed in the phrase
    left, right = phrase.text[:at], phrase.text[at + len(edit.text):]
    if not right.strip():
        phrase.end = phrase.start + len(left)
        phrase.text = left
    elif not left.strip():
        phrase.start = phrase.end - len(right)
        phrase.text = right
    else:
        phrase.typed_inside = True


def _carry_tracked(tracked: TrackedEdit, edits: Sequence[TextEdit], by_user: bool) -> None:
    if tracked.start == tracked.end:
        # An insertion point where voice text was just put back (redo "one" before redo "two") belongs
        # after it; text the user typed there was written later and stays after the restored text.
        tracked.start = tracked.end = map_offset(tracked.start, edits, stick_right=not by_user)
    else:
        if by_user and any(edit.text and edit.start < tracked.end and edit.end > tracked.start
                           and not (edit.start == edit.end == tracked.start) for edit in edits):
            tracked.typed_inside = True
        start = map_offset(tracked.start, edits, stick_right=True)
        end = map_offset(tracked.end, edits)
        tracked.start, tracked.end = start, max(start, end)
