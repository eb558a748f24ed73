"""`pushkin bridge --stdio`: newline-delimited JSON on stdin/stdout ⇄ the daemon's gRPC Connect stream.

Editors without a gRPC library (Neovim's Lua, Vim, Emacs, Kakoune) spawn this process and speak one JSON
object per line. The protocol is versioned (``"v": 1``) and documented message by message in
``clients/BRIDGE.md``.

The JSON is not a contract of its own: each line is one of the contract's dataclasses
(:mod:`pushkin.proto.types`) written by one generic mapping (:func:`to_json`, :func:`from_json`): a JSON
object has the dataclass's fields, an enum is its ``value`` ("no-audio"), an absent enum is ``""``, an
absent message is ``null``. Message types are the oneof names of the contract's envelopes, except those in
:data:`JSON_TYPE_ALIASES`. Reading checks every field against the dataclass's annotation and the protobuf
field's integer width, so each bad line gets exactly one ``error`` line. The connection itself is an
:class:`~pushkin.clients.editor.EditorClient` that forwards batches instead of applying them.

The editor is the source of truth for its documents: after every (re)connect the bridge emits ``welcome``
and the editor re-sends ``open`` for each document it wants tracked. While the daemon is away, document
messages are dropped (the next ``welcome`` asks for them again) and requests that need an answer get an
``error`` with code ``not-connected``; nothing blocks and nothing is buffered without bound.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import json
import logging
import math
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.descriptor import FieldDescriptor

from pushkin.proto import convert
from pushkin.proto import types as t
from pushkin.proto.endpoint import Address
from pushkin.proto.retry import ReconnectPolicy

from .connection import DaemonUnavailable, UntrustedDaemon
from .daemon_client import DaemonCallError, DaemonClient
from .editor import ConnectFailed, Connecting, Disconnected, EditorClient

log = logging.getLogger(__name__)

BRIDGE_PROTOCOL_VERSION = 1
# A document can be large; one JSON line carries a whole text.
MAX_LINE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class BridgeOptions:
    """How the bridge reaches the daemon and how it retries."""

    address: Address  # resolved with pushkin.clients.connection.resolve_address (the daemon's defaults)
    token: str | None = None  # sent as x-pushkin-token metadata (TCP listeners only)
    reconnect_initial_s: float = 0.05
    reconnect_max_s: float = 2.0
    request_timeout_s: float = 5.0

    @property
    def reconnect(self) -> ReconnectPolicy:
        return ReconnectPolicy(first_delay_s=self.reconnect_initial_s, max_delay_s=self.reconnect_max_s)


class BridgeError(ValueError):
    """A line from the editor that the bridge cannot turn into a message; ``code`` is the JSON code."""

    def __init__(self, code: str, message: str, request_id: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.request_id = request_id  # set when the line's envelope was bad but its id was readable


# ---------------------------------------------------------------------------------------------------------
# Message types: the envelopes' oneof names, renamed only where the JSON protocol says otherwise.
# ---------------------------------------------------------------------------------------------------------

JSON_TYPE_ALIASES = {"error": "daemon_error"}  # the bridge's own errors are "error"
# Dataclass -> the "type" it carries wherever it is written (a status inside a welcome too).
JSON_TYPES: dict[type, str] = {
    **{cls: JSON_TYPE_ALIASES.get(name, name) for name, cls in convert.DAEMON_MESSAGE_KINDS.items()},
    t.DaemonStatus: "status",
}
# Editor messages that go onto the Connect stream, and requests answered by a unary RPC.
STREAM_TYPES: dict[str, type] = {name: cls for name, cls in convert.EDITOR_MESSAGE_KINDS.items() if cls is not t.Hello}
REQUEST_TYPES = ("hello", "get_status", "set_listening")
# Fields the bridge fills in itself, whatever the line says.
BRIDGE_FILLS: dict[type, frozenset[str]] = {t.Hello: frozenset({"protocol_version"})}


# ---------------------------------------------------------------------------------------------------------
# Dataclass -> JSON
# ---------------------------------------------------------------------------------------------------------


def to_json(value: Any) -> Any:
    """A contract value as JSON: dataclasses as objects (with ``type`` where it has one), enums by value."""
    if dataclasses.is_dataclass(value):
        obj: dict[str, Any] = {"type": JSON_TYPES[type(value)]} if type(value) in JSON_TYPES else {}
        for shape in convert.shapes(type(value)):
            item = getattr(value, shape.name)
            obj[shape.name] = "" if item is None and shape.is_enum else to_json(item)
        return obj
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [to_json(item) for item in value]
    if isinstance(value, Mapping):
        return {key: to_json(item) for key, item in value.items()}
    return value


# ---------------------------------------------------------------------------------------------------------
# JSON -> dataclass, with every check a line can fail
# ---------------------------------------------------------------------------------------------------------

_INTEGER_RANGES = {
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
}
_KIND_NAMES = {int: "an integer", str: "a string", bool: "a boolean", float: "a number", list: "a list",
               dict: "an object"}


def from_json(cls: type, obj: dict, where: str) -> Any:
    """The dataclass ``cls`` from a JSON object; ``where`` (the line's type, quoted) starts every error."""
    descriptors = convert.MESSAGES[cls].DESCRIPTOR.fields_by_name
    values = {}
    for shape in convert.shapes(cls):
        if shape.name in BRIDGE_FILLS.get(cls, ()):
            continue
        raw = obj.get(shape.name)
        if raw is None:
            if shape.required:
                raise BridgeError("bad-field", f"{where}: the field {shape.name!r} is required")
            continue
        label = f"{where}: the field {shape.name!r}"
        if shape.repeated:
            _expect(raw, list, label)
            values[shape.name] = tuple(_value(shape.item, descriptors[shape.name], item, where,
                                              f"{where}: every item of {shape.name!r}") for item in raw)
        else:
            values[shape.name] = _value(shape.item, descriptors[shape.name], raw, where, label)
    return cls(**values)


def _value(kind: Any, descriptor: FieldDescriptor, raw: Any, where: str, label: str) -> Any:
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return from_json(kind, _expect(raw, dict, label), where)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        name = _expect(raw, str, label)
        # An enum's unset (0) value is the daemon's to say ("unanswered"), never an editor's.
        allowed = [member.value for member in kind if convert.enum_number(descriptor, member)]
        if name not in allowed:
            raise BridgeError("bad-field", f"{label} must be one of {', '.join(allowed)}; got {name!r}")
        return kind(name)
    value = _expect(raw, kind, label)
    if kind is int:
        low, high = _INTEGER_RANGES[descriptor.type]
        if value < low:
            raise BridgeError("bad-field", f"{label} must not be negative ({value})" if low == 0 else
                              f"{label} is too small ({value} < {low})")
        if value > high:
            raise BridgeError("bad-field", f"{label} is too large ({value} > {high})")
    return value


def _expect(value: Any, kind: type, label: str) -> Any:
    """``value`` if it is JSON of ``kind`` (and, for text, valid Unicode); else a bad-field BridgeError."""
    # JSON has one number type; bool is an int subclass in Python and must not pass for a number.
    if isinstance(value, bool) and kind is not bool:
        raise BridgeError("bad-field", f"{label} must be {_KIND_NAMES[kind]}, not a boolean")
    finite_number = isinstance(value, (int, float)) and math.isfinite(value)
    if not (finite_number if kind is float else isinstance(value, kind)):
        raise BridgeError("bad-field", f"{label} must be {_KIND_NAMES[kind]}, got {type(value).__name__}")
    if isinstance(value, str):
        _check_unicode(value, label)
    return value


def _check_unicode(text: str, what: str) -> None:
    """JSON lets a line carry a lone surrogate ("\\ud83d"); no document can hold one: refuse it by name."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BridgeError("bad-field", f"{what} is not valid Unicode: a lone surrogate U+{ord(text[exc.start]):04X} "
                          f"at position {exc.start} (JSON escapes \\ud800-\\udfff must come in pairs)") from None


def decode_message(kind: str, body: dict) -> Any:
    """The contract value one editor line describes (``kind`` from :func:`decode_line`); raises BridgeError.
    The checks after the generic ones are the two the contract states in words."""
    where = repr(kind)
    if kind == "hello":
        return from_json(t.Hello, body, where)
    if kind == "set_listening":
        return from_json(t.SetListening, body, where)
    value = from_json(STREAM_TYPES[kind], body, where)
    if isinstance(value, t.UpdateDocument) and value.text is not None and value.changes:
        raise BridgeError("bad-field", "'update': send either 'text' or 'changes', not both")
    if isinstance(value, t.EditResult) and value.outcome is t.EditOutcome.STALE and value.text is None:
        raise BridgeError("bad-field", "'edit_result': a stale result must carry the current 'text'")
    return value


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
    if kind not in STREAM_TYPES and kind not in REQUEST_TYPES:
        known = ", ".join([*REQUEST_TYPES, *STREAM_TYPES])
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

    ``emit`` writes one JSON object to the editor (the bridge adds ``"v": 1``). The first ``hello`` starts
    an :class:`EditorClient` that keeps (re)connecting with the options' backoff; its events become
    ``connection`` lines and daemon messages. Editor lines are handled in order by :meth:`handle_line`.
    """

    def __init__(self, options: BridgeOptions, emit: Callable[[dict], None]) -> None:
        self.options = options
        self._emit_raw = emit
        self.state = ConnectionState.WAITING_FOR_HELLO
        self._client: EditorClient | None = None
        self._request_tasks: set[asyncio.Task] = set()

    # -- output -------------------------------------------------------------------------------------
    def emit(self, obj: dict) -> None:
        self._emit_raw({"v": BRIDGE_PROTOCOL_VERSION, **obj})

    def error(self, code: str, message: str, request_id: Any = None) -> None:
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

    def _on_client_event(self, event: Any) -> None:
        if isinstance(event, Connecting):
            self._set_state(ConnectionState.CONNECTING)
        elif isinstance(event, (ConnectFailed, Disconnected)):
            self._set_state(ConnectionState.DISCONNECTED, event.reason, retry_in_s=event.retry_in_s)
        elif type(event) in JSON_TYPES:
            if isinstance(event, t.Welcome):
                self._set_state(ConnectionState.CONNECTED, "connected")
            self.emit(to_json(event))

    # -- input --------------------------------------------------------------------------------------
    async def handle_line(self, line: bytes) -> None:
        """Decode one editor line and act on it; every problem becomes an ``error`` message."""
        if not line.strip():
            return
        request_id = None
        try:
            decoded = decode_line(line)
            request_id = decoded.request_id
            if decoded.type == "get_status":
                self._start_request("get_status", lambda daemon: daemon.status(timeout_s=self.options.request_timeout_s),
                                    request_id)
                return
            message = decode_message(decoded.type, decoded.body)
            if isinstance(message, t.Hello):
                await self._on_hello(message)
            elif isinstance(message, t.SetListening):
                self._start_request("set_listening", lambda daemon: daemon.change_listening(
                    message, timeout_s=self.options.request_timeout_s), request_id)
            else:
                await self._send(message, decoded.type)
        except BridgeError as exc:
            self.error(exc.code, str(exc), request_id if exc.request_id is None else exc.request_id)
        except (ValueError, TypeError, OverflowError) as exc:  # the contract's own checks (protobuf ranges)
            self.error("bad-field", f"the message does not fit the contract: {exc}", request_id)
        except Exception as exc:  # never let one line end the bridge; the log keeps the trace for a bug report
            log.exception("bridge failed on a line")
            self.error("internal-error", f"the bridge could not handle this line ({type(exc).__name__}: {exc}); "
                       "it keeps serving", request_id)

    async def _on_hello(self, hello: t.Hello) -> None:
        if self._client is not None:
            # A second hello (new capabilities, say) takes effect on a fresh stream.
            await self._client.restart(hello)
            return
        self.state = ConnectionState.CONNECTING
        self._client = EditorClient(self.options.address, token=self.options.token, on_event=self._on_client_event,
                                    reconnect=self.options.reconnect, forward_batches=True)
        self._client.hello = hello
        self._client.start_retrying()

    async def _send(self, event: Any, kind: str) -> None:
        if self._client is None:
            raise BridgeError("no-hello", f"send 'hello' before {kind!r}")
        # Document messages are re-sent by the editor after the next welcome; an edit result for a batch of a
        # dead stream means nothing to the next one. Say so once per message, without blocking.
        if self.state is not ConnectionState.CONNECTED or not await self._client.send(event):
            raise BridgeError("not-connected", f"{kind!r} dropped: not connected to the daemon ({self.state.value}); "
                              "documents are re-opened after the next 'welcome'")

    # -- unary requests -----------------------------------------------------------------------------
    def _start_request(self, name: str, call: Callable[[DaemonClient], Awaitable[t.DaemonStatus]],
                       request_id: Any) -> None:
        task = asyncio.get_running_loop().create_task(self._unary(name, call, request_id))
        self._request_tasks.add(task)
        task.add_done_callback(self._request_tasks.discard)

    async def _unary(self, name: str, call: Callable[[DaemonClient], Awaitable[t.DaemonStatus]],
                     request_id: Any) -> None:
        """One unary request, answered by exactly one line: a ``status`` or an ``error``. It rides the Connect
        stream's channel when there is one (a fresh channel may still be backing off from a dead daemon)."""
        shared = self._client.channel if self._client is not None else None
        try:
            daemon = DaemonClient(self.options.address, token=self.options.token, channel=shared)
        except UntrustedDaemon as exc:
            self.error("untrusted-daemon", f"{name} refused: {exc}", request_id)
            return
        try:
            status = await call(daemon)
        except DaemonUnavailable as exc:
            self.error("not-connected", f"{name} failed: {exc}", request_id)
            return
        except DaemonCallError as exc:
            problem = (f"the daemon refused the token: {exc.details}" if exc.code == grpc.StatusCode.UNAUTHENTICATED
                       else str(exc))
            self.error("not-connected", f"{name} failed: {problem}", request_id)
            return
        except asyncio.CancelledError:
            if self.state is ConnectionState.CLOSED:
                raise
            # The client closed the channel under this call (the stream ended): still answer.
            self.error("not-connected", f"{name} failed: the connection to {self.options.address.uri} was reset; "
                       "ask again", request_id)
            return
        finally:
            await daemon.close()
        self.emit({**to_json(status), **({"id": request_id} if request_id is not None else {})})

    async def close(self) -> None:
        """Stop the connection and the requests in flight (stdin reached its end)."""
        self.state = ConnectionState.CLOSED
        if self._client is not None:
            await self._client.close(wait_s=0)  # the editor is gone: nobody reads what the daemon still sends
        for task in list(self._request_tasks):
            task.cancel()


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
                bridge.error("too-large", f"a line was longer than {MAX_LINE_BYTES} bytes and was dropped")
                continue
            if not line:
                return 0
            await bridge.handle_line(line)
    except BrokenPipeError:
        return 0
    finally:
        await bridge.close()
