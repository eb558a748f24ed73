"""`pushkin bridge --stdio` as an editor sees it: a child process speaking JSON lines."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time

import pytest
from plugin_harness import PUSHKIN, DaemonProcess, short_tmpdir

from pushkin.clients.bridge import BridgeError, decode_line

pytestmark = pytest.mark.timeout(60)


class BridgeProcess:
    def __init__(self, address: str) -> None:
        self.process = subprocess.Popen(
            [*PUSHKIN, "bridge", "--stdio", "--address", address, "--reconnect-max", "0.2"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for raw in self.process.stdout:
            self.lines.put(json.loads(raw))
        self.lines.put(None)

    def write(self, data: bytes | dict) -> None:
        if isinstance(data, dict):
            data = json.dumps({"v": 1, **data}, ensure_ascii=False).encode()
        self.process.stdin.write(data + b"\n")
        self.process.stdin.flush()

    def expect(self, predicate, timeout_s: float = 10.0) -> dict:
        """The next message that matches, skipping the others; fails (no hang) after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        seen = []
        while True:
            try:
                message = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no matching message within {timeout_s} s; saw {seen}") from None
            assert message is not None, f"the bridge exited; saw {seen}; stderr: {self.process.stderr.read()!r}"
            assert message["v"] == 1
            if predicate(message):
                return message
            seen.append(message)

    def close(self) -> int:
        self.process.stdin.close()
        return self.process.wait(timeout=10)


@pytest.fixture
def bridge_to_nowhere():
    folder = short_tmpdir()
    bridge = BridgeProcess(f"unix://{folder}/nobody-listens.sock")
    yield bridge
    if bridge.process.poll() is None:
        bridge.process.kill()
        bridge.process.wait()


def test_bad_lines_get_clear_errors_and_the_bridge_keeps_going(bridge_to_nowhere):
    bridge = bridge_to_nowhere
    cases = [
        (b"{not json", "malformed-json", "not valid JSON"),
        (b"[1, 2]", "malformed-json", "JSON object"),
        (b'{"v": 2, "type": "open"}', "unsupported-version", '"v": 1'),
        (b'{"v": 1, "type": "teleport"}', "unknown-type", "unknown message type 'teleport'"),
        (b'{"v": 1, "type": "open", "text": "x", "version": 1}', "bad-field", "'document_id' is required"),
        (b'{"v": 1, "type": "open", "document_id": "a", "text": "x", "version": -3}', "bad-field", "negative"),
        (b'{"v": 1, "type": "edit_result", "batch_id": 1, "document_id": "a", "outcome": "stale", "version": 2}',
         "bad-field", "current 'text'"),
        (b'{"v": 1, "type": "focus", "document_id": "a"}', "no-hello", "send 'hello' before"),
        (b"\xff\xfe not utf-8", "malformed-json", "not valid JSON"),
    ]
    for line, code, fragment in cases:
        bridge.write(line)
        message = bridge.expect(lambda m: m["type"] == "error")
        assert message["code"] == code, (line, message)
        assert fragment in message["message"], (line, message)
    assert bridge.process.poll() is None
    assert bridge.close() == 0  # stdin's end ends the bridge, promptly and cleanly


def test_requests_without_a_daemon_are_answered_not_hung(bridge_to_nowhere):
    bridge = bridge_to_nowhere
    bridge.write({"type": "hello", "editor_name": "test"})
    disconnected = bridge.expect(lambda m: m["type"] == "connection" and m["state"] == "disconnected")
    assert "not reachable" in disconnected["message"] and "pushkin serve" in disconnected["message"]
    assert disconnected["retry_in_s"] > 0
    bridge.write({"type": "get_status", "id": "s1"})
    reply = bridge.expect(lambda m: m.get("id") == "s1")
    assert reply["type"] == "error" and reply["code"] == "not-connected"
    bridge.write({"type": "update", "document_id": "a", "version": 3, "text": "x"})
    dropped = bridge.expect(lambda m: m["type"] == "error")
    assert dropped["code"] == "not-connected" and "re-opened after the next 'welcome'" in dropped["message"]
    assert bridge.close() == 0


