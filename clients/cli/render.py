"""Printing edits, utterance results and status for people and as JSON."""

from __future__ import annotations

from pushkin.proto.types import DaemonStatus, TextEdit, UtteranceResult


def describe_edit(edit: TextEdit) -> str:
    if edit.start == edit.end:
        return f"insert at {edit.start}: {edit.text!r}"
    if not edit.text:
        return f"delete [{edit.start}, {edit.end})"
    return f"replace [{edit.start}, {edit.end}) with {edit.text!r}"


def _selection(selection) -> dict | None:
    return None if selection is None else {"anchor": selection.anchor, "active": selection.active}


def result_to_json(utterance: str, result: UtteranceResult) -> dict:
    return {
        "utterance": utterance,
        "intent": {"kind": result.intent.kind.value, "name": result.intent.name, "args": dict(result.intent.args),
                   "text": result.intent.text, "source": result.intent.source},
        "document_id": result.document_id,
        "applied": result.applied,
        "message": result.message,
        "batches": [{"batch_id": s.batch.batch_id, "base_version": s.batch.base_version, "outcome": s.outcome.value,
                     "editor": s.editor, "edits": [{"start": e.start, "end": e.end, "text": e.text} for e in s.batch.edits]}
                    for s in result.batches],
        "final_text": result.final_text,
        "final_selection": _selection(result.final_selection),
    }


def status_to_json(status: DaemonStatus) -> dict:
    return {
        "daemon_version": status.daemon_version,
        "state": status.state.value,
        "listen_mode": status.listen_mode.value,
        "intent_mode": status.intent_mode.value,
        "listen_address": status.listen_address,
        "uptime_s": status.uptime_s,
        "utterances": status.utterances,
        "focused_document_id": status.focused_document_id,
        "editors": [{"session_id": e.session_id, "editor_name": e.editor_name, "document_ids": list(e.document_ids),
                     "focused_document_id": e.focused_document_id} for e in status.editors],
        "components": [{"name": c.name, "state": c.state, "detail": c.detail} for c in status.components],
        "recent_transcripts": [t.text for t in status.recent_transcripts],
    }
