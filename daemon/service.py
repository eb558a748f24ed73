"""The gRPC edge: the Pushkin service, converting protobuf to dataclasses and back, and nothing else.

Every RPC checks the token (TCP listeners), turns the wire messages into :mod:`pushkin.proto.types`
values through :mod:`pushkin.proto.convert`, and hands them to :class:`DaemonCore`. A misbehaving client
gets an Error message or a gRPC status; its failure never reaches the other clients.
"""

from __future__ import annotations

import asyncio
import enum
import hmac
import logging
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import NoReturn, Protocol

import grpc

from pushkin.proto import convert
from pushkin.proto.endpoint import TOKEN_METADATA_KEY
from pushkin.proto.types import (
    ErrorCode,
    Hello,
    ListenState,
    ProtocolError,
    Welcome,
)
from pushkin.proto.v1 import pushkin_pb2 as pb
from pushkin.proto.v1 import pushkin_pb2_grpc as pb_grpc

from .core import DAEMON_VERSION, PROTOCOL_VERSION, BadTimeout, DaemonCore, TooManyEditors
from .hearing.sources import BadAudioFormat, check_audio_start, check_pcm_chunk
from .listener import Listener
from .planning import Utterance
from .sessions import CLOSE, EditorSession

log = logging.getLogger(__name__)


class ReaderState(enum.Enum):
    READING = "reading"
    ENDED = "ended"  # the client half-closed
    FAILED = "failed"  # the stream broke or sent something undecodable


@dataclass(frozen=True)
class Undecodable:
    """What a call receives instead of a request message whose bytes are not that message (bad protobuf,
    invalid UTF-8 in a string field). gRPC would otherwise end the call with UNKNOWN (a unary call, plus a
    traceback in the log) or end a stream silently; the service answers it like any other bad input."""

    message_type: str
    problem: str

    def describe(self) -> str:
        return f"the message could not be decoded as a {self.message_type}: {self.problem}"


def tolerant_decoder(message_class):
    """A request deserializer that returns :class:`Undecodable` rather than raising."""
    name = message_class.DESCRIPTOR.name

    def decode(data: bytes):
        try:
            return message_class.FromString(data)
        except Exception as error:  # DecodeError, or anything else the parser raises on hostile bytes
            return Undecodable(name, str(error) or type(error).__name__)

    return decode


def add_to_server(service: PushkinService, server) -> None:
    """Register the Pushkin service with decoders that never raise (see :class:`Undecodable`); the methods,
    their streaming kinds and message types come from the contract's descriptor."""
    descriptor = pb.DESCRIPTOR.services_by_name["Pushkin"]
    handlers = {}
    for method in descriptor.methods:
        request_class = getattr(pb, method.input_type.name)
        response_class = getattr(pb, method.output_type.name)
        make = {(False, False): grpc.unary_unary_rpc_method_handler,
                (False, True): grpc.unary_stream_rpc_method_handler,
                (True, False): grpc.stream_unary_rpc_method_handler,
                (True, True): grpc.stream_stream_rpc_method_handler}[(method.client_streaming, method.server_streaming)]
        handlers[method.name] = make(getattr(service, method.name), request_deserializer=tolerant_decoder(request_class),
                                     response_serializer=response_class.SerializeToString)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(descriptor.full_name, handlers),))


def token_matches(token: str | None, metadata, offered: str = "") -> bool:
    """Whether a call may proceed: no token is required (Unix socket), or the call's metadata (or
    ``offered``, Hello.token) carries it."""
    if token is None:
        return True
    for key, value in metadata or ():
        if key == TOKEN_METADATA_KEY and isinstance(value, str):
            if hmac.compare_digest(value.encode(), token.encode()):
                return True
    return bool(offered) and hmac.compare_digest(offered.encode(), token.encode())


TOKEN_REQUIRED = (f"a valid token is required: send the contents of the daemon's token file as the "
                  f"{TOKEN_METADATA_KEY!r} metadata entry")


