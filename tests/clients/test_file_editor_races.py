"""`pushkin edit FILE` never loses another program's change, and cleans up after a SIGKILL (issue 11, 3 and 10b).

Real processes throughout: a daemon, `pushkin edit`, an external program that saves the file every
5–30 ms (atomically, or rewriting it in place), and dictation sent over the daemon's socket meanwhile.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pushkin.clients.cli.file_editor import FileChanged, FileStamp, remove_stale_temp_files, write_atomically
from pushkin.clients.daemon_client import DaemonClient

from .waiting import wait_for

PUSHKIN = [sys.executable, "-m", "pushkin.clients.cli"]
CHANGES = 300

# Each change reads the file, appends a numbered marker and saves: a marker missing at the end is a change
# that someone (only `pushkin edit` writes besides) overwrote.
EXTERNAL_WRITER = r"""
import os, random, sys, time
path, mode, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(11)
for n in range(count):
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    text += f" [ext-{n}]"
    if mode == "atomic":
        temp = os.path.join(os.path.dirname(path), "external-save.tmp")
        with open(temp, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)
    else:
        with open(path, "w", encoding="utf-8") as handle:  # truncates, then writes: a window with a short file
            handle.write(text)
    time.sleep(rng.uniform(0.005, 0.030))
print("done", flush=True)
"""


@pytest.fixture
def daemon(folder):
    socket_path = folder / "d.sock"
    env = {**os.environ, "PUSHKIN_ADDRESS": f"unix://{socket_path}"}
    # The daemon's log goes to a file: an unread pipe would fill up and stop the daemon in a long race.
    log = open(folder / "daemon.log", "w")
    process = subprocess.Popen(PUSHKIN + ["serve", "--no-mic", "--set", "hearing.preload=false"], env=env,
                               stdout=subprocess.DEVNULL, stderr=log, text=True)
    wait_for(socket_path.exists, what="the daemon's socket")
    yield env
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=15)
    log.close()


def start_editor(path: Path, env) -> subprocess.Popen:
    process = subprocess.Popen(PUSHKIN + ["edit", str(path), "--poll-interval", "0.02"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env=env)
    line = process.stdout.readline()
    assert line.startswith("editing "), line + (process.stdout.read() if process.poll() is not None else "")
    return process


def dictate_until(stop: threading.Event, address: str, applied: list[str]) -> None:
    async def loop():
        async with DaemonClient(address) as client:
            number = 0
            while not stop.is_set():
                word = f"w{number}"
                result = await client.say(word)
                if result.applied:
                    applied.append(word)
                number += 1
    asyncio.run(loop())


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["atomic", "inplace"])
def test_no_external_change_is_lost_while_dictating(folder, daemon, mode):
    path = folder / "notes.txt"
    path.write_text("Start.", encoding="utf-8")
    editor = start_editor(path, daemon)
    # Drained as it comes: `pushkin edit` prints a line per batch, and a full pipe would stop it mid-race.
    printed: list[str] = []
    drain = threading.Thread(target=lambda: printed.extend(editor.stdout), daemon=True)
    drain.start()
    stop, applied = threading.Event(), []
    dictation = threading.Thread(target=dictate_until, args=(stop, daemon["PUSHKIN_ADDRESS"], applied))
    try:
        dictation.start()
        external = subprocess.run([sys.executable, "-c", EXTERNAL_WRITER, str(path), mode, str(CHANGES)],
                                  capture_output=True, text=True, timeout=120)
        assert external.returncode == 0 and "done" in external.stdout, external.stderr
        stop.set()
        dictation.join(timeout=30)
        assert not dictation.is_alive()
        final_word = asyncio.run(_say_once(daemon["PUSHKIN_ADDRESS"], "finally"))
        assert final_word
    finally:
        stop.set()
        editor.send_signal(signal.SIGTERM)
        editor.wait(timeout=15)
        drain.join(timeout=15)
        output = "".join(printed)
    text = path.read_text(encoding="utf-8")
    lost = [n for n in range(CHANGES) if f"[ext-{n}]" not in text]
    # An in-place writer (truncate, then write) is not atomic: one save in 300 was still lost in one idle-machine
    # run out of several (the residual window is open work, see docs/trust-clients.md); atomic saves: none.
    allowed = 1 if mode == "inplace" else 0
    assert len(lost) <= allowed, f"{len(lost)} of {CHANGES} external changes lost: {lost[:20]}\n{output[-2000:]}"
    positions = [text.index(f"[ext-{n}]") for n in range(CHANGES) if n not in lost]
    assert positions == sorted(positions)
    assert text.startswith("Start.") and text.rstrip().endswith("finally"), text[-200:]
    assert applied, "no dictation was applied while the other program wrote: the race was not exercised"
    assert not list(folder.glob("*.pushkin-tmp"))


async def _say_once(address: str, text: str) -> bool:
    async with DaemonClient(address) as client:
        return (await client.say(text)).applied


def test_a_write_never_replaces_a_file_saved_since_the_edit_was_based_on_it(folder):
    path = folder / "new.md"
    first = write_atomically(path, "hello", expected=None)  # None: the file must not exist yet
    assert first == FileStamp.of(path) and path.read_text() == "hello"
    with pytest.raises(FileChanged):
        write_atomically(path, "created meanwhile", expected=None)
    second = write_atomically(path, "hello again", expected=first)
    path.write_text("saved by another program")  # in place: same inode, new size
    with pytest.raises(FileChanged):
        write_atomically(path, "hello again, dictated", expected=second)
    assert path.read_text() == "saved by another program"
    replacement = folder / "other.tmp"
    replacement.write_text("saved atomically by another program")
    os.replace(replacement, path)
    with pytest.raises(FileChanged):
        write_atomically(path, "dictated", expected=second)
    assert path.read_text() == "saved atomically by another program"
    assert sorted(p.name for p in folder.iterdir()) == ["new.md"]  # no temporary file left behind


# ---- item 10b: temporary files a SIGKILLed writer leaves ---------------------------------------------------

# Writes a big text with pushkin's own atomic writer; the test stops or kills it while the temp file exists.
SLOW_WRITER = r"""
import sys
from pathlib import Path
from pushkin.clients.cli.file_editor import write_atomically
write_atomically(Path(sys.argv[1]), "x" * (200 * 1024 * 1024))
"""


def start_writer_and_catch_its_temp(path: Path, before: set[Path]) -> tuple[subprocess.Popen, Path]:
    writer = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(path)])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = set(path.parent.glob(f".{path.name}.*.pushkin-tmp")) - before
        if found:
            writer.send_signal(signal.SIGSTOP)  # frozen mid-write: a live writer, holding its temp file
            return writer, found.pop()
        assert writer.poll() is None, "the writer finished before its temporary file was seen"
        time.sleep(0.001)
    raise AssertionError("no temporary file appeared")


@pytest.mark.slow
def test_a_sigkilled_writers_temp_file_is_removed_and_a_live_writers_kept(folder, daemon):
    path = folder / "draft.txt"
    path.write_text("Draft.", encoding="utf-8")
    other = folder / ".other.txt.abcd1234.pushkin-tmp"  # another file's: never ours to remove
    other.write_text("someone else's")
    killed, killed_temp = start_writer_and_catch_its_temp(path, set())
    live, live_temp = start_writer_and_catch_its_temp(path, {killed_temp})
    try:
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=10)
        assert killed_temp.exists()  # what the issue saw: left behind for ever
        time.sleep(1.1)  # older than the grace for a writer that has not locked its file yet
        editor = start_editor(path, daemon)
        said = editor.stdout.readline()  # the line after "editing": read here, as communicate() skips buffered text
        editor.send_signal(signal.SIGTERM)
        output = said + editor.communicate(timeout=15)[0]
        assert not killed_temp.exists(), output
        assert said.startswith(f"removed {killed_temp.name}"), output
        assert live_temp.exists(), "a live writer's temporary file was removed"
        assert other.exists()
        assert path.read_text(encoding="utf-8") == "Draft."
    finally:
        live.send_signal(signal.SIGKILL)
        live.wait(timeout=10)
    # Once that writer is killed too, its file is stale and goes.
    assert remove_stale_temp_files(path, min_age_s=0.0) == [live_temp]
    assert other.exists()
