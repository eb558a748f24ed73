"""Where the daemon listens and where its token lives: one definition for the daemon and every client.

An address is a URI: ``unix:///abs/path.sock`` or ``tcp://HOST:PORT``. The default is the Unix socket
``$XDG_RUNTIME_DIR/pushkin/pushkin.sock``; without XDG_RUNTIME_DIR it is ``$TMPDIR/pushkin-<uid>/pushkin.sock``
(a folder the daemon creates with mode 0700 and checks it owns). The environment variable
``PUSHKIN_ADDRESS`` overrides the default for clients and the daemon alike. TCP listeners require a token,
kept in ``$XDG_CONFIG_HOME/pushkin/token`` (mode 0600) unless told otherwise.

Clients trust a Unix socket only as the daemon does (:func:`check_unix_daemon`): its folder is owned by the
user and not writable by group or others, and the process listening on it runs as the user (SO_PEERCRED),
checked before a byte is sent. Otherwise another local user who pre-created the fallback folder could read
and rewrite the documents a client opens.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import stat
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

ADDRESS_ENV = "PUSHKIN_ADDRESS"
TOKEN_METADATA_KEY = "x-pushkin-token"


class AddressError(ValueError):
    """An address that is not ``unix:///path`` or ``tcp://host:port``."""


class SocketTrustError(PermissionError):
    """A Unix socket, or its folder, that belongs to someone else: nothing may be sent to it."""


@dataclass(frozen=True)
class Address:
    """A parsed listen/connect address. ``path`` for unix, ``host``/``port`` for tcp."""

    scheme: str  # "unix" or "tcp"
    path: str = ""
    host: str = ""
    port: int = 0

    @property
    def uri(self) -> str:
        if self.scheme == "unix":
            return f"unix://{self.path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tcp://{host}:{self.port}"

    @property
    def grpc_target(self) -> str:
        """The target string grpc understands for a channel or ``add_insecure_port``."""
        if self.scheme == "unix":
            return f"unix:{self.path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def is_loopback(self) -> bool:
        if self.scheme == "unix":
            return True
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def with_port(self, port: int) -> Address:
        return Address(self.scheme, self.path, self.host, port)


def parse_address(text: str) -> Address:
    """Parse ``unix:///path``, ``unix:/path``, ``tcp://host:port`` (IPv6 in brackets), or a bare absolute path."""
    text = text.strip()
    if text.startswith("/"):
        return Address("unix", path=text)
    if text.startswith("unix://"):
        path = text[len("unix://"):]
    elif text.startswith("unix:"):
        path = text[len("unix:"):]
    elif text.startswith("tcp://"):
        rest = text[len("tcp://"):].rstrip("/")
        if rest.startswith("["):
            host, sep, port_text = rest[1:].partition("]:")
        else:
            host, sep, port_text = rest.rpartition(":")
        if not sep or not host or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
            raise AddressError(f"bad TCP address {text!r}: expected tcp://HOST:PORT (port 0-65535)")
        return Address("tcp", host=host, port=int(port_text))
    else:
        raise AddressError(f"bad address {text!r}: expected unix:///path/to.sock or tcp://HOST:PORT")
    if not path.startswith("/"):
        raise AddressError(f"bad Unix socket address {text!r}: the path must be absolute (unix:///run/...)")
    return Address("unix", path=path)


def runtime_dir() -> Path:
    """The folder for the socket: $XDG_RUNTIME_DIR/pushkin, else a per-user folder in the temp dir."""
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg:
        return Path(xdg) / "pushkin"
    return Path(tempfile.gettempdir()) / f"pushkin-{os.getuid()}"


def config_dir() -> Path:
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return (Path(xdg) if xdg else Path.home() / ".config") / "pushkin"


def default_socket_path() -> Path:
    return runtime_dir() / "pushkin.sock"


def default_token_path() -> Path:
    return config_dir() / "token"


def default_config_path() -> Path:
    return config_dir() / "config.toml"


def default_address() -> Address:
    override = os.environ.get(ADDRESS_ENV)
    if override:
        return parse_address(override)
    return Address("unix", path=str(default_socket_path()))


def read_token(path: str | os.PathLike) -> str:
    """The token in ``path``; raises PermissionError when the file is readable by others (it is a secret)."""
    path = Path(path)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise PermissionError(f"token file {path} has mode {mode:04o}; it must be 0600 (chmod 600 {path})")
    token = path.read_text(encoding="utf-8").strip()
    if not token:
        raise ValueError(f"token file {path} is empty")
    return token


def _user_name(uid: int) -> str:
    try:
        import pwd
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except (ImportError, KeyError):
        return f"uid {uid}"


def check_socket_folder(folder: Path) -> None:
    """Raise SocketTrustError unless ``folder`` is owned by this user and not writable by group or others."""
    info = folder.stat()
    me = os.getuid()
    if info.st_uid != me:
        raise SocketTrustError(f"the socket folder {folder} belongs to {_user_name(info.st_uid)}, not to you "
                               f"({_user_name(me)}); refusing to connect: another user could read and change your "
                               "documents through it")
    if info.st_mode & 0o022:
        raise SocketTrustError(f"the socket folder {folder} (owner {_user_name(info.st_uid)}) is writable by others "
                               f"(mode {info.st_mode & 0o777:04o}); refusing to connect; chmod 700 {folder}")


def socket_peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process at the other end of a connected Unix socket; None where the OS cannot say."""
    if hasattr(socket, "SO_PEERCRED"):  # Linux: struct ucred {pid, uid, gid}
        data = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        return struct.unpack("3i", data)[1]
    return None


def check_unix_daemon(address: Address, timeout_s: float = 2.0) -> None:
    """Before a client sends a byte to a Unix socket: refuse (SocketTrustError) one that is not the user's.

    Checks the folder's owner and mode, that the path is a socket owned by the user, and the listening
    process's uid (SO_PEERCRED) on a probe connection that sends nothing. A missing folder or socket, or
    nobody listening, passes: the client's own connect then reports the daemon as unreachable. As the
    folder is the user's alone, nobody else can swap the socket between this probe and the real connect.
    """
    if address.scheme != "unix":
        return
    path = Path(address.path)
    try:
        check_socket_folder(path.parent)
        info = path.lstat()
    except FileNotFoundError:
        return
    me = os.getuid()
    if not stat.S_ISSOCK(info.st_mode):
        raise SocketTrustError(f"{path} is not a socket (in {path.parent}); refusing to connect")
    if info.st_uid != me:
        raise SocketTrustError(f"the socket {path} belongs to {_user_name(info.st_uid)}, not to you; refusing to connect")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(timeout_s)
    try:
        probe.connect(str(path))
        peer = socket_peer_uid(probe)
    except OSError:
        return
    finally:
        probe.close()
    if peer is not None and peer != me:
        raise SocketTrustError(f"the daemon on {path} runs as {_user_name(peer)}, not as you ({_user_name(me)}); "
                               f"refusing to connect (folder {path.parent})")
