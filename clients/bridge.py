"""`pushkin bridge --stdio`: newline-delimited JSON on stdin/stdout ⇄ the daemon's gRPC Connect stream.

Editors without a gRPC library (Neovim's Lua, Vim, Emacs, Kakoune) spawn this process and speak one JSON
object per line. The protocol is versioned (``"v": 1``) and documented message by message in
``clients/BRIDGE.md``. This module is a gRPC edge: JSON objects are decoded straight into the contract's
protobuf messages (and back) here, nowhere else.

The editor is the source of truth for its documents: after every (re)connect the bridge emits ``welcome``
and the editor re-sends ``open`` for each document it wants tracked. While the daemon is away, document
messages are dropped (the next ``welcome`` asks for them again) and requests that need an answer get an
``error`` with code ``not-connected``; nothing blocks and nothing is buffered without bound.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import math
import sys
from dataclasses import dataclass
from typing import Any, Callable

import grpc

from pushkin.proto.endpoint import Address
from pushkin.proto.v1 import pushkin_pb2 as pb
from pushkin.proto.v1 import pushkin_pb2_grpc as pb_grpc

from .connection import UntrustedDaemon, open_channel, token_metadata, unavailable_message

log = logging.getLogger(__name__)

BRIDGE_PROTOCOL_VERSION = 1
CONTRACT_PROTOCOL_VERSION = 1
# A document can be large; one JSON line carries a whole text.
MAX_LINE_BYTES = 64 * 1024 * 1024
# The contract's integer widths: offsets are uint32, versions and ids uint64.
MAX_UINT32 = 2**32 - 1
MAX_UINT64 = 2**64 - 1


@dataclass(frozen=True)
class BridgeOptions:
    """How the bridge reaches the daemon and how it retries."""

    address: Address  # resolved with pushkin.clients.connection.resolve_address (the daemon's defaults)
    token: str | None = None  # sent as x-pushkin-token metadata (TCP listeners only)
    reconnect_initial_s: float = 0.05
    reconnect_max_s: float = 2.0
    request_timeout_s: float = 5.0


class BridgeError(ValueError):
    """A line from the editor that the bridge cannot turn into a message; ``code`` is the JSON code."""

    def __init__(self, code: str, message: str, request_id: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.request_id = request_id  # set when the line's envelope was bad but its id was readable


# ---------------------------------------------------------------------------------------------------------
# Enum names on the JSON side: lower-case, hyphenated, as the editor writes them.
# ---------------------------------------------------------------------------------------------------------

_OUTCOMES = {"applied": pb.EditResult.APPLIED, "stale": pb.EditResult.STALE, "failed": pb.EditResult.FAILED,
             "expired": pb.EditResult.EXPIRED}
_LISTEN_STATES = {"listening": pb.LISTENING, "sleeping": pb.SLEEPING, "muted": pb.MUTED, "no-audio": pb.NO_AUDIO}
_LISTEN_MODES = {"always-on": pb.ALWAYS_ON, "push-to-talk": pb.PUSH_TO_TALK, "toggle": pb.TOGGLE}
_INTENT_MODES = {"dictation": pb.DICTATION, "command-only": pb.COMMAND_ONLY}
_KEYS = {"press": pb.SetListeningRequest.PRESS, "release": pb.SetListeningRequest.RELEASE}
_NOTICE_LEVELS = {pb.StatusNotice.INFO: "info", pb.StatusNotice.WARNING: "warning", pb.StatusNotice.ERROR: "error"}
_ERROR_CODES = {
    pb.Error.BAD_MESSAGE: "bad-message",
    pb.Error.UNKNOWN_DOCUMENT: "unknown-document",
    pb.Error.BAD_RANGE: "bad-range",
    pb.Error.TOO_LARGE: "too-large",
    pb.Error.UNAUTHENTICATED: "unauthenticated",
    pb.Error.UNSUPPORTED_VERSION: "unsupported-version",
    pb.Error.UNKNOWN_BATCH: "unknown-batch",
}


def _name_of(mapping: dict[str, int], value: int) -> str:
    for name, number in mapping.items():
        if number == value:
            return name
    return ""


# ---------------------------------------------------------------------------------------------------------
# Editor → bridge: decoding
# ---------------------------------------------------------------------------------------------------------


def _field(obj: dict, name: str, kind: type | tuple[type, ...], *, required: bool = False, default: Any = None) -> Any:
    if name not in obj or obj[name] is None:
        if required:
            raise BridgeError("bad-field", f"{obj.get('type')!r}: the field {name!r} is required")
        return default
    value = obj[name]
    # JSON has one number type; bool is an int subclass in Python and must not pass for a number.
    if isinstance(value, bool) and kind is not bool and not (isinstance(kind, tuple) and bool in kind):
        raise BridgeError("bad-field", f"{obj.get('type')!r}: the field {name!r} must be {_kind_name(kind)}, not a boolean")
    if not isinstance(value, kind):
        raise BridgeError("bad-field", f"{obj.get('type')!r}: the field {name!r} must be {_kind_name(kind)}, got {type(value).__name__}")
    if isinstance(value, str):
        _check_unicode(value, f"{obj.get('type')!r}: the field {name!r}")
    return value


def _check_unicode(text: str, what: str) -> None:
    """JSON lets a line carry a lone surrogate ("\\ud83d"); no document can hold one: refuse it by name."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BridgeError("bad-field", f"{what} is not valid Unicode: a lone surrogate U+{ord(text[exc.start]):04X} "
                          f"at position {exc.start} (JSON escapes \\ud800-\\udfff must come in pairs)") from None


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {int: "an integer", str: "a string", bool: "a boolean", list: "a list", dict: "an object"}
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


