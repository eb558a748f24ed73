"""The one place where protobuf messages and the contract's dataclasses (:mod:`pushkin.proto.types`) meet.

The daemon and the client library both convert here, at their gRPC edge, so that everything behind the
edge speaks frozen dataclasses. ``*_to_pb`` builds a protobuf message, ``*_from_pb`` reads one. Reading
checks only what the wire format cannot (a oneof with nothing set raises :class:`ConversionError`);
ranges are checked by :mod:`pushkin.proto.textedit` where the text is known.
"""

from __future__ import annotations

from typing import Iterable

from . import types as t
from .v1 import pushkin_pb2 as pb


class ConversionError(ValueError):
    """A protobuf message that does not describe any value of the contract (e.g. an empty oneof)."""


# ---------------------------------------------------------------------------------------------------
# Enums: dataclass enum <-> protobuf enum number.
# ---------------------------------------------------------------------------------------------------

_LISTEN_STATE = {
    t.ListenState.LISTENING: pb.LISTENING,
    t.ListenState.SLEEPING: pb.SLEEPING,
    t.ListenState.MUTED: pb.MUTED,
    t.ListenState.NO_AUDIO: pb.NO_AUDIO,
}
_LISTEN_MODE = {
    t.ListenMode.ALWAYS_ON: pb.ALWAYS_ON,
    t.ListenMode.PUSH_TO_TALK: pb.PUSH_TO_TALK,
    t.ListenMode.TOGGLE: pb.TOGGLE,
}
_INTENT_MODE = {
    t.IntentMode.DICTATION: pb.DICTATION,
    t.IntentMode.COMMAND_ONLY: pb.COMMAND_ONLY,
}
_OUTCOME = {
    t.EditOutcome.UNANSWERED: pb.EditResult.OUTCOME_UNSPECIFIED,
    t.EditOutcome.APPLIED: pb.EditResult.APPLIED,
    t.EditOutcome.STALE: pb.EditResult.STALE,
    t.EditOutcome.FAILED: pb.EditResult.FAILED,
    t.EditOutcome.EXPIRED: pb.EditResult.EXPIRED,
}
_INTENT_KIND = {
    t.IntentKind.DICTATION: pb.Intent.DICTATION,
    t.IntentKind.COMMAND: pb.Intent.COMMAND,
    t.IntentKind.IGNORED: pb.Intent.IGNORED,
}
_LEVEL = {
    t.NoticeLevel.INFO: pb.StatusNotice.INFO,
    t.NoticeLevel.WARNING: pb.StatusNotice.WARNING,
    t.NoticeLevel.ERROR: pb.StatusNotice.ERROR,
}
_ERROR_CODE = {
    t.ErrorCode.BAD_MESSAGE: pb.Error.BAD_MESSAGE,
    t.ErrorCode.UNKNOWN_DOCUMENT: pb.Error.UNKNOWN_DOCUMENT,
    t.ErrorCode.BAD_RANGE: pb.Error.BAD_RANGE,
    t.ErrorCode.TOO_LARGE: pb.Error.TOO_LARGE,
    t.ErrorCode.UNAUTHENTICATED: pb.Error.UNAUTHENTICATED,
    t.ErrorCode.UNSUPPORTED_VERSION: pb.Error.UNSUPPORTED_VERSION,
    t.ErrorCode.UNKNOWN_BATCH: pb.Error.UNKNOWN_BATCH,
}


def _inverse(mapping: dict) -> dict:
    return {number: value for value, number in mapping.items()}


_LISTEN_STATE_BACK = _inverse(_LISTEN_STATE)
_LISTEN_MODE_BACK = _inverse(_LISTEN_MODE)
_INTENT_MODE_BACK = _inverse(_INTENT_MODE)
_OUTCOME_BACK = _inverse(_OUTCOME)
_INTENT_KIND_BACK = _inverse(_INTENT_KIND)
_LEVEL_BACK = _inverse(_LEVEL)
_ERROR_CODE_BACK = _inverse(_ERROR_CODE)


def listen_state_to_pb(state: t.ListenState | None) -> int:
    return _LISTEN_STATE[state] if state is not None else pb.LISTEN_STATE_UNSPECIFIED


