"""Words, sentences, paragraphs, lines and phrases near the cursor, found without scanning the document.

Every search starts in a small window around the cursor and widens it (×8) only while the answer could
lie outside, up to ``limit`` code points on each side; the cost follows the size of the unit asked for,
not the size of the document.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pushkin.text.units import PARAGRAPH_BREAK, WORD, Span, sentence_spans

_FIRST_WINDOW = 512


def _windows(cursor: int, length: int, limit: int):
    """Yield (lo, hi, complete_before, complete_after) windows around ``cursor``, growing ×8."""
    size = _FIRST_WINDOW
    while True:
        lo = max(0, cursor - size)
        hi = min(length, cursor + size)
        capped = size >= limit
        yield lo, hi, lo == 0 or capped, hi == length or capped
        if (lo == 0 and hi == length) or capped:
            return
        size = min(size * 8, limit)


def words_before(text: str, cursor: int, count: int, limit: int) -> list[Span]:
    """The last ``count`` words that start before ``cursor`` (a word the cursor is in is cut at the cursor)."""
    for lo, _, complete, _ in _windows(cursor, len(text), limit):
        spans = [m.span() for m in WORD.finditer(text, lo, cursor)]
        if lo > 0 and spans and spans[0][0] == lo:
            spans = spans[1:]  # may be the tail of a word cut by the window
        if len(spans) >= count or complete:
            return spans[-count:]
    return []


def words_after(text: str, cursor: int, count: int, limit: int) -> list[Span]:
    """The first ``count`` words that end after ``cursor``."""
    for _, hi, _, complete in _windows(cursor, len(text), limit):
        spans = [m.span() for m in WORD.finditer(text, cursor, hi)]
        if hi < len(text) and spans and spans[-1][1] == hi:
            spans = spans[:-1]
        if len(spans) >= count or complete:
            return spans[:count]
    return []


def paragraph_spans(text: str, lo: int, hi: int) -> list[Span]:
    spans = []
    start = lo
    for match in PARAGRAPH_BREAK.finditer(text, lo, hi):
        spans.append(_trimmed(text, start, match.start()))
        start = match.end()
    spans.append(_trimmed(text, start, hi))
    return [s for s in spans if s[0] < s[1]]


def line_spans(text: str, lo: int, hi: int) -> list[Span]:
    spans = []
    start = lo
    while True:
        newline = text.find("\n", start, hi)
        if newline < 0:
            spans.append((start, hi))
            return spans
        spans.append((start, newline - 1 if newline > start and text[newline - 1] == "\r" else newline))
        start = newline + 1


def _trimmed(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


_UNIT_SPANS: dict[str, Callable[[str, int, int], list[Span]]] = {
    "sentence": sentence_spans, "paragraph": paragraph_spans, "line": line_spans,
}


def unit_span(text: str, cursor: int, unit: str, which: str, limit: int) -> Span | None:
    """The sentence, paragraph or line that ``which`` names relative to ``cursor``.

    * ``this``: the one the cursor is in (or just after, when it sits in the space after one);
    * ``last`` / ``previous``: the last one that ends at or before the cursor;
    * ``next``: the first one that starts after the cursor (after "this" one, when the cursor is at a start).
    """
    finder = _UNIT_SPANS[unit]
    for lo, hi, complete_before, complete_after in _windows(cursor, len(text), limit):
        spans = finder(text, lo, hi)
        chosen = _choose(spans, cursor, which)
        if chosen is None:
            if complete_before and complete_after:
                return None
            continue
        index, span = chosen
        touches_lo = index == 0 and lo > 0
        touches_hi = index == len(spans) - 1 and hi < len(text)
        if (touches_lo and not complete_before) or (touches_hi and not complete_after):
            continue
        return span
    return None


def _choose(spans: list[Span], cursor: int, which: str) -> tuple[int, Span] | None:
    if not spans:
        return None
    if which == "this":
        best = None
        for index, (start, end) in enumerate(spans):
            if start <= cursor <= end:
                return index, (start, end)
            if end <= cursor:
                best = index, (start, end)
        return best if best is not None else (0, spans[0])
    if which in ("last", "previous"):
        best = None
        for index, (start, end) in enumerate(spans):
            if end <= cursor:
                best = index, (start, end)
            else:
                break
        return best
    if which == "next":
        current = _choose(spans, cursor, "this")
        for index, (start, end) in enumerate(spans):
            if start >= cursor and (current is None or index != current[0]):
                return index, (start, end)
        return None
    raise ValueError(f"unknown position {which!r}")


def line_bounds(text: str, cursor: int) -> Span:
    """The line the cursor is on (``str.find`` stops at the first newline, so this costs the line's length)."""
    start = text.rfind("\n", 0, cursor) + 1
    end = text.find("\n", cursor)
    if end < 0:
        return start, len(text)
    return start, end - 1 if end > start and text[end - 1] == "\r" else end


def phrase_pattern(phrase: str) -> re.Pattern[str] | None:
    """A case-insensitive pattern for the words of ``phrase``, any punctuation or spacing between them."""
    words = WORD.findall(phrase)
    if not words:
        return None
    parts = [re.escape(w).replace("е", "[её]").replace("Е", "[ЕЁ]") for w in (w.replace("ё", "е").replace("Ё", "Е") for w in words)]
    return re.compile(r"(?<!\w)" + r"\W+".join(parts) + r"(?!\w)", re.IGNORECASE)


def find_phrase(text: str, phrase: str, cursor: int, limit: int) -> Span | None:
    """The occurrence of ``phrase`` nearest before ``cursor`` (one the cursor is inside counts), else after."""
    pattern = phrase_pattern(phrase)
    if pattern is None:
        return None
    reach = len(phrase) * 2 + 8  # an occurrence the cursor is inside starts before it and ends after
    for lo, hi, complete_before, complete_after in _windows(cursor, len(text), limit):
        before = None
        for match in pattern.finditer(text, lo, min(len(text), cursor + reach)):
            if match.start() < cursor:
                before = match.span()
            else:
                break
        if before is not None:
            return before
        after = pattern.search(text, cursor, hi)
        if after is not None:
            return after.span()
        if complete_before and complete_after:
            return None
    return None


def widen_for_spaces(text: str, start: int, end: int) -> Span:
    """Grow a range about to be deleted so that the words around it keep one space between them."""
    if start >= end:
        return start, end
    after = text[end] if end < len(text) else ""
    before = text[start - 1] if start > 0 else ""
    # Only spaces: a tab is the user's text (indentation, a table), never spacing to tidy away.
    if after == " " and (not before or before.isspace() or before in "([{«“\"'"):
        limit = min(len(text), end + 64)
        while end < limit and text[end] == " ":
            end += 1
    elif before == " " and (not after or after in "\r\n.,!?;:…)]}»”"):
        floor = max(0, start - 64)
        while start > floor and text[start - 1] == " ":
            start -= 1
    return start, end


def unit_deletion(text: str, span: Span, unit: str) -> Span:
    """The range to delete for a sentence, paragraph or line: the unit and the separator after it (or before)."""
    start, end = span
    if unit == "sentence":
        return widen_for_spaces(text, start, end)
    if unit == "line":
        if end < len(text):
            return start, end + (2 if text.startswith("\r\n", end) else 1)
        if start > 0:
            return (start - 2 if text.startswith("\r\n", start - 2) else start - 1), end
        return start, end
    match = PARAGRAPH_BREAK.match(text, end) if end < len(text) else None
    if match and match.end() < len(text):
        return start, match.end()
    # The last paragraph: take the break before it instead, so no blank lines trail.
    floor = max(0, start - 256)
    probe = start
    while probe > floor and text[probe - 1].isspace():
        probe -= 1
    return probe, len(text) if match else end
