"""An editor's connection to the daemon: the Connect stream, its documents, and reconnecting.

    client = EditorClient(editor_name="my-editor")
    await client.start()                       # connects (raises DaemonUnavailable if it cannot)
    buffer = EditorBuffer("notes.md", text="Hello", version=1)
    await client.open(buffer)                  # OpenDocument, then Focus
    ...                                        # pushed batches are applied to `buffer` and answered
    await client.update(buffer.type_edits([TextEdit(5, 5, "!")]))   # the user typed
    await client.close()

Batches the daemon pushes are applied by ``apply`` (default :meth:`EditorBuffer.apply_batch`; the CLI
passes one that also writes the file) and answered with its EditResult. Every other message (notices,
errors, transcripts) and every handled batch is passed to ``on_event``. When the stream breaks, the
client reconnects with exponential backoff (:class:`ReconnectPolicy`) and re-opens its documents with
their current text and versions, then restores the focus.

An editor that applies batches itself behind a relay (the JSON bridge) passes ``forward_batches=True``:
batches then go to ``on_event`` like every other message and are answered with :meth:`EditorClient.send`.
It starts with :meth:`EditorClient.start_retrying`, which keeps trying from the first attempt and reports
each step as an event (:class:`Connecting`, the daemon's Welcome, :class:`ConnectFailed`, :class:`Disconnected`).
"""

from __future__ import annotations

import asyncio
import enum
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc

from pushkin.proto import convert
from pushkin.proto.endpoint import Address
from pushkin.proto.retry import ReconnectPolicy
from pushkin.proto.types import (
    CloseDocument,
    DaemonEvent,
    EditBatch,
    EditorEvent,
    EditOutcome,
    EditResult,
    Focus,
    Hello,
    ProtocolError,
    UpdateDocument,
    Welcome,
)
from pushkin.proto.v1 import pushkin_pb2_grpc as pb_grpc

from .buffer import EditorBuffer
from .connection import (
    DaemonUnavailable,
    open_channel,
    resolve_address,
    resolve_token,
    token_metadata,
    unavailable_message,
)

log = logging.getLogger(__name__)


class ClientState(enum.Enum):
    IDLE = "idle"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


@dataclass(frozen=True)
class BatchHandled:
    """An edit batch the client received and how it answered (passed to ``on_event``)."""

    batch: EditBatch
    result: EditResult


@dataclass(frozen=True)
class Connecting:
    """An attempt to connect begins (passed to ``on_event``)."""


@dataclass(frozen=True)
class ConnectFailed:
    """An attempt to connect failed (passed to ``on_event``); the next comes in ``retry_in_s`` (None: never)."""

    reason: str
    retry_in_s: float | None = None


@dataclass(frozen=True)
class Disconnected:
    """The stream ended (passed to ``on_event``); ``reason`` says why, ``retry_in_s`` when the client will try
    again (None: it will not)."""

    reason: str
    retry_in_s: float | None = None


ApplyFn = Callable[[EditorBuffer, EditBatch], "EditResult | Awaitable[EditResult]"]
EventFn = Callable[[Any], "None | Awaitable[None]"]