def test_a_daemon_that_goes_away_is_reported_and_reconnected():
    daemon = DaemonProcess(short_tmpdir())
    daemon.start()
    bridge = BridgeProcess(daemon.address)
    try:
        bridge.write({"type": "hello", "editor_name": "test", "capabilities": ["interim"]})
        welcome = bridge.expect(lambda m: m["type"] == "welcome")
        assert welcome["protocol_version"] == 1 and welcome["session_id"]
        bridge.write({"type": "open", "document_id": "doc", "text": "Привет", "version": 1,
                      "selection": {"anchor": 6, "active": 6}})
        bridge.write({"type": "focus", "document_id": "doc"})
        # get_status is a unary RPC that may overtake the stream's open/focus: ask until they are in.
        for attempt in range(100):
            bridge.write({"type": "get_status", "id": attempt})
            status = bridge.expect(lambda m, attempt=attempt: m.get("id") == attempt)
            assert status["type"] == "status"
            if status["focused_document_id"].endswith("doc"):
                break
            time.sleep(0.02)
        assert status["focused_document_id"].endswith("doc"), status

        daemon.stop()
        gone = bridge.expect(lambda m: m["type"] == "connection" and m["state"] == "disconnected")
        assert gone["message"]
        bridge.write({"type": "get_status", "id": "after"})
        assert bridge.expect(lambda m: m.get("id") == "after")["code"] == "not-connected"

        daemon.start()
        bridge.expect(lambda m: m["type"] == "welcome", timeout_s=15)
        # After the welcome the editor opens its documents again; dictation flows as before.
        bridge.write({"type": "open", "document_id": "doc", "text": "Привет", "version": 5,
                      "selection": {"anchor": 6, "active": 6}})
        bridge.write({"type": "focus", "document_id": "doc"})
        for attempt in range(100):
            bridge.write({"type": "get_status", "id": f"again-{attempt}"})
            if bridge.expect(lambda m, attempt=attempt: m.get("id") == f"again-{attempt}")["focused_document_id"].endswith("doc"):
                break
            time.sleep(0.02)
        answer: dict = {}
        worker = threading.Thread(target=lambda: answer.update(response=daemon.say("мир")))
        worker.start()
        batch = bridge.expect(lambda m: m["type"] == "edit_batch")
        assert batch["base_version"] == 5 and batch["edits"][0]["start"] == 6
        bridge.write({"type": "edit_result", "batch_id": batch["batch_id"], "document_id": "doc",
                      "outcome": "applied", "version": 6, "selection": batch["selection_after"]})
        worker.join(timeout=10)
        assert answer["response"].applied
        assert bridge.close() == 0
    finally:
        if bridge.process.poll() is None:
            bridge.process.kill()
        daemon.stop()


def test_decode_line_checks_the_envelope():
    assert decode_line(b'{"v": 1, "type": "get_status", "id": 9}').request_id == 9
    with pytest.raises(BridgeError) as error:
        decode_line(b'{"type": "get_status"}')
    assert error.value.code == "unsupported-version"
    with pytest.raises(BridgeError) as error:
        decode_line(b'{"v": 1, "type": 5}')
    assert error.value.code == "bad-field"


# ---- hostile lines (issue 11, item 6) -----------------------------------------------------------------------

