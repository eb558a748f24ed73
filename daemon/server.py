"""The daemon: binds its address, serves the Pushkin, health and reflection services, shuts down cleanly.

    daemon = Daemon(settings, planner=InsertAtCursor(), hearing=None)
    await daemon.start()          # binds; daemon.address is the real address (TCP port 0 resolved)
    ...
    await daemon.stop()

or ``await daemon.run()``, which also stops on SIGTERM/SIGINT. :mod:`pushkin.daemon.assembly` builds the
daemon from the settings (what ``pushkin serve`` runs). The planner
and the hearing are the two seams: the intent engine and the speech front end plug in here without
touching the transport. With a hearing, the daemon also runs a :class:`~pushkin.daemon.listener.Listener`:
the microphone loop (unless ``[hearing.microphone] enabled = false``) and the speech dispatcher.
"""

from __future__ import annotations

import asyncio
import enum
import gc
import logging
import os
import secrets
import signal
import socket
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from pushkin.proto.endpoint import Address, AddressError, default_address, default_token_path, parse_address, read_token
from pushkin.proto.types import Component, NoticeLevel
from pushkin.proto.v1 import pushkin_pb2 as pb

from .core import DaemonCore
from .hearing.sources import AudioSource
from .hearing_api import Hearing
from .listener import Listener
from .planning import EditPlanner, InsertAtCursor
from .service import PushkinService, TokenGate, add_to_server
from .settings import Settings

if TYPE_CHECKING:
    from .voice import Voice

log = logging.getLogger(__name__)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Pushkin"].full_name
UNIX_PATH_MAX = 107  # sun_path is 108 bytes with the terminating NUL on Linux


class DaemonError(RuntimeError):
    """The daemon cannot start as configured; the message says why and what to change."""


class DaemonState(enum.Enum):
    CREATED = "created"
    SERVING = "serving"
    STOPPING = "stopping"
    STOPPED = "stopped"


