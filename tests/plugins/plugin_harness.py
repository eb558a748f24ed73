"""Harness for the editor-plugin tests: the daemon as a subprocess, Neovim driven over its RPC, the bridge.

Everything here is real: `pushkin serve` on a Unix socket in a temp dir, Debian's Neovim with the plugin
on its runtimepath, and the plugin's own `pushkin bridge --stdio` child. The socket reaches every process
through PUSHKIN_ADDRESS, the variable the daemon and every client honor.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc

from pushkin.proto.v1 import pushkin_pb2 as pb
from pushkin.proto.v1 import pushkin_pb2_grpc as pb_grpc

REPO = Path(__file__).resolve().parents[2]
NVIM_PLUGIN = REPO / "clients" / "nvim"
PUSHKIN = [sys.executable, "-m", "pushkin.clients.cli"]
# `pushkin serve` with a language model whose rewrites the guards accept (see parrot_serve.py).
PARROT_SERVE = (sys.executable, str(Path(__file__).with_name("parrot_serve.py")))


def short_tmpdir() -> Path:
    # A Unix socket path must stay under 108 bytes; pytest's tmp_path can be longer.
    return Path(tempfile.mkdtemp(prefix="pk-", dir="/tmp"))


class DaemonProcess:
    """`pushkin serve` on a Unix socket; ``stub`` talks to it in-process (sync gRPC)."""

    def __init__(self, folder: Path, extra_args: tuple[str, ...] = (), command: tuple[str, ...] = tuple(PUSHKIN)) -> None:
        self.folder = folder
        self.extra_args = tuple(extra_args)
        self.command = tuple(command)
        self.socket = folder / "daemon.sock"
        self.address = f"unix://{self.socket}"
        self.env = {**os.environ, "PUSHKIN_ADDRESS": self.address}
        self.process: subprocess.Popen | None = None
        self._channel: grpc.Channel | None = None
        self.stub: pb_grpc.PushkinStub | None = None

    def start(self, timeout_s: float = 15.0) -> None:
        log = open(self.folder / "serve.log", "ab")
        self.process = subprocess.Popen([*self.command, "serve", "--no-mic", "--set", "hearing.preload=false", *self.extra_args], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self._channel = grpc.insecure_channel(f"unix:{self.socket}")
        self.stub = pb_grpc.PushkinStub(self._channel)
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"pushkin serve exited with {self.process.returncode}: {self.log()}")
            try:
                self.stub.GetStatus(pb.GetStatusRequest(), timeout=1.0)
                return
            except grpc.RpcError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"pushkin serve did not answer within {timeout_s} s: {self.log()}") from None
                time.sleep(0.05)

    def log(self) -> str:
        return (self.folder / "serve.log").read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def wait_focused(self, document_id: str, timeout_s: float = 5.0) -> None:
        """Until the daemon has ``document_id`` focused (the editor's focus and a test's RPC race otherwise)."""
        assert self.stub is not None
        deadline = time.monotonic() + timeout_s
        while True:
            focused = self.stub.GetStatus(pb.GetStatusRequest(), timeout=2).focused_document_id
            if focused == document_id or focused.endswith(f":{document_id}") or focused.endswith(f"/{document_id}"):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the daemon has {focused!r} focused, not {document_id!r}")
            time.sleep(0.01)

    def say(self, text: str, timeout_s: float = 5.0, pause_s: float = 0.0) -> pb.SendUtteranceResponse:
        """SendUtterance, as `pushkin say` sends it; ``pause_s`` is the silence on both sides."""
        assert self.stub is not None
        request = pb.SendUtteranceRequest(text=text, timeout_s=timeout_s, pause_before_s=pause_s, pause_after_s=pause_s)
        return self.stub.SendUtterance(request, timeout=timeout_s + 5)


class Neovim:
    """A headless Neovim with the plugin set up, attached over its RPC (pynvim)."""

    def __init__(self, daemon: DaemonProcess, *, extra_setup: str = "", bridge_cmd: list[str] | None = None,
                 plugin_dir: Path = NVIM_PLUGIN) -> None:
        import pynvim

        init = daemon.folder / f"init-{os.getpid()}-{time.monotonic_ns()}.lua"
        command = ", ".join(f'"{part}"' for part in (bridge_cmd or [*PUSHKIN, "bridge", "--stdio"]))
        init.write_text(
            f'vim.opt.runtimepath:prepend("{plugin_dir}")\n'
            'vim.cmd("runtime plugin/pushkin.lua")\n'
            f'require("pushkin").setup({{ cmd = {{ {command} }} {extra_setup} }})\n',
            encoding="utf-8",
        )
        saved = os.environ.get("PUSHKIN_ADDRESS")
        os.environ["PUSHKIN_ADDRESS"] = daemon.address  # the child nvim (and its bridge) inherit it
        try:
            self.nvim = pynvim.attach("child", argv=["nvim", "--embed", "--headless", "--clean", "-u", str(init)])
        finally:
            if saved is None:
                os.environ.pop("PUSHKIN_ADDRESS", None)
            else:
                os.environ["PUSHKIN_ADDRESS"] = saved

    def lua(self, code: str, *args):
        return self.nvim.exec_lua(code, *args)

    def state(self) -> dict:
        return self.lua("return require('pushkin').state")

    def wait_for(self, predicate, timeout_s: float = 5.0, what: str = "condition"):
        deadline = time.monotonic() + timeout_s
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                described = self.lua("return require('pushkin').describe()")
                raise AssertionError(f"timed out waiting for {what}; plugin: {described}")
            time.sleep(0.01)

    def wait_connected(self) -> None:
        self.wait_for(lambda: self.state()["connection"] == "connected", 10.0, "the plugin to connect")

    def text(self, buffer=None) -> str:
        buffer = buffer or self.nvim.current.buffer
        return "\n".join(buffer[:])

    def settle(self) -> None:
        """Let scheduled callbacks (the update flush) run: an RPC round trip after vim.schedule."""
        self.lua("local done = false; vim.schedule(function() done = true end); vim.wait(1000, function() return done end)")
        self.lua("vim.wait(20)")

    def close(self) -> None:
        # Quit before closing the session: closing first leaves asyncio a running child whose exit it
        # then reports against a closed loop ("Loop ... that handles pid N is closed").
        for step in (self.nvim.quit, self.nvim.close):
            with contextlib.suppress(Exception):  # Neovim may already be gone
                step()