def _offset(obj: dict, name: str, *, required: bool = True, default: int = 0, maximum: int = MAX_UINT64) -> int:
    value = _field(obj, name, int, required=required, default=default)
    if value < 0:
        raise BridgeError("bad-field", f"{obj.get('type')!r}: the field {name!r} must not be negative ({value})")
    if value > maximum:
        raise BridgeError("bad-field", f"{obj.get('type')!r}: the field {name!r} is too large ({value} > {maximum})")
    return value


def _selection(obj: dict, name: str = "selection") -> pb.Selection | None:
    raw = _field(obj, name, dict)
    if raw is None:
        return None
    raw = {"type": obj.get("type"), **raw}
    return pb.Selection(anchor=_offset(raw, "anchor", maximum=MAX_UINT32), active=_offset(raw, "active", maximum=MAX_UINT32))


def _text_edits(obj: dict, name: str) -> list[pb.TextEdit]:
    raw = _field(obj, name, list, default=[])
    edits = []
    for item in raw:
        if not isinstance(item, dict):
            raise BridgeError("bad-field", f"{obj.get('type')!r}: every item of {name!r} must be an object")
        item = {"type": obj.get("type"), **item}
        edits.append(pb.TextEdit(start=_offset(item, "start", maximum=MAX_UINT32), end=_offset(item, "end", maximum=MAX_UINT32),
                                 text=_field(item, "text", str, default="")))
    return edits


def _enum(obj: dict, name: str, mapping: dict[str, int], *, required: bool = False) -> int | None:
    value = _field(obj, name, str, required=required)
    if value is None:
        return None
    if value not in mapping:
        raise BridgeError("bad-field", f"{obj.get('type')!r}: {name!r} must be one of {', '.join(mapping)}; got {value!r}")
    return mapping[value]


def _hello(obj: dict) -> pb.Hello:
    capabilities = _field(obj, "capabilities", list, default=[])
    if not all(isinstance(c, str) for c in capabilities):
        raise BridgeError("bad-field", "'hello': capabilities must be a list of strings")
    for capability in capabilities:
        _check_unicode(capability, "'hello': a capability")
    return pb.Hello(
        editor_name=_field(obj, "editor_name", str, required=True),
        editor_version=_field(obj, "editor_version", str, default=""),
        protocol_version=CONTRACT_PROTOCOL_VERSION,
        capabilities=capabilities,
        token=_field(obj, "token", str, default=""),
    )


