"""``pushkin say --offline``: run utterances through the intent engine against a file, without a daemon.

The CLI (``clients/cli/cmd_core.py``) parses the flags into an :class:`OfflineRequest`; this module only runs it.

Each utterance goes through the same ``plan`` / ``applied`` protocol the daemon uses, against a simulated
editor that applies the edits and bumps the version. The file is only read. stdout gets the resulting text
exactly (no newline added), or with ``--json`` the intents, edits, final text and selection; messages for
people go to stderr. Bad input exits with status 2.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pushkin.daemon.planning import DocumentSnapshot, EditPlan, Modes, Utterance
from pushkin.proto.textedit import apply_edit_batch
from pushkin.proto.types import Selection

from .engine import IntentEngine
from .settings import IntentSettings

EXIT_BAD_INPUT = 2


class OfflineInputError(ValueError):
    """A file, cursor or selection that cannot be used."""


@dataclass(frozen=True)
class OfflineRequest:
    """What ``pushkin say --offline`` was asked: the file, the utterances in order, where the cursor is."""

    doc: str
    utterances: tuple[str, ...]
    cursor: int | None = None  # code points; None with no select: the end of the document
    select: str | None = None  # "START:END" in code points
    json: bool = False  # print intents, edits, final text and selection as JSON


@dataclass
class SimulatedEditor:
    """An editor holding one document: applies batches, bumps the version, keeps the selection."""

    document_id: str
    text: str
    selection: Selection
    version: int = 1

    def snapshot(self) -> DocumentSnapshot:
        return DocumentSnapshot(self.document_id, self.text, self.version, self.selection)

    def apply(self, plan: EditPlan) -> None:
        if plan.edits:
            edited = apply_edit_batch(self.text, self.selection, plan.edits, plan.selection_after)
            self.text, self.selection = edited.text, edited.selection
            self.version += 1
        elif plan.selection_after is not None:
            self.selection = plan.selection_after


def read_document(path: str) -> str:
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise OfflineInputError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise OfflineInputError(f"{path} is a directory, not a text file") from None
    except OSError as error:
        raise OfflineInputError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise OfflineInputError(f"{path} is not UTF-8 text (byte {error.start}: {data[error.start:error.start + 1]!r})") from None


def initial_selection(text: str, cursor: int | None, select: str | None) -> Selection:
    length = len(text)
    if cursor is not None and select is not None:
        raise OfflineInputError("give --cursor or --select, not both")
    if cursor is not None:
        if not 0 <= cursor <= length:
            raise OfflineInputError(f"--cursor {cursor} is outside the document (0..{length} code points)")
        return Selection.cursor(cursor)
    if select is not None:
        parts = select.split(":")
        if len(parts) != 2 or not all(p.strip().lstrip("-").isdigit() for p in parts):
            raise OfflineInputError(f"--select must be START:END in code points, not {select!r}")
        start, end = int(parts[0]), int(parts[1])
        for value in (start, end):
            if not 0 <= value <= length:
                raise OfflineInputError(f"--select {select}: {value} is outside the document (0..{length} code points)")
        return Selection(start, end)
    return Selection.cursor(length)


def run_utterances(text: str, selection: Selection, utterances: Sequence[str],
                   engine: IntentEngine | None = None) -> tuple[SimulatedEditor, list[dict]]:
    """Apply ``utterances`` in order; return the editor and one record per utterance."""
    engine = engine or IntentEngine()
    editor = SimulatedEditor("offline", text, selection)
    modes = Modes()
    records = []
    for spoken in utterances:
        snapshot = editor.snapshot()
        plan = engine.plan(Utterance(spoken), snapshot, modes)
        if plan.modes is not None:
            modes = plan.modes
        editor.apply(plan)
        engine.applied(snapshot, plan, editor.version)
        records.append({
            "utterance": spoken,
            "intent": {"kind": plan.intent.kind.value, "name": plan.intent.name, "args": dict(plan.intent.args),
                       "text": plan.intent.text, "source": plan.intent.source},
            "edits": [{"start": e.start, "end": e.end, "text": e.text} for e in plan.edits],
            "selection_after": None if plan.selection_after is None else
            {"anchor": plan.selection_after.anchor, "active": plan.selection_after.active},
            "message": plan.message,
            "version": editor.version,
        })
    return editor, records


def run_offline(request: OfflineRequest) -> int:
    """Run ``request``; print the resulting text (or JSON) to stdout; the exit status."""
    try:
        text = read_document(request.doc)
        selection = initial_selection(text, request.cursor, request.select)
    except OfflineInputError as error:
        print(f"pushkin say: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    editor, records = run_utterances(text, selection, list(request.utterances), IntentEngine(IntentSettings()))
    for record in records:
        if record["message"]:
            print(f"{record['utterance']}: {record['message']}", file=sys.stderr)
    if request.json:
        result = {"utterances": records, "text": editor.text,
                  "selection": {"anchor": editor.selection.anchor, "active": editor.selection.active}}
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(editor.text)
    sys.stdout.flush()
    return 0
