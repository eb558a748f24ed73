"""Documents written with markers: ‸ is the cursor, ⟦ ⟧ a selection (anchor at ⟦, active at ⟧)."""

from __future__ import annotations

from pushkin.daemon.intent import IntentEngine
from pushkin.daemon.intent.offline import run_utterances
from pushkin.proto.types import Selection

CURSOR, OPEN, CLOSE = "‸", "⟦", "⟧"


def parse(marked: str) -> tuple[str, Selection | None]:
    if CURSOR in marked:
        offset = marked.index(CURSOR)
        return marked.replace(CURSOR, ""), Selection.cursor(offset)
    if OPEN in marked:
        start = marked.index(OPEN)
        end = marked.index(CLOSE) - 1
        return marked.replace(OPEN, "").replace(CLOSE, ""), Selection(start, end)
    return marked, None


def render(text: str, selection: Selection) -> str:
    if selection.is_cursor:
        return text[:selection.active] + CURSOR + text[selection.active:]
    start, end = selection.start, selection.end
    return text[:start] + OPEN + text[start:end] + CLOSE + text[end:]


def run(marked: str, utterances, engine: IntentEngine | None = None):
    text, selection = parse(marked)
    if selection is None:
        selection = Selection.cursor(len(text))
    editor, records = run_utterances(text, selection, list(utterances), engine)
    return editor, records