def listen_state_from_pb(number: int) -> t.ListenState | None:
    return _LISTEN_STATE_BACK.get(number)


def listen_mode_to_pb(mode: t.ListenMode | None) -> int:
    return _LISTEN_MODE[mode] if mode is not None else pb.LISTEN_MODE_UNSPECIFIED


def listen_mode_from_pb(number: int) -> t.ListenMode | None:
    return _LISTEN_MODE_BACK.get(number)


def intent_mode_to_pb(mode: t.IntentMode | None) -> int:
    return _INTENT_MODE[mode] if mode is not None else pb.INTENT_MODE_UNSPECIFIED


def intent_mode_from_pb(number: int) -> t.IntentMode | None:
    return _INTENT_MODE_BACK.get(number)


def outcome_to_pb(outcome: t.EditOutcome) -> int:
    return _OUTCOME[outcome]


def outcome_from_pb(number: int) -> t.EditOutcome:
    return _OUTCOME_BACK.get(number, t.EditOutcome.UNANSWERED)


def error_code_to_pb(code: t.ErrorCode) -> int:
    return _ERROR_CODE[code]


def error_code_from_pb(number: int) -> t.ErrorCode:
    return _ERROR_CODE_BACK.get(number, t.ErrorCode.BAD_MESSAGE)


# ---------------------------------------------------------------------------------------------------
# Shared value types.
# ---------------------------------------------------------------------------------------------------


def selection_to_pb(selection: t.Selection) -> pb.Selection:
    return pb.Selection(anchor=selection.anchor, active=selection.active)


def selection_from_pb(message: pb.Selection) -> t.Selection:
    return t.Selection(message.anchor, message.active)


def edit_to_pb(edit: t.TextEdit) -> pb.TextEdit:
    return pb.TextEdit(start=edit.start, end=edit.end, text=edit.text)


def edit_from_pb(message: pb.TextEdit) -> t.TextEdit:
    return t.TextEdit(message.start, message.end, message.text)


def edits_from_pb(messages: Iterable[pb.TextEdit]) -> tuple[t.TextEdit, ...]:
    return tuple(t.TextEdit(m.start, m.end, m.text) for m in messages)


def batch_to_pb(batch: t.EditBatch) -> pb.EditBatch:
    message = pb.EditBatch(
        batch_id=batch.batch_id,
        document_id=batch.document_id,
        base_version=batch.base_version,
        edits=[edit_to_pb(e) for e in batch.edits],
        undo_group=batch.undo_group,
        description=batch.description,
        expires_at_unix_ms=batch.expires_at_unix_ms,
    )
    if batch.selection_after is not None:
        message.selection_after.CopyFrom(selection_to_pb(batch.selection_after))
    return message


def batch_from_pb(message: pb.EditBatch) -> t.EditBatch:
    return t.EditBatch(
        batch_id=message.batch_id,
        document_id=message.document_id,
        base_version=message.base_version,
        edits=edits_from_pb(message.edits),
        selection_after=selection_from_pb(message.selection_after) if message.HasField("selection_after") else None,
        undo_group=message.undo_group,
        description=message.description,
        expires_at_unix_ms=message.expires_at_unix_ms,
    )


def edit_result_to_pb(result: t.EditResult) -> pb.EditResult:
    message = pb.EditResult(
        batch_id=result.batch_id,
        document_id=result.document_id,
        outcome=outcome_to_pb(result.outcome),
        version=result.version,
        error=result.error,
    )
    if result.text is not None:
        message.text = result.text
    if result.selection is not None:
        message.selection.CopyFrom(selection_to_pb(result.selection))
    return message


def edit_result_from_pb(message: pb.EditResult) -> t.EditResult:
    return t.EditResult(
        batch_id=message.batch_id,
        document_id=message.document_id,
        outcome=outcome_from_pb(message.outcome),
        version=message.version,
        text=message.text if message.HasField("text") else None,
        selection=selection_from_pb(message.selection) if message.HasField("selection") else None,
        error=message.error,
    )


def intent_to_pb(intent: t.Intent) -> pb.Intent:
    return pb.Intent(kind=_INTENT_KIND[intent.kind], name=intent.name, args=dict(intent.args), text=intent.text,
                     source=intent.source)