DEEP = 100_000
HOSTILE_LINES: list[bytes] = [
    # Lone surrogates: valid JSON escapes that no UTF-8 text (or protobuf string) can hold.
    b'{"v":1,"type":"open","document_id":"\\ud83d","text":"x","version":1}',
    b'{"v":1,"type":"open","document_id":"a","text":"tail \\udc00","version":1}',
    b'{"v":1,"type":"hello","editor_name":"x","capabilities":["\\ud83d"]}',
    b'{"v":1,"type":"teleport","id":"\\ud83d"}',  # the error echoes an id that is not UTF-8
    b'{"v":1,"type":"set_listening","state":"\\ud83d"}',
    # Integers past the contract's widths, and past Python's own limits.
    b'{"v":1,"type":"update","document_id":"a","version":1,"changes":[{"start":4294967296,"end":4294967296,"text":""}]}',
    b'{"v":1,"type":"open","document_id":"a","text":"x","version":1,"selection":{"anchor":4294967296,"active":0}}',
    b'{"v":1,"type":"open","document_id":"a","text":"x","version":18446744073709551616}',
    b'{"v":1,"type":"edit_result","batch_id":18446744073709551616,"document_id":"a","outcome":"applied","version":1}',
    b'{"v":1,"type":"proposal_decision","proposal_id":99999999999999999999999,"accept":true}',
    b'{"v":1,"type":"open","document_id":"a","text":"x","version":' + b"9" * 5000 + b"}",
    b'{"v":18446744073709551617,"type":"open"}',
    # Deep nesting: at the top, inside a field, inside the id.
    b"[" * DEEP + b"]" * DEEP,
    b'{"v":1,"type":"open","document_id":' + b'{"a":' * 500 + b"1" + b"}" * 500 + b',"text":"x","version":1}',
    b'{"v":1,"type":"get_status","id":' + b"[" * 50 + b"]" * 50 + b"}",
    # Numbers that are not integers.
    b'{"v":1,"type":"open","document_id":"a","text":"x","version":NaN}',
    b'{"v":1,"type":"open","document_id":"a","text":"x","version":Infinity}',
    b'{"v":1,"type":"open","document_id":"a","text":"x","version":1e400}',
    b'{"v":1,"type":"open","document_id":"a","text":"x","version":1.5}',
    b'{"v":1,"type":"get_status","id":NaN}',
    b'{"v":1,"type":"get_status","id":true}',
    b'{"v":true,"type":"get_status"}',
    b'{"v":1.0,"type":"get_status"}',
    b'{"v":"1","type":"get_status"}',
    # Not objects, not JSON, not UTF-8.
    b"null", b"true", b"123", b'"open"', b"[]", b"{}", b"{", b"}", b'{"v":1} {"v":1}', b"\x00\x00\x00",
    b'{"v":1,"type":"open","document_id":"\xff","text":"","version":1}',
    b'{"v":1,"type":"open","document_id":"\xc0\xaf","text":"","version":1}',
    # Wrong shapes and types.
    b'{"v":1,"type":null}', b'{"v":1,"type":["open"]}', b'{"v":1,"type":"__proto__"}', b'{"v":1,"type":"constructor"}',
    b'{"v":1,"type":"update","document_id":"a","version":2,"changes":"abc"}',
    b'{"v":1,"type":"update","document_id":"a","version":2,"changes":[1,2]}',
    b'{"v":1,"type":"update","document_id":"a","version":2,"changes":[{"start":"0","end":0}]}',
    b'{"v":1,"type":"update","document_id":"a","version":2,"text":"x","changes":[{"start":0,"end":0,"text":"y"}]}',
    b'{"v":1,"type":"open","document_id":"a","text":"x","version":1,"selection":[0,0]}',
    b'{"v":1,"type":"edit_result","batch_id":1,"document_id":"a","outcome":"APPLIED","version":1}',
    b'{"v":1,"type":"edit_result","batch_id":1,"document_id":"a","outcome":1,"version":1}',
    b'{"v":1,"type":"focus","document_id":"a","focused":"yes"}',
    b'{"v":1,"type":"set_listening","state":"loud"}',
    b'{"v":1,"type":"set_listening","key":true}',
    b'{"v":1,"type":"hello","editor_name":7}',
    b'{"v":1,"type":"close"}',
    b'{"v":1,"type":"open","document_id":"a","text":"x","version":-1}',
]