class EditorClient:
    """One editor's Connect stream. See the module docstring for the life cycle."""

    def __init__(self, address: Address | str | None = None, *, token: str | None = None, token_file: str | None = None,
                 editor_name: str = "python", editor_version: str = "", capabilities: tuple[str, ...] = (),
                 apply: ApplyFn | None = None, on_event: EventFn | None = None,
                 reconnect: ReconnectPolicy = ReconnectPolicy(), connect_timeout_s: float = 5.0,
                 forward_batches: bool = False):
        self.address = resolve_address(address)
        self.token = resolve_token(self.address, token, token_file)
        self.hello = Hello(editor_name, editor_version, 1, tuple(capabilities))
        self.buffers: dict[str, EditorBuffer] = {}
        self.focused_document_id = ""
        self.welcome: Welcome | None = None
        self.state = ClientState.IDLE
        self._apply = apply or (lambda buffer, batch: buffer.apply_batch(batch))
        self._on_event = on_event
        self._forward_batches = forward_batches
        self._reconnect = reconnect
        self._connect_timeout_s = connect_timeout_s
        self._channel: grpc.aio.Channel | None = None
        self._call: grpc.aio.StreamStreamCall | None = None
        self._write_lock = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self._connected = asyncio.Event()

    # ---- life cycle -----------------------------------------------------------------------------

    async def start(self) -> Welcome:
        """Connect and start receiving (a named task, ``editor-client``); raises DaemonUnavailable."""
        welcome = await self._connect()
        self._task = asyncio.create_task(self._run(connected=True), name=f"editor-client:{self.hello.editor_name}")
        return welcome

    def start_retrying(self) -> None:
        """Connect in the background, retrying as the policy says from the first attempt; never raises."""
        self._task = asyncio.create_task(self._run(connected=False), name=f"editor-client:{self.hello.editor_name}")

    async def restart(self, hello: Hello) -> None:
        """Say ``hello`` on a fresh stream: the current one is half-closed, and the next connection uses it."""
        self.hello = hello
        if self._call is not None and self.state is ClientState.CONNECTED:
            try:
                async with self._write_lock:
                    await self._call.done_writing()
            except Exception:  # already gone: the reconnect is under way anyway
                pass

    @property
    def channel(self) -> grpc.aio.Channel | None:
        """The channel of the current connection (None between connections), for unary calls beside it."""
        return self._channel if self.state is ClientState.CONNECTED else None

    async def close(self, *, wait_s: float = 1.0) -> None:
        """Half-close the stream and give the daemon up to ``wait_s`` to end it (0: just cancel it), then stop
        receiving and close the channel."""
        if self.state is ClientState.CLOSED:
            return
        self.state = ClientState.CLOSED
        graceful = wait_s > 0 and self._connected.is_set()  # a retry loop has nothing to finish
        if graceful and self._call is not None:
            try:
                async with self._write_lock:
                    await self._call.done_writing()
            except Exception:  # already gone
                pass
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), wait_s if graceful else 0)
            except (TimeoutError, Exception):
                self._task.cancel()
        await self._close_channel()

    async def wait_connected(self, timeout_s: float = 10.0) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout_s)

    async def _close_channel(self) -> None:
        if self._call is not None:
            self._call.cancel()
            self._call = None
        if self._channel is not None:
            await self._channel.close()
            self._channel = None

    async def _connect(self) -> Welcome:
        self.state = ClientState.CONNECTING if self.state is ClientState.IDLE else self.state
        self._channel = open_channel(self.address)
        stub = pb_grpc.PushkinStub(self._channel)
        call = self._call = stub.Connect(metadata=token_metadata(self.token) or None)
        try:
            await self._write(self.hello)
            first = await asyncio.wait_for(call.read(), self._connect_timeout_s)
        except (TimeoutError, grpc.aio.AioRpcError) as error:
            await self._close_channel()
            detail = error.details() if isinstance(error, grpc.aio.AioRpcError) else "timed out"
            raise DaemonUnavailable(unavailable_message(self.address, detail)) from None
        if first is grpc.aio.EOF:
            await self._close_channel()
            raise DaemonUnavailable(unavailable_message(self.address, "the stream ended before Welcome"))
        try:
            event = convert.daemon_event_from_pb(first)
        except convert.ConversionError as error:
            await self._close_channel()
            raise DaemonUnavailable(f"the daemon at {self.address.uri} answered with no message ({error})") from None
        if isinstance(event, ProtocolError):
            await self._close_channel()
            raise DaemonUnavailable(f"the daemon at {self.address.uri} refused the connection: {event.message}")
        if not isinstance(event, Welcome):
            await self._close_channel()
            raise DaemonUnavailable(f"the daemon at {self.address.uri} answered {type(event).__name__}, not Welcome")
        self.welcome = event
        # Re-open what this editor had open (after a reconnect), then restore the focus.
        try:
            for buffer in self.buffers.values():
                await self._write(buffer.open_message())
            if self.focused_document_id:
                await self._write(Focus(self.focused_document_id, True))
        except grpc.aio.AioRpcError as error:
            await self._close_channel()
            raise DaemonUnavailable(unavailable_message(self.address, error.details())) from None
        self.state = ClientState.CONNECTED
        self._connected.set()
        await self._emit(event)
        return event

    async def _run(self, *, connected: bool) -> None:
        """Receive while connected; when the stream ends or an attempt fails, wait as the policy says and retry."""
        attempt = 0
        while self.state is not ClientState.CLOSED:
            if not connected:
                await self._emit(Connecting())
                try:
                    await self._connect()
                    connected, attempt = True, 0
                    log.info("connected to %s", self.address.uri)
                except DaemonUnavailable as error:
                    reason = str(error)
                    log.info("connect attempt %d failed: %s", attempt, error)
            if connected:
                reason = await self._receive()
                if self.state is ClientState.CLOSED:
                    break
                self._connected.clear()
                await self._close_channel()
            delay = None if self._reconnect.gives_up(attempt) else self._reconnect.delay(attempt)
            await self._emit(Disconnected(reason, delay) if connected else ConnectFailed(reason, delay))
            if delay is None:  # the policy gave up
                self.state = ClientState.CLOSED
                break
            self.state = ClientState.RECONNECTING
            await asyncio.sleep(delay)
            connected, attempt = False, attempt + 1

    async def _receive(self) -> str:
        """Handle messages until the stream ends; returns why it ended."""
        call = self._call
        if call is None:  # closed before receiving began
            return "the stream was closed"
        try:
            while True:
                message = await call.read()
                if message is grpc.aio.EOF:
                    return "the daemon closed the stream"
                try:
                    event = convert.daemon_event_from_pb(message)
                except convert.ConversionError as error:
                    log.warning("ignoring a message from the daemon: %s", error)
                    continue
                if isinstance(event, EditBatch) and not self._forward_batches:
                    await self._handle_batch(event)
                else:
                    await self._emit(event)
                if isinstance(event, ProtocolError) and event.fatal:
                    return f"the daemon closed the stream: {event.message}"
        except grpc.aio.AioRpcError as error:
            return f"{error.code().name}: {error.details()}"
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a failing hook must not kill the connection silently
            log.exception("the editor client failed")
            return f"client error: {error}"

    async def _handle_batch(self, batch: EditBatch) -> None:
        buffer = self.buffers.get(batch.document_id)
        if buffer is None:
            result = EditResult(batch.batch_id, batch.document_id, EditOutcome.FAILED, 0,
                                error=f"document {batch.document_id!r} is not open in this editor")
        elif batch.expired(int(time.time() * 1000)):
            # The daemon has already told the user the edit timed out: applying it now would surprise them.
            result = EditResult(batch.batch_id, batch.document_id, EditOutcome.EXPIRED, buffer.version,
                                selection=buffer.selection, error="the batch expired before the editor could apply it")
        else:
            applied = self._apply(buffer, batch)
            result = await applied if inspect.isawaitable(applied) else applied
        await self._write(result)
        await self._emit(BatchHandled(batch, result))

    async def _emit(self, event: DaemonEvent | BatchHandled | Connecting | ConnectFailed | Disconnected) -> None:
        if self._on_event is not None:
            outcome = self._on_event(event)
            if inspect.isawaitable(outcome):
                await outcome

    async def _write(self, event: EditorEvent) -> None:
        async with self._write_lock:
            if self._call is None:
                raise DaemonUnavailable(unavailable_message(self.address, "not connected"))
            await self._call.write(convert.editor_event_to_pb(event))

    async def send(self, event: EditorEvent) -> bool:
        """Send a message; False (and nothing raised) when the stream is down: a reconnect re-opens documents
        with their current text, so nothing the user typed is lost."""
        try:
            await self._write(event)
            return True
        except (grpc.aio.AioRpcError, DaemonUnavailable, asyncio.InvalidStateError) as error:
            log.info("not sent (%s): %s", type(event).__name__, error)
            return False

    # ---- documents ------------------------------------------------------------------------------

    async def open(self, buffer: EditorBuffer, *, focus: bool = True) -> None:
        """Start tracking ``buffer``: OpenDocument, and Focus unless ``focus`` is false."""
        self.buffers[buffer.document_id] = buffer
        await self.send(buffer.open_message())
        if focus:
            await self.focus(buffer.document_id)

    async def update(self, update: UpdateDocument) -> None:
        """Report a change the user made (from :meth:`EditorBuffer.type_edits` or ``replace_all``)."""
        await self.send(update)

    async def focus(self, document_id: str, focused: bool = True) -> None:
        self.focused_document_id = document_id if focused else ""
        await self.send(Focus(document_id, focused))

    async def close_document(self, document_id: str) -> None:
        self.buffers.pop(document_id, None)
        if self.focused_document_id == document_id:
            self.focused_document_id = ""
        await self.send(CloseDocument(document_id))
