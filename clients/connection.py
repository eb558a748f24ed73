"""Opening a channel to the daemon: address resolution (the daemon's own defaults) and the token.

:func:`resolve_address` and :func:`resolve_token` pick the same defaults as the daemon
(:mod:`pushkin.proto.endpoint`): the Unix socket under $XDG_RUNTIME_DIR unless PUSHKIN_ADDRESS or an
explicit address says otherwise, and for TCP the token from the daemon's 0600 token file.
"""

from __future__ import annotations

import os
from pathlib import Path

import grpc

from pushkin.proto.endpoint import (
    TOKEN_METADATA_KEY,
    Address,
    SocketTrustError,
    check_unix_daemon,
    default_address,
    default_token_path,
    parse_address,
    read_token,
)

MAX_MESSAGE_BYTES = 32 * 1024 * 1024


class DaemonUnavailable(ConnectionError):
    """The daemon could not be reached; the message names the address and how to start it."""


class UntrustedDaemon(DaemonUnavailable):
    """The socket at the address is not the user's (folder owner or mode, socket owner, peer uid)."""


def check_trusted(address: Address) -> None:
    """Raise UntrustedDaemon when ``address`` is a Unix socket that another user controls."""
    try:
        check_unix_daemon(address)
    except SocketTrustError as error:
        raise UntrustedDaemon(str(error)) from None


def resolve_address(address: Address | str | None = None) -> Address:
    if isinstance(address, Address):
        return address
    if address:
        return parse_address(address)
    return default_address()


def resolve_token(address: Address, token: str | None = None, token_file: str | os.PathLike | None = None) -> str | None:
    """The token to send: ``token``, else the file's contents, else (TCP only) the default token file if any."""
    if token:
        return token
    if token_file:
        return read_token(token_file)
    if address.scheme == "tcp":
        path = default_token_path()
        if path.exists():
            return read_token(path)
    return None


def token_metadata(token: str | None) -> tuple[tuple[str, str], ...]:
    return ((TOKEN_METADATA_KEY, token),) if token else ()


def open_channel(address: Address) -> grpc.aio.Channel:
    """A channel to ``address``; raises UntrustedDaemon first when a Unix socket is not the user's."""
    check_trusted(address)
    return grpc.aio.insecure_channel(address.grpc_target, options=[
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.enable_retries", 0),
    ])


def unavailable_message(address: Address, detail: str = "") -> str:
    where = address.uri
    hint = "start it with `pushkin serve`"
    if address.scheme == "unix" and not Path(address.path).exists():
        detail = detail or f"no socket at {address.path}"
    return f"the daemon is not reachable at {where}" + (f" ({detail})" if detail else "") + f"; {hint}"