def lines_answered(bridge: BridgeProcess, lines, probe_prefix: str) -> list[list[dict]]:
    """Send each line followed by a get_status probe; the bridge's errors about each line, in order."""
    answers = []
    for number, line in enumerate(lines):
        probe = f"{probe_prefix}-{number}"
        bridge.write(line)
        bridge.write({"type": "get_status", "id": probe})
        errors = []
        while True:
            message = bridge.expect(lambda m, probe=probe: m["type"] == "error" or m.get("id") == probe)
            if message.get("id") == probe:
                break
            errors.append(message)
        answers.append(errors)
    return answers


def test_every_hostile_line_gets_one_error_and_the_bridge_keeps_serving():
    daemon = DaemonProcess(short_tmpdir())
    daemon.start()
    bridge = BridgeProcess(daemon.address)
    try:
        bridge.write({"type": "hello", "editor_name": "test"})
        bridge.expect(lambda m: m["type"] == "welcome")
        answers = lines_answered(bridge, HOSTILE_LINES, "probe")
        for line, errors in zip(HOSTILE_LINES, answers):
            assert len(errors) == 1, (line[:120], errors)
            assert errors[0]["code"] != "internal-error" and errors[0]["message"], (line[:120], errors)
        by_line = dict(zip(HOSTILE_LINES, (errors[0] for errors in answers)))
        assert "lone surrogate U+D83D" in by_line[HOSTILE_LINES[0]]["message"]
        assert by_line[HOSTILE_LINES[3]]["id"] == "\ud83d"  # echoed, with \u escapes on the wire
        assert "too large" in by_line[HOSTILE_LINES[5]]["message"]
        assert "nested too deeply" in by_line[b"[" * DEEP + b"]" * DEEP]["message"]
        # Still serving the same stream: a document opens and dictation lands in it.
        bridge.write({"type": "open", "document_id": "doc", "text": "Hi", "version": 1,
                      "selection": {"anchor": 2, "active": 2}})
        bridge.write({"type": "focus", "document_id": "doc"})
        daemon.wait_focused("doc")
        answer: dict = {}
        worker = threading.Thread(target=lambda: answer.update(response=daemon.say("there")))
        worker.start()
        batch = bridge.expect(lambda m: m["type"] == "edit_batch")
        bridge.write({"type": "edit_result", "batch_id": batch["batch_id"], "document_id": "doc",
                      "outcome": "applied", "version": 2, "selection": batch["selection_after"]})
        worker.join(timeout=10)
        assert answer["response"].applied
        assert bridge.close() == 0
        assert b"Traceback" not in bridge.process.stderr.read()
    finally:
        if bridge.process.poll() is None:
            bridge.process.kill()
        daemon.stop()


# ---- the bridge fuzz test (bounded: runs in CI) ----------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

ANY_CHAR = st.characters(codec=None, blacklist_categories=())  # surrogates included
FIELDS = ["document_id", "text", "version", "selection", "changes", "batch_id", "outcome", "error", "proposal_id",
          "accept", "focused", "state", "mode", "intent_mode", "key", "editor_name", "capabilities", "id", "path",
          "language_id", "editor_version", "token", "anchor", "active", "start", "end"]
TYPES = ["hello", "open", "update", "close", "focus", "edit_result", "proposal_decision", "get_status",
         "set_listening", "", "Open", "teleport"]
SCALARS = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.sampled_from([2**32, 2**64, -1, 0])
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(ANY_CHAR, max_size=12)
           | st.sampled_from(["\ud83d", "a\udc00b", "applied", "stale", "listening", "press"]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELDS), inner, max_size=4),
                      max_leaves=12)


def _json(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=True).encode()  # NaN/Infinity and \ud83d escapes, as a sloppy editor writes