def intent_from_pb(message: pb.Intent) -> t.Intent:
    kind = _INTENT_KIND_BACK.get(message.kind, t.IntentKind.IGNORED)
    return t.Intent(kind, message.name, dict(message.args), message.text, message.source)


def notice_to_pb(notice: t.StatusNotice) -> pb.StatusNotice:
    return pb.StatusNotice(level=_LEVEL[notice.level], code=notice.code, message=notice.message,
                           state=listen_state_to_pb(notice.state), document_id=notice.document_id)


def notice_from_pb(message: pb.StatusNotice) -> t.StatusNotice:
    return t.StatusNotice(_LEVEL_BACK.get(message.level, t.NoticeLevel.INFO), message.code, message.message,
                          listen_state_from_pb(message.state), message.document_id)


def transcript_to_pb(transcript: t.Transcript) -> pb.Transcript:
    return pb.Transcript(utterance_id=transcript.utterance_id, text=transcript.text, final=transcript.final,
                         stable_prefix=transcript.stable_prefix, language=transcript.language,
                         start_s=transcript.start_s, end_s=transcript.end_s)


def transcript_from_pb(message: pb.Transcript) -> t.Transcript:
    return t.Transcript(message.utterance_id, message.text, message.final, message.stable_prefix, message.language,
                        message.start_s, message.end_s)


def error_to_pb(error: t.ProtocolError) -> pb.Error:
    return pb.Error(code=_ERROR_CODE[error.code], message=error.message, document_id=error.document_id,
                    fatal=error.fatal)


def error_from_pb(message: pb.Error) -> t.ProtocolError:
    return t.ProtocolError(error_code_from_pb(message.code), message.message, message.document_id, message.fatal)


def proposal_to_pb(proposal: t.Proposal) -> pb.Proposal:
    return pb.Proposal(proposal_id=proposal.proposal_id, document_id=proposal.document_id,
                       base_version=proposal.base_version, edits=[edit_to_pb(e) for e in proposal.edits],
                       description=proposal.description)


def proposal_from_pb(message: pb.Proposal) -> t.Proposal:
    return t.Proposal(message.proposal_id, message.document_id, message.base_version, edits_from_pb(message.edits),
                      message.description)


# ---------------------------------------------------------------------------------------------------
# Status.
# ---------------------------------------------------------------------------------------------------


def status_to_pb(status: t.DaemonStatus) -> pb.Status:
    return pb.Status(
        daemon_version=status.daemon_version,
        state=listen_state_to_pb(status.state),
        listen_mode=listen_mode_to_pb(status.listen_mode),
        intent_mode=intent_mode_to_pb(status.intent_mode),
        editors=[pb.EditorInfo(session_id=e.session_id, editor_name=e.editor_name, document_ids=list(e.document_ids),
                               focused_document_id=e.focused_document_id) for e in status.editors],
        focused_document_id=status.focused_document_id,
        components=[pb.Component(name=c.name, state=c.state, detail=c.detail) for c in status.components],
        recent_transcripts=[transcript_to_pb(tr) for tr in status.recent_transcripts],
        utterances=status.utterances,
        listen_address=status.listen_address,
        uptime_s=status.uptime_s,
    )


def status_from_pb(message: pb.Status) -> t.DaemonStatus:
    return t.DaemonStatus(
        daemon_version=message.daemon_version,
        state=listen_state_from_pb(message.state) or t.ListenState.LISTENING,
        listen_mode=listen_mode_from_pb(message.listen_mode) or t.ListenMode.ALWAYS_ON,
        intent_mode=intent_mode_from_pb(message.intent_mode) or t.IntentMode.DICTATION,
        editors=tuple(t.EditorInfo(e.session_id, e.editor_name, tuple(e.document_ids), e.focused_document_id)
                      for e in message.editors),
        focused_document_id=message.focused_document_id,
        components=tuple(t.Component(c.name, c.state, c.detail) for c in message.components),
        recent_transcripts=tuple(transcript_from_pb(tr) for tr in message.recent_transcripts),
        utterances=message.utterances,
        listen_address=message.listen_address,
        uptime_s=message.uptime_s,
    )


# ---------------------------------------------------------------------------------------------------
# Connect: editor -> daemon.
# ---------------------------------------------------------------------------------------------------