def _open(obj: dict) -> pb.EditorMessage:
    message = pb.OpenDocument(
        document_id=_field(obj, "document_id", str, required=True),
        text=_field(obj, "text", str, required=True),
        version=_offset(obj, "version"),
        language_id=_field(obj, "language_id", str, default=""),
        path=_field(obj, "path", str, default=""),
    )
    selection = _selection(obj)
    if selection is not None:
        message.selection.CopyFrom(selection)
    return pb.EditorMessage(open=message)


def _update(obj: dict) -> pb.EditorMessage:
    message = pb.UpdateDocument(
        document_id=_field(obj, "document_id", str, required=True),
        version=_offset(obj, "version"),
        changes=_text_edits(obj, "changes"),
    )
    text = _field(obj, "text", str)
    if text is not None:
        if message.changes:
            raise BridgeError("bad-field", "'update': send either 'text' or 'changes', not both")
        message.text = text
    selection = _selection(obj)
    if selection is not None:
        message.selection.CopyFrom(selection)
    return pb.EditorMessage(update=message)


def _close(obj: dict) -> pb.EditorMessage:
    return pb.EditorMessage(close=pb.CloseDocument(document_id=_field(obj, "document_id", str, required=True)))


def _focus(obj: dict) -> pb.EditorMessage:
    return pb.EditorMessage(focus=pb.Focus(
        document_id=_field(obj, "document_id", str, default=""),
        focused=_field(obj, "focused", bool, default=True),
    ))


def _edit_result(obj: dict) -> pb.EditorMessage:
    outcome = _enum(obj, "outcome", _OUTCOMES, required=True)
    message = pb.EditResult(
        batch_id=_offset(obj, "batch_id"),
        document_id=_field(obj, "document_id", str, required=True),
        outcome=outcome,
        version=_offset(obj, "version"),
        error=_field(obj, "error", str, default=""),
    )
    text = _field(obj, "text", str)
    if text is not None:
        message.text = text
    elif outcome == pb.EditResult.STALE:
        raise BridgeError("bad-field", "'edit_result': a stale result must carry the current 'text'")
    selection = _selection(obj)
    if selection is not None:
        message.selection.CopyFrom(selection)
    return pb.EditorMessage(edit_result=message)


def _proposal_decision(obj: dict) -> pb.EditorMessage:
    return pb.EditorMessage(proposal_decision=pb.ProposalDecision(
        proposal_id=_offset(obj, "proposal_id"), accept=_field(obj, "accept", bool, required=True),
    ))


def _set_listening(obj: dict) -> pb.SetListeningRequest:
    request = pb.SetListeningRequest()
    state = _enum(obj, "state", _LISTEN_STATES)
    if state is not None:
        request.state = state
    mode = _enum(obj, "mode", _LISTEN_MODES)
    if mode is not None:
        request.mode = mode
    intent_mode = _enum(obj, "intent_mode", _INTENT_MODES)
    if intent_mode is not None:
        request.intent_mode = intent_mode
    key = _enum(obj, "key", _KEYS)
    if key is not None:
        request.key = key
    return request


# Messages that go onto the Connect stream, and requests answered by a unary RPC.
STREAM_DECODERS: dict[str, Callable[[dict], pb.EditorMessage]] = {
    "open": _open,
    "update": _update,
    "close": _close,
    "focus": _focus,
    "edit_result": _edit_result,
    "proposal_decision": _proposal_decision,
}
REQUEST_TYPES = ("hello", "get_status", "set_listening")


@dataclass(frozen=True)
class EditorLine:
    """One decoded line: its type, its optional request id, and the decoded JSON object."""

    type: str
    request_id: Any
    body: dict