class Daemon:
    """The lil Pushkin daemon. ``planner`` decides what utterances do; ``hearing`` (optional) turns audio into
    utterances for StreamAudio and the microphone — without it StreamAudio answers FAILED_PRECONDITION.
    ``microphone_source`` replaces the sound card as the microphone's audio (another AudioSource).
    ``persona`` (a PersonaService) shows its status line once serving; ``release`` frees what was built for
    this daemon (the recognizer's thread) in :meth:`close`."""

    def __init__(self, settings: Settings | None = None, planner: EditPlanner | None = None,
                 hearing: Hearing | None = None, *, components: tuple[Component, ...] = (), rewriter=None,
                 microphone_source: Callable[[], AudioSource] | None = None, persona=None,
                 release: Callable[[], None] | None = None):
        self.settings = settings or Settings()
        self.planner = planner if planner is not None else InsertAtCursor()
        self.hearing = hearing
        if not components:
            components = (Component("recognizer", "ready" if hearing is not None else "missing",
                                    type(hearing).__name__ if hearing is not None else
                                    "no recognizer configured: StreamAudio is unavailable"),
                          Component("planner", "ready", type(self.planner).__name__))
            if rewriter is not None and hasattr(rewriter, "component"):
                components += (rewriter.component(),)
        self.core = DaemonCore(self.settings, self.planner, components=components, rewriter=rewriter)
        self.voice: Voice | None = None
        if self.settings.voice.enabled:
            from .voice import Voice, VoiceGatedHearing  # piper itself loads on the first reply

            self.voice = Voice(self.settings.voice, notify=self.core.broadcast_notice, report=self.core.set_component)
            self.core.voice = self.voice
            if hearing is not None:  # the recognizer hears silence while the voice speaks
                hearing = self.hearing = VoiceGatedHearing(hearing, self.voice)
        self.listener: Listener | None = None
        if hearing is not None:
            self.listener = Listener(self.core, hearing, self.settings.hearing,
                                     microphone=self.settings.hearing.microphone.enabled,
                                     source_factory=microphone_source)
        self.persona = persona
        self._release = release
        self.state = DaemonState.CREATED
        self.address: Address | None = None
        self.token: str | None = None
        self._server: grpc.aio.Server | None = None
        self._health: health.aio.HealthServicer | None = None
        self._stopped = asyncio.Event()
        self._socket_path: Path | None = None

    # ---- address and token ----------------------------------------------------------------------

    def _resolve_address(self) -> Address:
        server = self.settings.server
        try:
            address = parse_address(server.listen) if server.listen else default_address()
        except AddressError as error:
            raise DaemonError(str(error)) from None
        if address.scheme == "tcp" and not address.is_loopback and not server.allow_remote:
            raise DaemonError(f"refusing to listen on {address.uri}: it is not a loopback address and anyone who can "
                              "reach it could edit your documents with the token; pass --allow-remote "
                              "(or set [server] allow_remote = true) if you mean it")
        return address

    def _load_or_create_token(self) -> str:
        path = Path(self.settings.server.token_file).expanduser() if self.settings.server.token_file \
            else default_token_path()
        if path.exists():
            try:
                return read_token(path)
            except (PermissionError, ValueError) as error:
                raise DaemonError(str(error)) from None
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        token = secrets.token_urlsafe(32)
        # O_EXCL: never follow a link or overwrite a file someone raced in.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(token + "\n")
        log.info("created the token file %s", path)
        return token

    def _prepare_socket(self, path: Path) -> None:
        if len(str(path).encode()) > UNIX_PATH_MAX:
            raise DaemonError(f"the socket path {path} is longer than {UNIX_PATH_MAX} bytes; choose a shorter one")
        folder = path.parent
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = folder.stat()
        if info.st_uid != os.getuid():
            raise DaemonError(f"the socket folder {folder} belongs to another user; refusing to use it")
        if info.st_mode & 0o022:
            raise DaemonError(f"the socket folder {folder} is writable by others (mode {info.st_mode & 0o777:04o}); "
                              f"chmod 700 {folder}")
        if path.exists() or path.is_symlink():
            if not stat.S_ISSOCK(path.lstat().st_mode):
                raise DaemonError(f"{path} exists and is not a socket; refusing to replace it")
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(str(path))
            except OSError:
                path.unlink()  # a socket left behind by a daemon that died
            else:
                raise DaemonError(f"another daemon is already listening on {path}")
            finally:
                probe.close()

    # ---- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> Address:
        """Bind and start serving; returns the address (with the real port for TCP port 0)."""
        if self.state is not DaemonState.CREATED:
            raise DaemonError(f"the daemon is {self.state.value}; create a new one to start again")
        address = self._resolve_address()
        token = self._load_or_create_token() if address.scheme == "tcp" else None
        if address.scheme == "unix":
            self._prepare_socket(Path(address.path))
        limit = self.settings.limits.max_message_bytes
        # Over TCP the token guards every service, health and reflection included.
        interceptors = [TokenGate(token, SERVICE_NAME)] if token is not None else []
        server = grpc.aio.server(interceptors=interceptors, options=[
            ("grpc.max_receive_message_length", limit),
            ("grpc.max_send_message_length", limit),
            ("grpc.so_reuseport", 0),
            # Editors keep streams open for hours: ping idle connections to notice dead peers.
            ("grpc.keepalive_time_ms", 60_000),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ])
        add_to_server(PushkinService(self.core, self.listener, token), server)
        self._health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        reflection.enable_server_reflection((SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
        try:
            port = server.add_insecure_port(address.grpc_target)
        except RuntimeError as error:
            raise DaemonError(f"cannot listen on {address.uri}: {error}") from None
        if address.scheme == "tcp":
            address = address.with_port(port)
        if self.persona is not None:  # its status line is there before the first client asks
            from .persona import report_status

            report_status(self.persona, self.core.set_component)
        await server.start()
        rewriter = self.core.rewriter
        if rewriter is not None and hasattr(rewriter, "attach"):
            rewriter.attach(self.core.set_component)  # the model's status line; loads it now if asked
        if address.scheme == "unix":
            self._socket_path = Path(address.path)
            os.chmod(address.path, 0o600)
        await self._health.set("", health_pb2.HealthCheckResponse.SERVING)
        await self._health.set(SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
        self._server, self.address, self.token = server, address, token
        self.core.listen_address = address.uri
        self.state = DaemonState.SERVING
        if self.voice is not None:
            await self.voice.start()
        if self.listener is not None:
            await self.listener.start()
        # Everything built so far (modules, grpc, the planner) lives as long as the daemon: keep it out of
        # the collector's full passes, which otherwise show up as multi-millisecond pauses in edit latency.
        gc.freeze()
        log.info("serving on %s", address.uri)
        return address

    async def stop(self, grace_s: float | None = None) -> None:
        """Tell editors, end their streams, and stop within ``grace_s`` (default: the settings)."""
        server = self._server
        if self.state is not DaemonState.SERVING or server is None:  # SERVING comes with its server
            return
        self.state = DaemonState.STOPPING
        grace_s = self.settings.server.shutdown_grace_s if grace_s is None else grace_s
        if self._health is not None:
            await self._health.enter_graceful_shutdown()
        if self.listener is not None:
            await self.listener.stop()
        if self.voice is not None:
            await self.voice.stop()
        self.core.broadcast_notice(NoticeLevel.INFO, "daemon-stopping", "The daemon is shutting down.")
        for session in list(self.core.sessions.values()):
            session.close()
        await server.stop(grace_s)
        if self._socket_path is not None:
            try:
                self._socket_path.unlink()
            except FileNotFoundError:
                pass
        self.state = DaemonState.STOPPED
        self._stopped.set()
        log.info("stopped")

    def close(self) -> None:
        """Free what was built for this daemon, once it has stopped (or failed to start)."""
        release, self._release = self._release, None
        if release is not None:
            release()

    async def wait_stopped(self) -> None:
        await self._stopped.wait()

    async def run(self) -> None:
        """Start, serve until SIGTERM or SIGINT, stop gracefully."""
        await self.start()
        await self.run_until_signal()

    async def run_until_signal(self) -> None:
        """Serve (already started) until SIGTERM or SIGINT or :meth:`stop`, then stop gracefully."""
        loop = asyncio.get_running_loop()
        stop_requested = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop_requested.set)
        stopped = asyncio.ensure_future(self._stopped.wait())
        requested = asyncio.ensure_future(stop_requested.wait())
        try:
            await asyncio.wait({stopped, requested}, return_when=asyncio.FIRST_COMPLETED)
            if requested.done():
                log.info("stopping on a signal")
        finally:
            stopped.cancel()
            requested.cancel()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
            await self.stop()
