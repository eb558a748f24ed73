"""Where the daemon listens and where its token lives: one definition for the daemon and every client.

An address is a URI: ``unix:///abs/path.sock`` or ``tcp://HOST:PORT``. The default is the Unix socket
``$XDG_RUNTIME_DIR/pushkin/pushkin.sock``; without XDG_RUNTIME_DIR it is ``$TMPDIR/pushkin-<uid>/pushkin.sock``
(a folder the daemon creates with mode 0700 and checks it owns). The environment variable
``PUSHKIN_ADDRESS`` overrides the default for clients and the daemon alike. TCP listeners require a token,
kept in ``$XDG_CONFIG_HOME/pushkin/token`` (mode 0600) unless told otherwise.
"""

from __future__ import annotations

import ipaddress
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

ADDRESS_ENV = "PUSHKIN_ADDRESS"
TOKEN_METADATA_KEY = "x-pushkin-token"


class AddressError(ValueError):
    """An address that is not ``unix:///path`` or ``tcp://host:port``."""


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

    def with_port(self, port: int) -> "Address":
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