class TokenGate(grpc.aio.ServerInterceptor):
    """Over TCP, every service but Pushkin (health, reflection) needs the token in its metadata. Pushkin's
    own methods check it themselves, because Connect also accepts Hello.token."""

    def __init__(self, token: str, own_service: str):
        self.token = token
        self.own_prefix = f"/{own_service}/"

    async def intercept_service(self, continuation, details):
        handler = await continuation(details)
        if handler is None or details.method.startswith(self.own_prefix) or \
                token_matches(self.token, details.invocation_metadata):
            return handler
        log.info("refused %s without a valid token", details.method)

        async def refuse(request, context):
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, TOKEN_REQUIRED)

        make = {(False, False): grpc.unary_unary_rpc_method_handler,
                (False, True): grpc.unary_stream_rpc_method_handler,
                (True, False): grpc.stream_unary_rpc_method_handler,
                (True, True): grpc.stream_stream_rpc_method_handler}[(handler.request_streaming,
                                                                      handler.response_streaming)]
        return make(refuse)


class PushkinService(pb_grpc.PushkinServicer):
    def __init__(self, core: DaemonCore, listener: Listener | None, token: str | None):
        self.core = core
        self.listener = listener  # the daemon's ears, through which StreamAudio hears; None: no front end
        self.token = token  # None: no token required (Unix socket)

    # ---- auth -----------------------------------------------------------------------------------

    def _token_ok(self, context, offered: str = "") -> bool:
        return token_matches(self.token, context.invocation_metadata(), offered)

    async def _require_token(self, context) -> None:
        if not self._token_ok(context):
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, TOKEN_REQUIRED)

    async def _require_decoded(self, request, context) -> None:
        if isinstance(request, Undecodable):
            log.info("refused an undecodable request: %s", request.problem)
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, request.describe())

    # ---- Connect --------------------------------------------------------------------------------

    async def Connect(self, request_iterator, context) -> AsyncIterator[pb.DaemonMessage]:
        messages = request_iterator.__aiter__()
        try:
            first = await asyncio.wait_for(messages.__anext__(), self.core.settings.server.hello_timeout_s)
        except StopAsyncIteration:
            return
        except TimeoutError:
            yield _fatal(ErrorCode.BAD_MESSAGE, "no Hello within "
                         f"{self.core.settings.server.hello_timeout_s:g} s; the first message must be Hello")
            return
        except Exception as error:  # the stream broke before its first message
            yield _fatal(ErrorCode.BAD_MESSAGE, f"the first message could not be read: {error}")
            return
        if isinstance(first, Undecodable):
            yield _fatal(ErrorCode.BAD_MESSAGE, f"{first.describe()}; the first message must be Hello")
            return
        try:
            hello = convert.editor_event_from_pb(first)
        except convert.ConversionError as error:
            yield _fatal(ErrorCode.BAD_MESSAGE, f"{error}; the first message must be Hello")
            return
        if not isinstance(hello, Hello):
            yield _fatal(ErrorCode.BAD_MESSAGE, f"the first message must be Hello, not {type(hello).__name__}")
            return
        if hello.protocol_version != PROTOCOL_VERSION:
            yield _fatal(ErrorCode.UNSUPPORTED_VERSION, f"this daemon speaks protocol version {PROTOCOL_VERSION}; "
                         f"the editor asked for {hello.protocol_version}")
            return
        if not self._token_ok(context, hello.token):
            yield _fatal(ErrorCode.UNAUTHENTICATED, "wrong or missing token: send the daemon's token file contents "
                         f"as {TOKEN_METADATA_KEY!r} metadata or Hello.token")
            return
        try:
            session = self.core.open_session(hello)
        except TooManyEditors as error:
            yield _fatal(ErrorCode.TOO_LARGE, str(error))
            return
        reader = asyncio.create_task(self._read_editor(session, messages), name=f"editor-reader:{session.session_id}")
        try:
            yield convert.daemon_event_to_pb(Welcome(DAEMON_VERSION, session.session_id, PROTOCOL_VERSION,
                                                     (), self.core.status(only=session)))
            while True:
                event = await session.outbox.get()
                if event is CLOSE:
                    break
                yield convert.daemon_event_to_pb(event)
        finally:
            reader.cancel()
            self.core.close_session(session)

    async def _read_editor(self, session: EditorSession, messages) -> ReaderState:
        """The editor's messages, in order, into the session; ends the session when the stream ends."""
        state = ReaderState.READING
        try:
            async for message in messages:
                if isinstance(message, Undecodable):  # answered; the stream goes on with the next message
                    session.error(ErrorCode.BAD_MESSAGE, message.describe())
                    continue
                try:
                    event = convert.editor_event_from_pb(message)
                except convert.ConversionError as error:
                    session.error(ErrorCode.BAD_MESSAGE, str(error))
                    continue
                session.handle(event)
            state = ReaderState.ENDED
        except asyncio.CancelledError:
            raise
        except Exception as error:
            state = ReaderState.FAILED
            log.info("%s: the stream broke: %s", session.name, error)
        session.close()
        return state

    # ---- unary calls ----------------------------------------------------------------------------

    async def SendUtterance(self, request: pb.SendUtteranceRequest, context) -> pb.SendUtteranceResponse:
        await self._require_token(context)
        await self._require_decoded(request, context)
        for name in ("pause_before_s", "pause_after_s"):
            value = getattr(request, name)
            if not math.isfinite(value) or value < 0:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                    f"{name} must be a finite number of seconds, 0 or more; got {value!r}")
        try:
            timeout_s = self.core.edit_timeout(request.timeout_s)
        except BadTimeout as problem:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(problem))
        utterance = Utterance(request.text, request.pause_before_s, request.pause_after_s, request.language, "typed")
        result = await self.core.handle_utterance(utterance, request.document_id, timeout_s=timeout_s)
        return convert.utterance_result_to_pb(result)

    async def GetStatus(self, request: pb.GetStatusRequest, context) -> pb.Status:
        await self._require_token(context)
        await self._require_decoded(request, context)
        return convert.status_to_pb(self.core.status())

    async def SetListening(self, request: pb.SetListeningRequest, context) -> pb.Status:
        await self._require_token(context)
        await self._require_decoded(request, context)
        state = mode = intent_mode = None
        if request.HasField("state"):
            state = convert.listen_state_from_pb(request.state)
            if state is None or state is ListenState.NO_AUDIO:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"state {request.state} cannot be set: use "
                                    "LISTENING, SLEEPING or MUTED (NO_AUDIO is reported by the daemon, not set)")
        if request.HasField("mode"):
            mode = convert.listen_mode_from_pb(request.mode)
            if mode is None:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                    f"mode {request.mode} is not a listen mode: use ALWAYS_ON, PUSH_TO_TALK or TOGGLE")
        if request.HasField("intent_mode"):
            intent_mode = convert.intent_mode_from_pb(request.intent_mode)
            if intent_mode is None:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"intent_mode {request.intent_mode} is not an "
                                    "intent mode: use DICTATION or COMMAND_ONLY")
        keys = {pb.SetListeningRequest.KEY_UNSPECIFIED: None, pb.SetListeningRequest.PRESS: True,
                pb.SetListeningRequest.RELEASE: False}
        if request.key not in keys:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"key {request.key} is not a key action: use "
                                "PRESS or RELEASE (or leave it unset)")
        self.core.set_listening(state, mode, keys[request.key], intent_mode)
        return convert.status_to_pb(self.core.status())

    # ---- StreamAudio ----------------------------------------------------------------------------

    async def StreamAudio(self, request_iterator, context) -> AsyncIterator[pb.RecognitionEvent]:
        await self._require_token(context)
        messages = request_iterator.__aiter__()
        try:
            first = await messages.__anext__()
        except StopAsyncIteration:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "no AudioStart: the first message must be AudioStart")
        if isinstance(first, Undecodable):
            await _refuse(context, messages, grpc.StatusCode.INVALID_ARGUMENT, first.describe())
        if first.WhichOneof("kind") != "start":
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "the first message must be AudioStart, then pcm chunks")
        start = convert.audio_start_from_pb(first.start)
        try:
            check_audio_start(start.sample_rate, start.channels, start.sample_width)
        except BadAudioFormat as problem:
            await _refuse(context, messages, grpc.StatusCode.INVALID_ARGUMENT, str(problem))
        if self.listener is None:
            await _refuse(context, messages, grpc.StatusCode.FAILED_PRECONDITION,
                          "no recognizer is configured in this daemon, so StreamAudio cannot transcribe; "
                          "start the daemon with a speech front end (see the README's Hearing section), or "
                          "send text with SendUtterance (`pushkin say`)")
        feed = AudioFeed(self.core.settings.limits.audio_queue_chunks)
        feeder = asyncio.create_task(feed.run(messages), name="audio-feeder")
        failure = ""
        try:
            async for update in self.listener.hear_call(feed.chunks(), start):
                yield convert.recognition_to_pb(update)
                if feed.problem:
                    break
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the front end failed: this call ends, the daemon goes on
            log.exception("StreamAudio: the speech front end failed")
            failure = f"the speech front end failed: {type(error).__name__}: {error}"
        finally:
            feeder.cancel()
        if feed.problem:
            await _refuse(context, messages, grpc.StatusCode.INVALID_ARGUMENT, feed.problem)
        if failure:
            await context.abort(grpc.StatusCode.INTERNAL, failure)