def decode_line(line: bytes | str) -> EditorLine:
    """Parse and check one line's envelope (JSON object, ``v``, known ``type``); raises BridgeError."""
    try:
        obj = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BridgeError("malformed-json", f"the line is not valid JSON: {exc}") from None
    except RecursionError:
        raise BridgeError("malformed-json", "the line is not valid JSON: nested too deeply") from None
    except ValueError as exc:  # an integer of more than 4300 digits, say
        raise BridgeError("malformed-json", f"the line is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise BridgeError("malformed-json", f"each line must be a JSON object, got {type(obj).__name__}")
    request_id = obj.get("id")
    if request_id is not None and not _is_request_id(request_id):
        raise BridgeError("bad-field", "'id' must be a string or a finite number")
    version = obj.get("v")
    if type(version) is not int or version != BRIDGE_PROTOCOL_VERSION:
        shown = json.dumps(version, ensure_ascii=True)
        raise BridgeError("unsupported-version", f"this bridge speaks \"v\": {BRIDGE_PROTOCOL_VERSION}; the line has \"v\": "
                          f"{shown if len(shown) <= 40 else shown[:40] + '…'}", request_id)
    kind = obj.get("type")
    if not isinstance(kind, str):
        raise BridgeError("bad-field", "every message needs a string 'type'", request_id)
    if kind not in STREAM_DECODERS and kind not in REQUEST_TYPES:
        known = ", ".join([*REQUEST_TYPES, *STREAM_DECODERS])
        raise BridgeError("unknown-type", f"unknown message type {kind[:40]!r} (known: {known})", request_id)
    return EditorLine(type=kind, request_id=request_id, body=obj)


def _is_request_id(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        return True
    if isinstance(value, int):
        return abs(value) <= 2**53  # what every editor's JSON can hold exactly
    return isinstance(value, float) and math.isfinite(value)


# ---------------------------------------------------------------------------------------------------------
# Daemon → editor: encoding
# ---------------------------------------------------------------------------------------------------------


def _selection_json(message: Any, name: str) -> dict | None:
    if not message.HasField(name):
        return None
    selection = getattr(message, name)
    return {"anchor": selection.anchor, "active": selection.active}


def _edits_json(edits: Any) -> list[dict]:
    return [{"start": e.start, "end": e.end, "text": e.text} for e in edits]


def _transcript_json(t: pb.Transcript) -> dict:
    return {
        "type": "transcript", "utterance_id": t.utterance_id, "text": t.text, "final": t.final,
        "stable_prefix": t.stable_prefix, "language": t.language, "start_s": t.start_s, "end_s": t.end_s,
    }


def status_json(status: pb.Status) -> dict:
    """A Status snapshot as the bridge's ``status`` message."""
    return {
        "type": "status",
        "daemon_version": status.daemon_version,
        "state": _name_of(_LISTEN_STATES, status.state),
        "listen_mode": _name_of(_LISTEN_MODES, status.listen_mode),
        "intent_mode": _name_of(_INTENT_MODES, status.intent_mode),
        "focused_document_id": status.focused_document_id,
        "editors": [
            {"session_id": e.session_id, "editor_name": e.editor_name, "document_ids": list(e.document_ids),
             "focused_document_id": e.focused_document_id}
            for e in status.editors
        ],
        "components": [{"name": c.name, "state": c.state, "detail": c.detail} for c in status.components],
        "recent_transcripts": [_transcript_json(t) for t in status.recent_transcripts],
        "utterances": status.utterances,
        "listen_address": status.listen_address,
        "uptime_s": status.uptime_s,
    }


def encode_daemon_message(message: pb.DaemonMessage) -> dict:
    """One DaemonMessage as the bridge's JSON object (without ``v``, added when written)."""
    kind = message.WhichOneof("kind")
    if kind == "welcome":
        w = message.welcome
        return {"type": "welcome", "daemon_version": w.daemon_version, "protocol_version": w.protocol_version,
                "session_id": w.session_id, "capabilities": list(w.capabilities), "status": status_json(w.status)}
    if kind == "edit_batch":
        b = message.edit_batch
        return {"type": "edit_batch", "batch_id": b.batch_id, "document_id": b.document_id,
                "base_version": b.base_version, "edits": _edits_json(b.edits),
                "selection_after": _selection_json(b, "selection_after"), "undo_group": b.undo_group,
                "description": b.description, "expires_at_unix_ms": b.expires_at_unix_ms}
    if kind == "transcript":
        return _transcript_json(message.transcript)
    if kind == "notice":
        n = message.notice
        return {"type": "notice", "level": _NOTICE_LEVELS.get(n.level, "info"), "code": n.code,
                "message": n.message, "state": _name_of(_LISTEN_STATES, n.state), "document_id": n.document_id}
    if kind == "error":
        e = message.error
        return {"type": "daemon_error", "code": _ERROR_CODES.get(e.code, "unspecified"), "message": e.message,
                "document_id": e.document_id, "fatal": e.fatal}
    if kind == "proposal":
        p = message.proposal
        return {"type": "proposal", "proposal_id": p.proposal_id, "document_id": p.document_id,
                "base_version": p.base_version, "edits": _edits_json(p.edits), "description": p.description}
    return {"type": "error", "code": "unknown-daemon-message", "message": f"the daemon sent a message this bridge does not know ({kind})"}


# ---------------------------------------------------------------------------------------------------------
# The bridge itself
# ---------------------------------------------------------------------------------------------------------


class ConnectionState(enum.Enum):
    WAITING_FOR_HELLO = "waiting-for-hello"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    CLOSED = "closed"


class Bridge:
    """Pumps editor lines to the daemon and daemon messages to the editor.

    ``emit`` writes one JSON object to the editor (the bridge adds ``"v": 1``). The Connect stream runs in
    one named task (``pushkin-bridge-connect``) that reconnects with exponential backoff; editor lines are
    handled as they come by :meth:`handle_line`.
    """

    def __init__(self, options: BridgeOptions, emit: Callable[[dict], None]) -> None:
        self.options = options
        self._emit_raw = emit
        self.state = ConnectionState.WAITING_FOR_HELLO
        self._hello: pb.Hello | None = None
        self._outbox: asyncio.Queue[pb.EditorMessage | None] | None = None
        self._channel: grpc.aio.Channel | None = None
        self._connect_task: asyncio.Task | None = None
        self._request_tasks: set[asyncio.Task] = set()

    # -- output -------------------------------------------------------------------------------------
    def emit(self, obj: dict) -> None:
        self._emit_raw({"v": BRIDGE_PROTOCOL_VERSION, **obj})

    def _error(self, code: str, message: str, request_id: Any = None) -> None:
        obj: dict = {"type": "error", "code": code, "message": message}
        if request_id is not None:
            obj["id"] = request_id
        self.emit(obj)

    def _set_state(self, state: ConnectionState, message: str = "", retry_in_s: float | None = None) -> None:
        self.state = state
        obj: dict = {"type": "connection", "state": state.value, "address": self.options.address.uri, "message": message}
        if retry_in_s is not None:
            obj["retry_in_s"] = round(retry_in_s, 3)
        self.emit(obj)

    # -- input --------------------------------------------------------------------------------------
    def handle_line(self, line: bytes) -> None:
        """Decode one editor line and act on it; every problem becomes an ``error`` message."""
        if not line.strip():
            return
        request_id = None
        try:
            decoded = decode_line(line)
            request_id = decoded.request_id
            if decoded.type == "hello":
                self._on_hello(_hello(decoded.body))
            elif decoded.type == "get_status":
                self._start_request(self._get_status(request_id))
            elif decoded.type == "set_listening":
                self._start_request(self._set_listening(_set_listening(decoded.body), request_id))
            else:
                message = STREAM_DECODERS[decoded.type](decoded.body)
                self._send(message, decoded.type, request_id)
        except BridgeError as exc:
            self._error(exc.code, str(exc), request_id if exc.request_id is None else exc.request_id)
        except (ValueError, TypeError, OverflowError) as exc:  # the contract's own checks (protobuf ranges)
            self._error("bad-field", f"the message does not fit the contract: {exc}", request_id)
        except Exception as exc:  # never let one line end the bridge; the log keeps the trace for a bug report
            log.exception("bridge failed on a line")
            self._error("internal-error", f"the bridge could not handle this line ({type(exc).__name__}: {exc}); "
                        "it keeps serving", request_id)

    def _on_hello(self, hello: pb.Hello) -> None:
        first = self._hello is None
        self._hello = hello
        if first:
            self.state = ConnectionState.CONNECTING
            self._connect_task = asyncio.get_running_loop().create_task(self._connect_loop(), name="pushkin-bridge-connect")
        else:
            # A second hello (new capabilities, say) takes effect on a fresh stream.
            self._restart_stream()

    def _send(self, message: pb.EditorMessage, kind: str, request_id: Any) -> None:
        if self._hello is None:
            raise BridgeError("no-hello", f"send 'hello' before {kind!r}")
        if self.state is not ConnectionState.CONNECTED or self._outbox is None:
            # Document messages are re-sent by the editor after the next welcome; an edit result for a batch
            # of a dead stream means nothing to the next one. Say so once per message, without blocking.
            raise BridgeError("not-connected", f"{kind!r} dropped: not connected to the daemon ({self.state.value}); "
                              "documents are re-opened after the next 'welcome'")
        self._outbox.put_nowait(message)

    def _start_request(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._request_tasks.add(task)
        task.add_done_callback(self._request_tasks.discard)

    # -- unary requests -----------------------------------------------------------------------------
    def _metadata(self) -> tuple[tuple[str, str], ...]:
        return token_metadata(self.options.token)

    def _stub(self) -> pb_grpc.PushkinStub:
        if self._channel is None:
            self._channel = open_channel(self.options.address)
        return pb_grpc.PushkinStub(self._channel)

    async def _get_status(self, request_id: Any) -> None:
        await self._unary("get_status", lambda stub, **kw: stub.GetStatus(pb.GetStatusRequest(), **kw), request_id)

    async def _set_listening(self, request: pb.SetListeningRequest, request_id: Any) -> None:
        await self._unary("set_listening", lambda stub, **kw: stub.SetListening(request, **kw), request_id)

    async def _unary(self, name: str, call: Callable[..., Any], request_id: Any) -> None:
        """One unary request, answered by exactly one line: a ``status`` or an ``error``."""
        try:
            status = await call(self._stub(), timeout=self.options.request_timeout_s, metadata=self._metadata())
        except grpc.aio.AioRpcError as exc:
            self._error("not-connected", f"{name} failed: {_rpc_problem(exc, self.options.address)}", request_id)
            return
        except UntrustedDaemon as exc:
            self._error("untrusted-daemon", f"{name} refused: {exc}", request_id)
            return
        except asyncio.CancelledError:
            if self.state is ConnectionState.CLOSED:
                raise
            # The connect loop closed the channel under this call (it had never connected): still answer.
            self._error("not-connected", f"{name} failed: the connection to {self.options.address.uri} was reset; "
                        "ask again", request_id)
            return
        self.emit({**status_json(status), **({"id": request_id} if request_id is not None else {})})

    # -- the Connect stream -------------------------------------------------------------------------
    def _restart_stream(self) -> None:
        if self._outbox is not None:
            self._outbox.put_nowait(None)

    async def _connect_loop(self) -> None:
        delay = self.options.reconnect_initial_s
        while self.state is not ConnectionState.CLOSED:
            self._set_state(ConnectionState.CONNECTING)
            problem, welcomed = await self._run_stream()
            if self.state is ConnectionState.CLOSED:
                return
            if welcomed:
                delay = self.options.reconnect_initial_s
            self._set_state(ConnectionState.DISCONNECTED, problem, retry_in_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.options.reconnect_max_s)

    async def _run_stream(self) -> tuple[str, bool]:
        """One Connect stream, from Hello to its end; returns why it ended and whether it was welcomed."""
        assert self._hello is not None
        outbox: asyncio.Queue[pb.EditorMessage | None] = asyncio.Queue()
        outbox.put_nowait(pb.EditorMessage(hello=self._hello))
        welcomed = False

        async def requests():
            while True:
                message = await outbox.get()
                if message is None:
                    return
                yield message

        try:
            stub = self._stub()
        except UntrustedDaemon as exc:  # nothing was sent; retried, as the user may fix the folder
            return str(exc), False
        call = stub.Connect(requests(), metadata=self._metadata())
        try:
            async for message in call:
                kind = message.WhichOneof("kind")
                if kind == "welcome" and not welcomed:
                    welcomed = True
                    self._outbox = outbox
                    self.state = ConnectionState.CONNECTED
                    self._set_state(ConnectionState.CONNECTED, "connected")
                self.emit(encode_daemon_message(message))
                if kind == "error" and message.error.fatal:
                    return f"the daemon closed the stream: {message.error.message}", welcomed
            return "the daemon ended the stream", welcomed
        except grpc.aio.AioRpcError as exc:
            return _rpc_problem(exc, self.options.address), welcomed
        finally:
            if self._outbox is outbox:
                self._outbox = None
            outbox.put_nowait(None)
            call.cancel()
            if self._channel is not None and not welcomed:
                # A channel that never connected may hold a stale subchannel state; start fresh next time.
                await self._channel.close()
                self._channel = None

    async def close(self) -> None:
        """Stop the Connect task and close the channel (stdin reached its end)."""
        self.state = ConnectionState.CLOSED
        self._restart_stream()
        if self._connect_task is not None:
            self._connect_task.cancel()
            try:
                await self._connect_task
            except asyncio.CancelledError:
                pass
        for task in list(self._request_tasks):
            task.cancel()
        if self._channel is not None:
            await self._channel.close()
            self._channel = None


def _rpc_problem(exc: grpc.aio.AioRpcError, address: Address) -> str:
    if exc.code() == grpc.StatusCode.UNAVAILABLE:
        return unavailable_message(address, exc.details() or "")
    if exc.code() == grpc.StatusCode.UNAUTHENTICATED:
        return f"the daemon refused the token: {exc.details()}"
    return f"{exc.code().name}: {exc.details()}"


# ---------------------------------------------------------------------------------------------------------
# stdio
# ---------------------------------------------------------------------------------------------------------


def _stdout_writer() -> Callable[[dict], None]:
    out = sys.stdout.buffer

    def write(obj: dict) -> None:
        # ensure_ascii=False keeps Russian readable in logs; the stream is UTF-8 either way. A lone surrogate
        # (an echoed id, a quoted bad value) cannot be UTF-8: write that line with \u escapes instead.
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            data = json.dumps(obj, ensure_ascii=True, separators=(",", ":")).encode("ascii")
        out.write(data + b"\n")
        out.flush()

    return write


async def run_stdio(options: BridgeOptions) -> int:
    """Serve one editor on this process's stdin/stdout until stdin ends."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_LINE_BYTES, loop=loop)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader, loop=loop), sys.stdin)
    bridge = Bridge(options, _stdout_writer())
    try:
        while True:
            try:
                line = await reader.readline()
            except ValueError:
                # The line was longer than MAX_LINE_BYTES; StreamReader drops it, the next one is intact.
                bridge._error("too-large", f"a line was longer than {MAX_LINE_BYTES} bytes and was dropped")
                continue
            if not line:
                return 0
            bridge.handle_line(line)
    except BrokenPipeError:
        return 0
    finally:
        await bridge.close()
