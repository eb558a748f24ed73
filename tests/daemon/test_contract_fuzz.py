"""A bounded fuzz of the contract: hostile bytes and hostile-but-valid messages on real sockets against a
real daemon. Zero crashes, every undecodable input answered with a clear error (Error BAD_MESSAGE on the
Connect stream, INVALID_ARGUMENT on unary calls), no tracebacks in the log, and the daemon still serves.

The daemon runs in a thread with its own event loop so that hypothesis can drive plain synchronous gRPC
calls at it (a few hundred examples take a few seconds).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import threading
from pathlib import Path

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pushkin.daemon.server import Daemon
from pushkin.proto.v1 import pushkin_pb2 as pb

from .conftest import unix_settings
from .test_bad_input import still_serving

PROBE_ID = "\x00probe: never opened"
UINT32 = st.integers(0, 2**32 - 1)
UINT64 = st.integers(0, 2**64 - 1)
# Protobuf strings must be valid UTF-8: lone surrogates cannot be serialized by a client, only sent as bytes.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
ID = st.sampled_from(["doc", "other", "", "я", "👋"]) | TEXT


class ThreadedDaemon:
    """A Daemon serving from its own thread and event loop."""

    def __init__(self, settings):
        self.loop = asyncio.new_event_loop()
        self.daemon = Daemon(settings)
        self.thread = threading.Thread(target=self.loop.run_forever, name="fuzzed-daemon", daemon=True)

    def __enter__(self):
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.daemon.start(), self.loop).result(10)
        return self

    def __exit__(self, *_):
        asyncio.run_coroutine_threadsafe(self.daemon.stop(0.2), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class ProblemLog(logging.Handler):
    """Every record with a traceback or at ERROR and above: a malformed input must produce none."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.problems: list[str] = []

    def emit(self, record):
        if record.exc_info or record.levelno >= logging.ERROR or "Traceback" in record.getMessage():
            self.problems.append(f"{record.name}: {record.getMessage()}")


@pytest.fixture(scope="module")
def fuzzed():
    folder = Path(tempfile.mkdtemp(prefix="pk-fuzz-"))
    problems = ProblemLog()
    logging.getLogger().addHandler(problems)
    try:
        with ThreadedDaemon(unix_settings(folder)) as served:
            channel = grpc.insecure_channel(served.daemon.address.grpc_target)
            yield served, channel, problems
            channel.close()
    finally:
        logging.getLogger().removeHandler(problems)
        shutil.rmtree(folder, ignore_errors=True)


# ---- what to send ----------------------------------------------------------------------------------------

selections = st.builds(lambda a, b: pb.Selection(anchor=a, active=b), UINT32, UINT32)
text_edits = st.builds(lambda s, e, t: pb.TextEdit(start=s, end=e, text=t), UINT32 | st.integers(0, 50),
                       UINT32 | st.integers(0, 50), TEXT)
editor_messages = st.one_of(
    st.builds(lambda n, v, c: pb.EditorMessage(hello=pb.Hello(editor_name=n, protocol_version=v, capabilities=c)),
              TEXT, UINT32, st.lists(TEXT, max_size=3)),
    st.builds(lambda i, t, v, s: pb.EditorMessage(open=pb.OpenDocument(document_id=i, text=t, version=v, selection=s)),
              ID, TEXT, UINT64, selections),
    st.builds(lambda i, v, t, c, s: pb.EditorMessage(update=pb.UpdateDocument(
        document_id=i, version=v, changes=c, selection=s, **({"text": t} if t is not None else {}))),
        ID, UINT64, st.none() | TEXT, st.lists(text_edits, max_size=4), selections),
    st.builds(lambda i: pb.EditorMessage(close=pb.CloseDocument(document_id=i)), ID),
    st.builds(lambda i, f: pb.EditorMessage(focus=pb.Focus(document_id=i, focused=f)), ID, st.booleans()),
    st.builds(lambda b, i, o, v, t: pb.EditorMessage(edit_result=pb.EditResult(
        batch_id=b, document_id=i, outcome=o, version=v, **({"text": t} if t is not None else {}))),
        UINT64, ID, st.integers(0, 10), UINT64, st.none() | TEXT),
    st.builds(lambda p, a: pb.EditorMessage(proposal_decision=pb.ProposalDecision(proposal_id=p, accept=a)),
              UINT64, st.booleans()),
    st.just(pb.EditorMessage()),
).map(lambda message: message.SerializeToString())


@st.composite
def mutated(draw, valid):
    """A valid message's bytes with bytes flipped, cut, or inserted."""
    data = bytearray(draw(valid))
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip" and data:
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        elif action == "cut" and data:
            del data[draw(st.integers(0, len(data) - 1)):]
        else:
            data.insert(draw(st.integers(0, len(data))), draw(st.integers(0, 255)))
    return bytes(data)


hostile_bytes = st.one_of(st.binary(max_size=120), mutated(editor_messages), editor_messages,
                          st.sampled_from([b"\x0a\x05\x0a\x03\xff\xfe\xfd", b"\x12\x04\x0a\x02\xed\xa0",
                                           b"\x1a\xff\xff\xff\xff\x0f", b"\x0a"]))