MESSAGES = st.builds(
    lambda v, kind, body: _json({"v": v, "type": kind, **body}),
    st.just(1) | SCALARS, st.sampled_from(TYPES) | SCALARS, st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=6),
)
LINES = (
    MESSAGES
    | VALUES.map(_json)
    | st.binary(min_size=1, max_size=64)
    | st.tuples(MESSAGES, st.integers(1, 200)).map(lambda pair: pair[0][: pair[1]])  # cut short
    | st.integers(1, 3000).map(lambda depth: b'{"v":1,"type":"open","document_id":' + b"[" * depth + b"]" * depth + b"}")
).map(lambda line: line.replace(b"\n", b" ")).filter(lambda line: line.strip())


def test_bridge_fuzz_every_line_is_answered_and_nothing_crashes(bridge_to_nowhere):
    bridge = bridge_to_nowhere
    bridge.write({"type": "hello", "editor_name": "fuzz"})
    counter = iter(range(10**9))

    @settings(max_examples=300, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(line=LINES)
    def one_line(line: bytes) -> None:
        [errors] = lines_answered(bridge, [line], f"fuzz-{next(counter)}")
        try:
            is_hello = json.loads(line).get("type") == "hello"
        except Exception:
            is_hello = False
        # A well-formed hello restarts the stream and needs no answer; every other line gets exactly one error.
        assert len(errors) == (len(errors) if is_hello else 1) <= 1, (line, errors)
        assert all(e["code"] != "internal-error" and e["message"] for e in errors), (line, errors)

    one_line()
    assert bridge.process.poll() is None
    assert bridge.close() == 0
    assert b"Traceback" not in bridge.process.stderr.read()


# ---- the generic JSON mapping (no process) ------------------------------------------------------------------

from pushkin.clients.bridge import decode_message, to_json  # noqa: E402
from pushkin.proto import types as t  # noqa: E402


def test_daemon_messages_keep_their_json_wire_format():
    transcript = t.Transcript("u1", "hi", True, "h", "en", 0.5, 1.0)
    status = t.DaemonStatus("0.1", t.ListenState.NO_AUDIO, t.ListenMode.PUSH_TO_TALK, t.IntentMode.COMMAND_ONLY,
                            (t.EditorInfo("s1", "nvim", ("a",), "a"),), "a", (t.Component("vad", "ready"),),
                            (transcript,), 3, "unix:///s", 1.5)
    transcript_json = {"type": "transcript", "utterance_id": "u1", "text": "hi", "final": True, "stable_prefix": "h",
                       "language": "en", "start_s": 0.5, "end_s": 1.0}
    status_json = {"type": "status", "daemon_version": "0.1", "state": "no-audio", "listen_mode": "push-to-talk",
                   "intent_mode": "command-only", "focused_document_id": "a",
                   "editors": [{"session_id": "s1", "editor_name": "nvim", "document_ids": ["a"],
                                "focused_document_id": "a"}],
                   "components": [{"name": "vad", "state": "ready", "detail": ""}],
                   "recent_transcripts": [transcript_json], "utterances": 3, "listen_address": "unix:///s",
                   "uptime_s": 1.5}
    assert to_json(status) == status_json
    assert to_json(t.Welcome("0.1", "s1", 1, ("x",), status)) == {
        "type": "welcome", "daemon_version": "0.1", "protocol_version": 1, "session_id": "s1", "capabilities": ["x"],
        "status": status_json}
    edits = (t.TextEdit(0, 0, "мир"),)
    assert to_json(t.EditBatch(2, "doc", 5, edits, None, "u1", "dictation", 99)) == {
        "type": "edit_batch", "batch_id": 2, "document_id": "doc", "base_version": 5,
        "edits": [{"start": 0, "end": 0, "text": "мир"}], "selection_after": None, "undo_group": "u1",
        "description": "dictation", "expires_at_unix_ms": 99}
    assert to_json(t.StatusNotice(t.NoticeLevel.WARNING, "c", "m")) == {
        "type": "notice", "level": "warning", "code": "c", "message": "m", "state": "", "document_id": ""}
    assert to_json(t.ProtocolError(t.ErrorCode.UNKNOWN_BATCH, "m", "doc", True)) == {
        "type": "daemon_error", "code": "unknown-batch", "message": "m", "document_id": "doc", "fatal": True}
    assert to_json(t.Proposal(4, "doc", 5, edits, "rewrite")) == {
        "type": "proposal", "proposal_id": 4, "document_id": "doc", "base_version": 5,
        "edits": [{"start": 0, "end": 0, "text": "мир"}], "description": "rewrite"}
    assert to_json(transcript) == transcript_json


EDITOR_MESSAGES = [
    ("hello", t.Hello("nvim", "0.10", 1, ("interim",), "tok")),
    ("open", t.OpenDocument("doc", "Привет", 3, t.Selection(6, 2), "markdown", "/x")),
    ("update", t.UpdateDocument("doc", 4, changes=(t.TextEdit(0, 1, "x"),), selection=t.Selection(1, 1))),
    ("update", t.UpdateDocument("doc", 4, text="")),
    ("close", t.CloseDocument("doc")),
    ("focus", t.Focus("", False)),
    ("edit_result", t.EditResult(2, "doc", t.EditOutcome.STALE, 5, "now", None, "")),
    ("proposal_decision", t.ProposalDecision(2**64 - 1, False)),
    ("set_listening", t.SetListening(t.ListenState.MUTED, t.ListenMode.TOGGLE, t.ListenKey.PRESS, None)),
]


@pytest.mark.parametrize("kind, message", EDITOR_MESSAGES, ids=repr)
def test_editor_messages_read_back_what_the_mapping_writes(kind, message):
    # An editor leaves out what it has not got (JSON null reads as absent too, but "" is a value).
    written = {key: value for key, value in to_json(message).items() if getattr(message, key) is not None}
    assert decode_message(kind, json.loads(json.dumps(written))) == message


@pytest.mark.parametrize("kind, body, fragment", [
    ("open", {"document_id": "a", "text": "x"}, "'version' is required"),
    ("open", {"document_id": "a", "text": "x", "version": 1, "selection": {"anchor": 2**32, "active": 0}},
     "'anchor' is too large (4294967296 > 4294967295)"),
    ("open", {"document_id": "a", "text": "x", "version": 2**64}, "'version' is too large"),
    ("open", {"document_id": "a", "text": "x", "version": True}, "must be an integer, not a boolean"),
    ("open", {"document_id": "a", "text": "x", "version": 1.0}, "must be an integer, got float"),
    ("update", {"document_id": "a", "version": 1, "changes": [7]}, "every item of 'changes' must be an object"),
    ("update", {"document_id": "a", "version": 1, "text": "x", "changes": [{"start": 0, "end": 0}]}, "not both"),
    ("edit_result", {"batch_id": 1, "document_id": "a", "outcome": "unanswered", "version": 1},
     "must be one of applied, stale, failed, expired; got 'unanswered'"),
    ("edit_result", {"batch_id": 1, "document_id": "a", "outcome": "stale", "version": 1}, "current 'text'"),
    ("hello", {"editor_name": "x", "capabilities": ["ok", 3]}, "every item of 'capabilities' must be a string"),
    ("hello", {"editor_name": "a\udc00"}, "lone surrogate U+DC00 at position 1"),
    ("set_listening", {"key": "hold"}, "must be one of press, release; got 'hold'"),
    ("focus", {"focused": "yes"}, "'focused' must be a boolean, got str"),
])
def test_bad_fields_are_refused_by_name(kind, body, fragment):
    with pytest.raises(BridgeError) as error:
        decode_message(kind, body)
    assert error.value.code == "bad-field" and fragment in str(error.value), str(error.value)


def test_the_editor_cannot_choose_the_contract_version():
    assert decode_message("hello", {"editor_name": "x", "protocol_version": 7}).protocol_version == 1
