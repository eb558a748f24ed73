"""`pushkin bridge --stdio` as an editor sees it: a child process speaking JSON lines."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time

import pytest

from pushkin.clients.bridge import BridgeError, decode_line
from plugin_harness import PUSHKIN, DaemonProcess, short_tmpdir

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
            status = bridge.expect(lambda m: m.get("id") == attempt)
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
            if bridge.expect(lambda m: m.get("id") == f"again-{attempt}")["focused_document_id"].endswith("doc"):
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