def decodes(message_class, data: bytes) -> bool:
    try:
        message_class.FromString(data)
        return True
    except Exception:
        return False


# ---- the fuzz ----------------------------------------------------------------------------------------------


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(inputs=st.lists(hostile_bytes, min_size=1, max_size=4))
def test_hostile_editor_messages_each_get_an_answer_and_the_stream_goes_on(fuzzed, inputs):
    served, channel, problems = fuzzed
    connect = channel.stream_stream("/pushkin.v1.Pushkin/Connect", request_serializer=None,
                                    response_deserializer=pb.DaemonMessage.FromString)
    hello = pb.EditorMessage(hello=pb.Hello(editor_name="fuzz", protocol_version=1)).SerializeToString()
    probe = pb.EditorMessage(close=pb.CloseDocument(document_id=PROBE_ID)).SerializeToString()
    requests = [hello]
    for data in inputs:
        requests += [data, probe]
    answers = list(connect(iter(requests), timeout=20))
    assert answers[0].WhichOneof("kind") == "welcome", answers[:1]
    # Split what came back at each probe's answer: the answers to one hostile input lie between two probes.
    groups, current = [], []
    for answer in answers[1:]:
        if answer.WhichOneof("kind") == "error" and answer.error.document_id == PROBE_ID:
            assert answer.error.code == pb.Error.UNKNOWN_DOCUMENT
            groups.append(current)
            current = []
        else:
            current.append(answer)
    assert len(groups) == len(inputs), "the stream ended before every input was answered"
    for data, group in zip(inputs, groups):
        errors = [a.error for a in group if a.WhichOneof("kind") == "error"]
        assert all(e.message and not e.fatal for e in errors), errors
        if not decodes(pb.EditorMessage, data):
            assert any(e.code == pb.Error.BAD_MESSAGE and "could not be decoded" in e.message for e in errors), \
                (data, group)
        elif pb.EditorMessage.FromString(data).WhichOneof("kind") in (None, "hello", "edit_result"):
            assert errors, (data, group)  # no kind, a second Hello, an answer to a batch never sent
    assert not problems.problems, problems.problems


UNARY = {
    "SendUtterance": (pb.SendUtteranceRequest, st.builds(
        lambda t, d, b, a, lang, w: pb.SendUtteranceRequest(text=t, document_id=d, pause_before_s=b, pause_after_s=a,
                                                            language=lang, timeout_s=w),
        TEXT, ID, st.floats(), st.floats(), TEXT, st.floats())),
    "SetListening": (pb.SetListeningRequest, st.builds(
        lambda s, m, k, i: pb.SetListeningRequest(key=k, **{name: value for name, value in
                                                            (("state", s), ("mode", m), ("intent_mode", i))
                                                            if value is not None}),
        st.none() | st.integers(-3, 9), st.none() | st.integers(-3, 9), st.integers(-3, 9),
        st.none() | st.integers(-3, 9))),
    "GetStatus": (pb.GetStatusRequest, st.just(pb.GetStatusRequest())),
}


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(method=st.sampled_from(sorted(UNARY)), data=st.data())
def test_hostile_unary_requests_are_answered_ok_or_invalid_argument(fuzzed, method, data):
    served, channel, problems = fuzzed
    request_class, valid = UNARY[method]
    valid_bytes = valid.map(lambda message: message.SerializeToString())
    payload = data.draw(st.one_of(valid_bytes, mutated(valid_bytes), st.binary(max_size=80)))
    call = channel.unary_unary(f"/pushkin.v1.Pushkin/{method}", request_serializer=None, response_deserializer=None)
    try:
        call(payload, timeout=20)
        code = grpc.StatusCode.OK
    except grpc.RpcError as error:
        code = error.code()
        assert error.details(), "a refusal without a reason"
    assert code in (grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT), (payload, code)
    if not decodes(request_class, payload):
        assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert not problems.problems, problems.problems


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(chunks=st.lists(st.binary(max_size=64), min_size=1, max_size=3))
def test_hostile_audio_chunks_are_refused_with_a_reason(fuzzed, chunks):
    served, channel, problems = fuzzed
    call = channel.stream_stream("/pushkin.v1.Pushkin/StreamAudio", request_serializer=None,
                                 response_deserializer=None)
    with pytest.raises(grpc.RpcError) as failure:
        list(call(iter(chunks), timeout=20))
    # No recognizer here: a valid start is refused FAILED_PRECONDITION, anything else INVALID_ARGUMENT.
    assert failure.value.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION)
    assert failure.value.details()
    assert not problems.problems, problems.problems


def test_the_fuzzed_daemon_still_serves(fuzzed):
    served, _, problems = fuzzed
    asyncio.run(still_serving(served.daemon.address))
    # Every fuzzed stream was closed by its client; none of them lingers in the daemon.
    assert not [s for s in list(served.daemon.core.sessions.values()) if s.hello.editor_name == "fuzz"]
    assert not problems.problems, problems.problems