class FeedState(enum.Enum):
    READING = "reading"
    ENDED = "ended"
    REJECTED = "rejected"  # a chunk broke the rules; the call ends with INVALID_ARGUMENT


class AudioFeed:
    """Moves a StreamAudio call's PCM chunks to the recognizer through a bounded queue.

    Each chunk is checked as it arrives (:func:`check_pcm_chunk`, the hearing's one rule for raw PCM).
    When the recognizer falls behind, the queue fills, the feeder stops reading, and gRPC's flow control
    pushes back on the client: memory stays under ``capacity`` × 64 KiB per call.
    """

    def __init__(self, capacity: int):
        self.queue: asyncio.Queue = asyncio.Queue(maxsize=max(1, capacity))
        self.state = FeedState.READING
        self.problem = ""

    async def run(self, messages) -> None:
        try:
            async for message in messages:
                if isinstance(message, Undecodable):
                    self.problem = message.describe()
                    break
                if message.WhichOneof("kind") != "pcm":
                    self.problem = "AudioStart may be sent only once, as the first message; then pcm chunks"
                    break
                check_pcm_chunk(message.pcm)
                # Empty chunks go through too: a client may send them as a heartbeat while it has no audio,
                # and they let the front end hand out what it has ready (an interim transcript).
                await self.queue.put(bytes(message.pcm))
        except asyncio.CancelledError:
            raise
        except BadAudioFormat as problem:
            self.problem = str(problem)
        except Exception as error:
            self.problem = f"the audio stream broke: {error}"
        self.state = FeedState.REJECTED if self.problem else FeedState.ENDED
        await self.queue.put(None)

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            chunk = await self.queue.get()
            if chunk is None:
                return
            yield chunk


