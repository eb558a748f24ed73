"""The `pushkin` command as a user runs it: a real daemon subprocess, real editors, real files."""

from __future__ import annotations

import os
import plistlib
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .waiting import wait_for

PUSHKIN = [sys.executable, "-m", "pushkin.clients.cli"]


def run(*args, env=None, timeout=30):
    return subprocess.run(PUSHKIN + list(args), capture_output=True, text=True, timeout=timeout, env=env)


def start_editor(path: Path, env, *flags):
    process = subprocess.Popen(PUSHKIN + ["edit", str(path), *flags], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env=env)
    line = process.stdout.readline()
    assert line.startswith("editing "), line + (process.stdout.read() if process.poll() is not None else "")
    return process


def stop(process):
    process.send_signal(signal.SIGTERM)
    output = process.communicate(timeout=10)[0]
    return process.returncode, output


@pytest.mark.slow
def test_serve_edit_say_end_to_end(folder):
    socket_path = folder / "s.sock"
    env = {**os.environ, "PUSHKIN_ADDRESS": f"unix://{socket_path}"}
    daemon = subprocess.Popen(PUSHKIN + ["serve", "--socket", str(socket_path), "--no-mic"], stderr=subprocess.PIPE, text=True,
                              env=env)
    editors = []
    try:
        wait_for(socket_path.exists, what="the daemon's socket")
        first, second = folder / "first.md", folder / "second.md"
        first.write_text("Первый. ", encoding="utf-8")
        second.write_text("Second: ", encoding="utf-8")
        second.chmod(0o640)
        editors.append(start_editor(first, env))
        # Opened last, so it has the focus. Polling is slowed down so that the change made on disk below is
        # found only when the next batch arrives: the stale path, deterministically.
        editors.append(start_editor(second, env, "--poll-interval", "60"))

        said = run("say", "Привет 👋", env=env)
        assert said.returncode == 0, said.stderr
        assert "dictation" in said.stdout and "applied" in said.stdout
        assert second.read_text(encoding="utf-8") == "Second: Привет 👋"
        assert first.read_text(encoding="utf-8") == "Первый. "  # not focused: untouched
        assert second.stat().st_mode & 0o777 == 0o640  # the atomic write kept the permissions

        # The user appends to the file on disk; the next utterance was planned before the editor saw it, is
        # answered STALE, re-planned, and lands after the user's text.
        with open(second, "a", encoding="utf-8") as handle:
            handle.write(" typed")
        said = run("say", "--json", "again", env=env)
        assert said.returncode == 0, said.stderr
        assert '"stale"' in said.stdout and '"applied": true' in said.stdout
        # The intent engine spaces the dictated word from the typed one.
        assert second.read_text(encoding="utf-8") == "Second: Привет 👋 typed again"

        status = run("status", env=env)
        assert status.returncode == 0 and "editors (2)" in status.stdout and "again" in status.stdout
    finally:
        outputs = [stop(editor) for editor in editors]
        daemon.send_signal(signal.SIGTERM)
        daemon_err = daemon.communicate(timeout=10)[1]
    assert all(code == 0 for code, _ in outputs), outputs
    assert "insert at 8: 'Привет 👋'" in outputs[1][1]
    assert daemon.returncode == 0, daemon_err
    assert not socket_path.exists()


def test_edit_refuses_a_non_utf8_file_and_leaves_it_alone(folder):
    path = folder / "latin1.txt"
    original = "café".encode("latin-1")
    path.write_bytes(original)
    done = run("edit", str(path), env={**os.environ, "PUSHKIN_ADDRESS": f"unix://{folder}/none.sock"})
    assert done.returncode == 2
    assert "not UTF-8" in done.stderr and "unchanged" in done.stderr
    assert path.read_bytes() == original


def test_commands_without_a_daemon_say_how_to_start_it(folder):
    env = {**os.environ, "PUSHKIN_ADDRESS": f"unix://{folder}/none.sock"}
    for args in (["say", "hello"], ["status"], ["edit", str(folder / "new.md")]):
        done = run(*args, env=env)
        assert done.returncode == 1 and "pushkin serve" in done.stderr, (args, done.stderr)
    done = run("say", "--cursor", "3", "hi", env=env)
    assert done.returncode == 2 and "--offline" in done.stderr


def test_serve_refuses_bad_settings_and_remote_addresses(folder):
    config = folder / "config.toml"
    config.write_text("[server]\nport = 1\n")
    done = run("serve", "--config", str(config))
    assert done.returncode == 2 and "unknown key 'port'" in done.stderr
    done = run("serve", "--tcp", "0.0.0.0:0", "--token-file", str(folder / "t"))
    assert done.returncode == 1 and "--allow-remote" in done.stderr


def test_help_is_fast_and_lazy():
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "pushkin.clients.cli", "--help"],
                          capture_output=True, text=True, timeout=30)
    elapsed = time.monotonic() - started
    assert done.returncode == 0 and "install-service" in done.stdout
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "grpc" not in imported and "pushkin.daemon.server" not in imported
    assert elapsed < 5  # generous for a loaded CI machine; the real figure is ~0.1 s


def test_version_is_the_installed_distribution_s():
    from importlib import metadata

    done = run("--version")
    assert done.returncode == 0 and done.stdout == f"lil Pushkin {metadata.version('lil-pushkin')}\n"


def test_say_offline_needs_a_document(folder):
    done = run("say", "--offline", "hello")
    assert done.returncode == 2 and "--doc FILE" in done.stderr


def test_systemd_unit(folder):
    done = run("install-service", "--print", "--platform", "linux")
    assert done.returncode == 0
    unit = done.stdout.split("\n", 1)[1]
    for line in ("WantedBy=graphical-session.target", "Restart=on-failure", "Type=simple"):
        assert line in unit
    assert "ExecStart=" + sys.executable in unit and unit.rstrip().endswith("graphical-session.target")
    if shutil.which("systemd-analyze"):
        path = folder / "pushkin.service"
        path.write_text(unit)
        verified = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True, timeout=30)
        assert verified.returncode == 0, verified.stderr
        assert "pushkin.service" not in verified.stderr, verified.stderr  # no warnings about our unit


def test_launch_agent_plist():
    done = run("install-service", "--print", "--platform", "macos")
    assert done.returncode == 0
    plist = plistlib.loads(done.stdout.split("\n", 1)[1].encode())
    assert plist["RunAtLoad"] is True and plist["KeepAlive"] == {"SuccessfulExit": False}
    assert plist["ProgramArguments"][-1] == "serve"


def test_install_and_uninstall_write_and_remove_the_unit(folder):
    env = {**os.environ, "XDG_CONFIG_HOME": str(folder)}
    done = run("install-service", "--platform", "linux", "--no-enable", env=env)
    unit = folder / "systemd" / "user" / "pushkin.service"
    assert done.returncode == 0 and unit.exists() and "Restart=on-failure" in unit.read_text()
    done = run("uninstall-service", "--platform", "linux", "--no-enable", env=env)
    assert done.returncode == 0 and not unit.exists()
