"""Clients refuse a daemon socket that another local user controls (issue 11, item 2).

A second user (created with useradd when allowed, else a bare uid) runs a real listening process that
counts every byte it receives. The victim's real `pushkin edit` / `say` / `bridge` must refuse before
sending a byte, name the folder and its owner, and leave the file untouched.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

PUSHKIN = [sys.executable, "-m", "pushkin.clients.cli"]
STRANGER_NAME = "pushkin-stranger"

# Runs as root, binds (in a folder it makes itself, or one given), drops to the stranger's uid, listens
# (so SO_PEERCRED names the stranger), and reports each connection's received byte count on stdout.
STRANGER = r"""
import os, socket, sys
uid, path, make_folder = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
folder = os.path.dirname(path)
if make_folder:
    os.mkdir(folder, 0o755)
    os.chown(folder, uid, uid)
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
if make_folder:
    os.setgid(uid); os.setuid(uid)
    server.bind(path)
else:
    server.bind(path)  # in the victim's own folder, as the victim (root): only the listener is the stranger
    os.setgid(uid); os.setuid(uid)
server.listen(16)
print("listening", flush=True)
while True:
    conn, _ = server.accept()
    conn.settimeout(1.0)
    total = 0
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            total += len(data)
    except OSError:
        pass
    print(f"received {total}", flush=True)
    conn.close()
"""


def _stranger_uid() -> int:
    if os.getuid() != 0:
        pytest.skip("needs root to run a process as a second user (the tests run as root in CI)")
    if shutil.which("useradd"):
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", STRANGER_NAME],
                       capture_output=True)
        try:
            import pwd
            return pwd.getpwnam(STRANGER_NAME).pw_uid
        except KeyError:
            pass
    return 54321  # no passwd entry: a bare uid is still another user to the kernel


@pytest.fixture
def stranger_uid() -> int:
    return _stranger_uid()


@pytest.fixture
def base():
    path = Path(tempfile.mkdtemp(prefix="pk-trust-"))
    path.chmod(0o1777)  # like /tmp: anyone may create a folder in it
    yield path
    shutil.rmtree(path, ignore_errors=True)


def start_stranger(uid: int, socket_path: Path, *, make_folder: bool) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", STRANGER, str(uid), str(socket_path), "1" if make_folder else "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    assert line.strip() == "listening", line + process.stderr.read()
    return process


def bytes_received(stranger: subprocess.Popen) -> list[int]:
    time.sleep(0.3)  # let the last connection's count be printed
    stranger.send_signal(signal.SIGKILL)
    out = stranger.communicate(timeout=10)[0]
    return [int(line.split()[1]) for line in out.splitlines() if line.startswith("received")]


def victim_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_RUNTIME_DIR", "PUSHKIN_ADDRESS")}
    env.update(extra)
    return env


def test_edit_refuses_a_fallback_folder_another_user_made(base, stranger_uid):
    # XDG_RUNTIME_DIR unset: the fallback is $TMPDIR/pushkin-<uid>, which the stranger created first.
    folder = base / f"pushkin-{os.getuid()}"
    stranger = start_stranger(stranger_uid, folder / "pushkin.sock", make_folder=True)
    diary = base / "diary.txt"
    diary.write_text("Dear diary, a secret.\n", encoding="utf-8")
    before = diary.stat()
    try:
        done = subprocess.run(PUSHKIN + ["edit", str(diary)], capture_output=True, text=True, timeout=30,
                              env=victim_env(TMPDIR=str(base)))
    finally:
        received = bytes_received(stranger)
    assert done.returncode != 0
    assert str(folder) in done.stderr and str(stranger_uid) in done.stderr, done.stderr
    assert "refusing" in done.stderr
    assert sum(received) == 0 and received == [], received  # not even a probe: the folder check comes first
    after = diary.stat()
    assert diary.read_text(encoding="utf-8") == "Dear diary, a secret.\n"
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (before.st_ino, before.st_mtime_ns, before.st_size)


def test_clients_refuse_a_listener_of_another_uid_in_their_own_folder(base, stranger_uid):
    # The folder and the socket file are the victim's; only the listening process is the stranger's.
    folder = Path(tempfile.mkdtemp(prefix="own-", dir=base))  # mode 0700, owned by the victim
    socket_path = folder / "pushkin.sock"
    stranger = start_stranger(stranger_uid, socket_path, make_folder=False)
    diary = base / "diary.txt"
    diary.write_text("Привет, дневник.\n", encoding="utf-8")
    env = victim_env(PUSHKIN_ADDRESS=f"unix://{socket_path}")
    try:
        edit = subprocess.run(PUSHKIN + ["edit", str(diary)], capture_output=True, text=True, timeout=30, env=env)
        say = subprocess.run(PUSHKIN + ["say", "hello"], capture_output=True, text=True, timeout=30, env=env)
        bridge = subprocess.Popen(PUSHKIN + ["bridge", "--stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=env)
        bridge.stdin.write(json.dumps({"v": 1, "type": "hello", "editor_name": "t"}) + "\n")
        bridge.stdin.flush()
        connection = None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            message = json.loads(bridge.stdout.readline())
            if message["type"] == "connection" and message["state"] == "disconnected":
                connection = message
                break
        bridge.stdin.close()
        bridge.wait(timeout=10)
    finally:
        received = bytes_received(stranger)
    for done in (edit, say):
        assert done.returncode != 0
        assert str(socket_path) in done.stderr and f"uid {stranger_uid}" in done.stderr, done.stderr
    assert connection is not None and f"uid {stranger_uid}" in connection["message"], connection
    assert received and sum(received) == 0, received  # probes connected and sent nothing
    assert diary.read_text(encoding="utf-8") == "Привет, дневник.\n"


def test_a_group_writable_folder_of_ones_own_is_refused(base):
    folder = base / "shared"
    folder.mkdir()
    folder.chmod(0o777)
    done = subprocess.run(PUSHKIN + ["say", "hello"], capture_output=True, text=True, timeout=30,
                          env=victim_env(PUSHKIN_ADDRESS=f"unix://{folder}/pushkin.sock"))
    assert done.returncode != 0
    assert str(folder) in done.stderr and "writable by others" in done.stderr, done.stderr