def editor_event_to_pb(event: t.EditorEvent) -> pb.EditorMessage:
    if isinstance(event, t.Hello):
        return pb.EditorMessage(hello=pb.Hello(editor_name=event.editor_name, editor_version=event.editor_version,
                                               protocol_version=event.protocol_version,
                                               capabilities=list(event.capabilities), token=event.token))
    if isinstance(event, t.OpenDocument):
        return pb.EditorMessage(open=pb.OpenDocument(document_id=event.document_id, text=event.text,
                                                     version=event.version, selection=selection_to_pb(event.selection),
                                                     language_id=event.language_id, path=event.path))
    if isinstance(event, t.UpdateDocument):
        update = pb.UpdateDocument(document_id=event.document_id, version=event.version,
                                   changes=[edit_to_pb(e) for e in event.changes])
        if event.text is not None:
            update.text = event.text
        if event.selection is not None:
            update.selection.CopyFrom(selection_to_pb(event.selection))
        return pb.EditorMessage(update=update)
    if isinstance(event, t.CloseDocument):
        return pb.EditorMessage(close=pb.CloseDocument(document_id=event.document_id))
    if isinstance(event, t.Focus):
        return pb.EditorMessage(focus=pb.Focus(document_id=event.document_id, focused=event.focused))
    if isinstance(event, t.EditResult):
        return pb.EditorMessage(edit_result=edit_result_to_pb(event))
    if isinstance(event, t.ProposalDecision):
        return pb.EditorMessage(proposal_decision=pb.ProposalDecision(proposal_id=event.proposal_id,
                                                                      accept=event.accept))
    raise ConversionError(f"not an editor message: {type(event).__name__}")


def editor_event_from_pb(message: pb.EditorMessage) -> t.EditorEvent:
    kind = message.WhichOneof("kind")
    if kind == "hello":
        h = message.hello
        return t.Hello(h.editor_name, h.editor_version, h.protocol_version, tuple(h.capabilities), h.token)
    if kind == "open":
        o = message.open
        return t.OpenDocument(o.document_id, o.text, o.version, selection_from_pb(o.selection), o.language_id, o.path)
    if kind == "update":
        u = message.update
        return t.UpdateDocument(
            u.document_id, u.version,
            text=u.text if u.HasField("text") else None,
            changes=edits_from_pb(u.changes),
            selection=selection_from_pb(u.selection) if u.HasField("selection") else None,
        )
    if kind == "close":
        return t.CloseDocument(message.close.document_id)
    if kind == "focus":
        return t.Focus(message.focus.document_id, message.focus.focused)
    if kind == "edit_result":
        outcome = message.edit_result.outcome
        if outcome == pb.EditResult.OUTCOME_UNSPECIFIED or outcome not in _OUTCOME_BACK:
            # An editor always knows what it did; 0 on the wire means "no answer" only in the daemon's replies.
            raise ConversionError(f"EditResult.outcome {outcome} is not an outcome: use APPLIED, STALE, FAILED "
                                  "or EXPIRED")
        return edit_result_from_pb(message.edit_result)
    if kind == "proposal_decision":
        return t.ProposalDecision(message.proposal_decision.proposal_id, message.proposal_decision.accept)
    raise ConversionError("an EditorMessage with nothing set in `kind`")


# ---------------------------------------------------------------------------------------------------
# Connect: daemon -> editor.
# ---------------------------------------------------------------------------------------------------


def daemon_event_to_pb(event: t.DaemonEvent) -> pb.DaemonMessage:
    if isinstance(event, t.EditBatch):
        return pb.DaemonMessage(edit_batch=batch_to_pb(event))
    if isinstance(event, t.StatusNotice):
        return pb.DaemonMessage(notice=notice_to_pb(event))
    if isinstance(event, t.ProtocolError):
        return pb.DaemonMessage(error=error_to_pb(event))
    if isinstance(event, t.Transcript):
        return pb.DaemonMessage(transcript=transcript_to_pb(event))
    if isinstance(event, t.Welcome):
        welcome = pb.Welcome(daemon_version=event.daemon_version, protocol_version=event.protocol_version,
                             session_id=event.session_id, capabilities=list(event.capabilities))
        if event.status is not None:
            welcome.status.CopyFrom(status_to_pb(event.status))
        return pb.DaemonMessage(welcome=welcome)
    if isinstance(event, t.Proposal):
        return pb.DaemonMessage(proposal=proposal_to_pb(event))
    raise ConversionError(f"not a daemon message: {type(event).__name__}")