REFUSAL_DRAIN_S = 2.0


class _AbortableContext(Protocol):
    """The part of grpc.aio.ServicerContext that _refuse uses (grpc ships no type information; its
    ``abort`` is declared NoReturn: it always raises to end the call)."""

    async def abort(self, code: grpc.StatusCode, details: str = "") -> NoReturn: ...


async def _refuse(context: _AbortableContext, messages: AsyncIterator[object], code: grpc.StatusCode,
                  message: str) -> NoReturn:
    """End a StreamAudio call with ``code``, after the client has stopped sending (or 2 s at most).

    An aio client that is still writing when the status arrives reports INTERNAL "Internal error from
    Core" instead of our message (grpc/grpc#36066), so what the client sent meanwhile is read and
    dropped first: the wait costs no memory, and the client gets the reason it needs.
    """

    async def drain() -> None:
        async for _ in messages:
            pass

    try:
        await asyncio.wait_for(drain(), REFUSAL_DRAIN_S)
    except asyncio.CancelledError:
        raise
    except Exception:  # a timeout or a broken stream: refuse now either way
        pass
    await context.abort(code, message)


def _fatal(code: ErrorCode, message: str) -> pb.DaemonMessage:
    log.info("Connect refused: %s", message)
    return convert.daemon_event_to_pb(ProtocolError(code, message, fatal=True))
