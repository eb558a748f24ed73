"""The derived protobuf <-> dataclass conversion: it covers every field and survives a round trip."""

from __future__ import annotations

import dataclasses

import pytest

from pushkin.proto import convert
from pushkin.proto import types as t
from pushkin.proto.v1 import pushkin_pb2 as pb

SEL = t.Selection(3, 1)
EDITS = (t.TextEdit(0, 2, "Привет"), t.TextEdit(5, 5, "👋"))
BATCH = t.EditBatch(7, "doc", 4, EDITS, SEL, "u1", "dictation", 123)
TRANSCRIPT = t.Transcript("u9", "hello", True, "hel", "en", 0.5, 1.25)
STATUS = t.DaemonStatus("0.1", t.ListenState.MUTED, t.ListenMode.TOGGLE, t.IntentMode.COMMAND_ONLY,
                        (t.EditorInfo("s1", "nvim", ("a", "b"), "a"),), "a", (t.Component("vad", "ready", "ok"),),
                        (TRANSCRIPT,), 5, "unix:///x.sock", 2.5)
EDITOR_EVENTS = [
    t.Hello("nvim", "0.10", 1, ("interim", "proposals"), "tok"),
    t.OpenDocument("doc", "text", 3, SEL, "markdown", "/tmp/x"),
    t.UpdateDocument("doc", 4, text="new"),
    t.UpdateDocument("doc", 4, changes=EDITS, selection=SEL),
    t.UpdateDocument("doc", 4),
    t.CloseDocument("doc"),
    t.Focus("doc", False),
    *(t.EditResult(7, "doc", outcome, 5, text, selection, "why")
      for outcome in (t.EditOutcome.APPLIED, t.EditOutcome.STALE, t.EditOutcome.FAILED, t.EditOutcome.EXPIRED)
      for text, selection in (("", SEL), (None, None))),
    t.ProposalDecision(9, True),
]
DAEMON_EVENTS = [
    t.Welcome("0.1", "s1", 1, ("x",), STATUS),
    t.Welcome("0.1", "s1"),
    BATCH,
    t.EditBatch(8, "doc", 4, ()),
    TRANSCRIPT,
    *(t.StatusNotice(level, "code", "msg", state, "doc") for level in t.NoticeLevel for state in (None, *t.ListenState)),
    *(t.ProtocolError(code, "msg", "doc", True) for code in t.ErrorCode),
    t.Proposal(3, "doc", 4, EDITS, "rewrite"),
]


@pytest.mark.parametrize("event", EDITOR_EVENTS, ids=repr)
def test_editor_events_round_trip(event):
    assert convert.editor_event_from_pb(convert.editor_event_to_pb(event)) == event


@pytest.mark.parametrize("event", DAEMON_EVENTS, ids=repr)
def test_daemon_events_round_trip(event):
    assert convert.daemon_event_from_pb(convert.daemon_event_to_pb(event)) == event


def test_the_other_values_round_trip():
    result = t.UtteranceResult(t.Intent(t.IntentKind.COMMAND, "select", {"n": "2"}, "select two", "model"),
                               tuple(t.SentBatch(BATCH, outcome, "s1") for outcome in t.EditOutcome),
                               "done", "doc", True, "text", SEL)
    assert convert.utterance_result_from_pb(convert.utterance_result_to_pb(result)) == result
    assert convert.status_from_pb(convert.status_to_pb(STATUS)) == STATUS
    utterance = t.SendUtterance("мир", "doc", 0.25, 0.5, "ru", 3.0)
    assert convert.from_pb(t.SendUtterance, convert.to_pb(utterance)) == utterance
    start = t.AudioStart(8000, 2, 4, "doc", "ru", False)
    assert convert.audio_start_from_pb(convert.audio_start_to_pb(start).start) == start
    for change in (t.SetListening(), t.SetListening(t.ListenState.SLEEPING, t.ListenMode.PUSH_TO_TALK,
                                                     t.ListenKey.RELEASE, t.IntentMode.DICTATION)):
        assert convert.from_pb(t.SetListening, convert.to_pb(change)) == change
    for update in (t.SpeechBoundary("u1", True, 0.5), TRANSCRIPT, t.UtteranceDecided("u1", result),
                   t.StatusNotice(t.NoticeLevel.WARNING, "no-audio-device", "gone", t.ListenState.NO_AUDIO)):
        assert convert.recognition_from_pb(convert.recognition_to_pb(update)) == update


def test_every_dataclass_field_is_a_field_of_its_message_and_back():
    for cls, message in convert.MESSAGES.items():
        assert {f.name for f in dataclasses.fields(cls)} == set(message.DESCRIPTOR.fields_by_name), cls


def test_absent_and_unset_values():
    """What the wire leaves out reads as None where the field may be absent, else as UNSET_MEANS says."""
    assert convert.from_pb(t.StatusNotice, pb.StatusNotice(level=99)).level is t.NoticeLevel.INFO
    assert convert.from_pb(t.StatusNotice, pb.StatusNotice()).state is None
    status = convert.status_from_pb(pb.Status())
    assert (status.state, status.listen_mode, status.intent_mode) == (
        t.ListenState.LISTENING, t.ListenMode.ALWAYS_ON, t.IntentMode.DICTATION)
    assert convert.from_pb(t.Intent, pb.Intent()).kind is t.IntentKind.IGNORED
    assert convert.from_pb(t.SentBatch, pb.SentBatch()).outcome is t.EditOutcome.UNANSWERED
    assert convert.to_pb(t.SentBatch(BATCH, t.EditOutcome.UNANSWERED)).outcome == pb.EditResult.OUTCOME_UNSPECIFIED
    assert convert.from_pb(t.OpenDocument, pb.OpenDocument(document_id="d")).selection == t.Selection(0, 0)
    assert convert.from_pb(t.UpdateDocument, pb.UpdateDocument()).text is None
    assert convert.from_pb(t.UpdateDocument, pb.UpdateDocument(text="")).text == ""
    assert convert.listen_state_from_pb(pb.LISTEN_STATE_UNSPECIFIED) is None
    assert convert.listen_mode_to_pb(None) == pb.LISTEN_MODE_UNSPECIFIED
    assert convert.intent_mode_to_pb(t.IntentMode.COMMAND_ONLY) == pb.COMMAND_ONLY


def test_what_does_not_describe_a_contract_value_is_refused():
    with pytest.raises(convert.ConversionError, match="nothing set"):
        convert.editor_event_from_pb(pb.EditorMessage())
    with pytest.raises(convert.ConversionError, match="not an outcome"):
        convert.editor_event_from_pb(pb.EditorMessage(edit_result=pb.EditResult(batch_id=1)))
    with pytest.raises(convert.ConversionError, match="not an outcome"):
        convert.editor_event_from_pb(pb.EditorMessage(edit_result=pb.EditResult(outcome=42)))
    with pytest.raises(convert.ConversionError, match="nothing set"):
        convert.daemon_event_from_pb(pb.DaemonMessage())
    with pytest.raises(convert.ConversionError, match="not a DaemonMessage"):
        convert.daemon_event_to_pb(t.Hello("x"))
    with pytest.raises(convert.ConversionError, match="nothing set"):
        convert.recognition_from_pb(pb.RecognitionEvent(utterance_id="u"))