def daemon_event_from_pb(message: pb.DaemonMessage) -> t.DaemonEvent:
    kind = message.WhichOneof("kind")
    if kind == "edit_batch":
        return batch_from_pb(message.edit_batch)
    if kind == "notice":
        return notice_from_pb(message.notice)
    if kind == "error":
        return error_from_pb(message.error)
    if kind == "transcript":
        return transcript_from_pb(message.transcript)
    if kind == "welcome":
        w = message.welcome
        return t.Welcome(w.daemon_version, w.session_id, w.protocol_version, tuple(w.capabilities),
                         status_from_pb(w.status) if w.HasField("status") else None)
    if kind == "proposal":
        return proposal_from_pb(message.proposal)
    raise ConversionError("a DaemonMessage with nothing set in `kind`")


# ---------------------------------------------------------------------------------------------------
# SendUtterance and StreamAudio.
# ---------------------------------------------------------------------------------------------------


def utterance_result_to_pb(result: t.UtteranceResult) -> pb.SendUtteranceResponse:
    message = pb.SendUtteranceResponse(
        intent=intent_to_pb(result.intent),
        batches=[pb.SentBatch(batch=batch_to_pb(s.batch), outcome=outcome_to_pb(s.outcome), editor=s.editor)
                 for s in result.batches],
        message=result.message,
        document_id=result.document_id,
        applied=result.applied,
        final_text=result.final_text,
    )
    if result.final_selection is not None:
        message.final_selection.CopyFrom(selection_to_pb(result.final_selection))
    return message


def utterance_result_from_pb(message: pb.SendUtteranceResponse) -> t.UtteranceResult:
    return t.UtteranceResult(
        intent=intent_from_pb(message.intent),
        batches=tuple(t.SentBatch(batch_from_pb(s.batch), outcome_from_pb(s.outcome), s.editor)
                      for s in message.batches),
        message=message.message,
        document_id=message.document_id,
        applied=message.applied,
        final_text=message.final_text,
        final_selection=selection_from_pb(message.final_selection) if message.HasField("final_selection") else None,
    )


def audio_start_to_pb(start: t.AudioStart) -> pb.AudioChunk:
    return pb.AudioChunk(start=pb.AudioStart(sample_rate=start.sample_rate, channels=start.channels,
                                             sample_width=start.sample_width, document_id=start.document_id,
                                             language=start.language, act=start.act))


def audio_start_from_pb(message: pb.AudioStart) -> t.AudioStart:
    return t.AudioStart(message.sample_rate, message.channels, message.sample_width, message.document_id,
                        message.language, message.act)


def recognition_to_pb(update: t.RecognitionUpdate) -> pb.RecognitionEvent:
    if isinstance(update, t.SpeechBoundary):
        return pb.RecognitionEvent(utterance_id=update.utterance_id,
                                   boundary=pb.SpeechBoundary(started=update.started, time_s=update.time_s))
    if isinstance(update, t.Transcript):
        return pb.RecognitionEvent(utterance_id=update.utterance_id, transcript=transcript_to_pb(update))
    if isinstance(update, t.UtteranceDecided):
        return pb.RecognitionEvent(utterance_id=update.utterance_id, decided=utterance_result_to_pb(update.result))
    if isinstance(update, t.StatusNotice):
        return pb.RecognitionEvent(notice=notice_to_pb(update))
    raise ConversionError(f"not a recognition event: {type(update).__name__}")


def recognition_from_pb(message: pb.RecognitionEvent) -> t.RecognitionUpdate:
    kind = message.WhichOneof("kind")
    if kind == "boundary":
        return t.SpeechBoundary(message.utterance_id, message.boundary.started, message.boundary.time_s)
    if kind == "transcript":
        return transcript_from_pb(message.transcript)
    if kind == "decided":
        return t.UtteranceDecided(message.utterance_id, utterance_result_from_pb(message.decided))
    if kind == "notice":
        return notice_from_pb(message.notice)
    raise ConversionError("a RecognitionEvent with nothing set in `kind`")
