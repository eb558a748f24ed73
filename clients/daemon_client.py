"""The daemon's unary calls and StreamAudio, for the CLI, scripts and tests.

    async with DaemonClient() as daemon:           # the default address, like the daemon's
        result = await daemon.say("Hello there")   # an UtteranceResult: intent, batches, final text
        status = await daemon.status()             # a DaemonStatus

Every call raises :class:`DaemonUnavailable` with a clear message when the daemon cannot be reached, and
:class:`DaemonCallError` (carrying the gRPC status) when the daemon refused the call.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

import grpc

from pushkin.proto import convert
from pushkin.proto.endpoint import Address
from pushkin.proto.types import (
    AudioStart,
    DaemonStatus,
    IntentMode,
    ListenKey,
    ListenMode,
    ListenState,
    RecognitionUpdate,
    SendUtterance,
    SetListening,
    UtteranceResult,
)
from pushkin.proto.v1 import pushkin_pb2 as pb
from pushkin.proto.v1 import pushkin_pb2_grpc as pb_grpc

from .connection import (
    DaemonUnavailable,
    open_channel,
    resolve_address,
    resolve_token,
    token_metadata,
    unavailable_message,
)


class DaemonCallError(RuntimeError):
    def __init__(self, code: grpc.StatusCode, details: str):
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details


class DaemonClient:
    """The unary calls and StreamAudio on a channel of its own, or on ``channel`` (another client's, which
    this one then leaves open)."""

    def __init__(self, address: Address | str | None = None, *, token: str | None = None, token_file: str | None = None,
                 channel: grpc.aio.Channel | None = None):
        self.address = resolve_address(address)
        self.token = resolve_token(self.address, token, token_file)
        self._owns_channel = channel is None
        self._channel = open_channel(self.address) if channel is None else channel
        self._stub = pb_grpc.PushkinStub(self._channel)
        self._metadata = token_metadata(self.token) or None

    async def __aenter__(self) -> DaemonClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_channel:
            await self._channel.close()

    def _failed(self, error: grpc.aio.AioRpcError) -> Exception:
        if error.code() == grpc.StatusCode.UNAVAILABLE:
            return DaemonUnavailable(unavailable_message(self.address, error.details()))
        return DaemonCallError(error.code(), error.details())

    async def say(self, text: str, *, document_id: str = "", language: str = "", timeout_s: float = 0.0,
                  pause_before_s: float = 0.0, pause_after_s: float = 0.0) -> UtteranceResult:
        request = convert.to_pb(SendUtterance(text, document_id, pause_before_s, pause_after_s, language, timeout_s))
        try:
            response = await self._stub.SendUtterance(request, metadata=self._metadata)
        except grpc.aio.AioRpcError as error:
            raise self._failed(error) from None
        return convert.utterance_result_from_pb(response)

    async def status(self, *, timeout_s: float = 5.0) -> DaemonStatus:
        try:
            response = await self._stub.GetStatus(pb.GetStatusRequest(), metadata=self._metadata, timeout=timeout_s)
        except grpc.aio.AioRpcError as error:
            raise self._failed(error) from None
        return convert.status_from_pb(response)

    async def set_listening(self, *, state: ListenState | None = None, mode: ListenMode | None = None,
                            key_pressed: bool | None = None, intent_mode: IntentMode | None = None) -> DaemonStatus:
        key = None if key_pressed is None else ListenKey.PRESS if key_pressed else ListenKey.RELEASE
        return await self.change_listening(SetListening(state, mode, key, intent_mode))

    async def change_listening(self, change: SetListening, *, timeout_s: float | None = None) -> DaemonStatus:
        try:
            response = await self._stub.SetListening(convert.to_pb(change), metadata=self._metadata, timeout=timeout_s)
        except grpc.aio.AioRpcError as error:
            raise self._failed(error) from None
        return convert.status_from_pb(response)

    async def stream_audio(self, pcm: AsyncIterable[bytes], start: AudioStart = AudioStart()) -> AsyncIterator[RecognitionUpdate]:
        """Send ``start`` then the PCM chunks; yields what the daemon recognized and decided."""

        async def requests():
            yield convert.audio_start_to_pb(start)
            async for chunk in pcm:
                yield pb.AudioChunk(pcm=chunk)

        call = self._stub.StreamAudio(requests(), metadata=self._metadata)
        try:
            async for message in call:
                yield convert.recognition_from_pb(message)
        except grpc.aio.AioRpcError as error:
            raise self._failed(error) from None
