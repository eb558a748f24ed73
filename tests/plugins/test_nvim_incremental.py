"""Neovim sends buffer changes as changes (UpdateDocument.changes), not the whole text per keystroke.

The bridge's stdin is recorded (`tee`) on its way from Neovim, so the tests see exactly what the plugin
sent; the daemon's copy is checked against the buffer through a real dictation (its final_text).
"""

from __future__ import annotations

import json
import shlex

import pytest
from plugin_harness import PUSHKIN, Neovim

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def recorded(daemon):
    log = daemon.folder / f"bridge-in-{id(object())}.jsonl"
    bridge = " ".join(shlex.quote(part) for part in [*PUSHKIN, "bridge", "--stdio"])
    editor = Neovim(daemon, bridge_cmd=["sh", "-c", f"tee {shlex.quote(str(log))} | {bridge}"])
    editor.wait_connected()
    yield editor, log
    editor.close()


def sent(log) -> list[dict]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]


def updates_after(log, mark: int) -> list[dict]:
    return [m for m in sent(log)[mark:] if m.get("type") == "update"]


def daemon_copy_matches(editor, daemon, word: str) -> None:
    """Dictate ``word`` at the cursor: the daemon plans against its copy, so its final text is the buffer."""
    editor.settle()
    response = daemon.say(word)
    assert response.applied, response.message
    assert response.final_text == editor.text()


def test_typing_in_a_large_buffer_sends_small_changes(recorded, daemon):
    editor, log = recorded
    line = "Шла Саша по шоссе и сосала сушку; the quick brown fox. " * 2
    editor.nvim.current.buffer[:] = [line] * 2000  # about 220 KB of text
    editor.nvim.current.window.cursor = (1000, 10)
    editor.settle()
    mark = len(sent(log))
    editor.nvim.feedkeys(editor.nvim.replace_termcodes("ix✓<Esc>", True, False, True), "xt", False)
    editor.settle()
    updates = updates_after(log, mark)
    changed = [u for u in updates if "changes" in u]
    assert changed, updates
    assert not any("text" in u for u in updates), "the whole text was sent for a keystroke"
    assert sum(len(json.dumps(u)) for u in updates) < 2000
    assert "".join(c["text"] for u in changed for c in u["changes"]) == "x✓"
    daemon.wait_focused(str(editor.nvim.current.buffer.number))
    daemon_copy_matches(editor, daemon, "and more")


EDITS = [
    # (what a writer does, Neovim commands)
    ("type in the middle of a Russian line", "call cursor(2, 5) | execute 'normal! iпривет '"),
    ("open a new line below", "execute 'normal! 2Goновая строка 🙂'"),
    ("delete a whole line", "3delete"),
    ("delete the last line", "$delete"),
    ("append lines at the end", "call append(line('$'), ['end one', 'конец два'])"),
    ("join two lines", "execute 'normal! 1GJ'"),
    ("substitute across lines", "%s/o/0/g"),
    ("undo the substitution", "undo"),
    ("replace a range of lines", "call setline(1, ['first 🎉', 'second'])"),
    ("delete everything but one line", "2,$delete"),
    ("put the emoji at line start", "execute 'normal! 0i🎉'"),
]


def test_the_daemons_copy_follows_every_kind_of_change(recorded, daemon):
    editor, log = recorded
    editor.nvim.current.buffer[:] = ["Hello world.", "Второй абзац тут.", "Third line 🙂 here.", "Last."]
    editor.nvim.current.window.cursor = (1, 0)
    editor.settle()
    daemon.wait_focused(str(editor.nvim.current.buffer.number))
    mark = len(sent(log))
    for _, command in EDITS:
        editor.nvim.command(command)
        editor.settle()
        editor.nvim.command("normal! G$")
        daemon_copy_matches(editor, daemon, "ok")
    full = [u for u in updates_after(log, mark) if "text" in u]
    assert not full, f"{len(full)} update(s) carried the whole text"
    errors = [m for m in sent(log) if m.get("type") == "error"]
    assert not errors
    assert "daemon:" not in (editor.state().get("message") or "")


def test_edit_reload_sends_the_whole_text_again(recorded, daemon, tmp_path):
    editor, log = recorded
    path = tmp_path / "note.txt"
    path.write_text("on disk\n", encoding="utf-8")
    editor.nvim.command(f"edit {path}")
    editor.settle()
    daemon.wait_focused(str(editor.nvim.current.buffer.number))
    editor.nvim.command("normal! Aтекст")
    editor.settle()
    path.write_text("changed on disk, Ёж\nsecond\n", encoding="utf-8")
    editor.nvim.command("edit!")
    editor.settle()
    assert editor.text() == "changed on disk, Ёж\nsecond"
    editor.nvim.command("normal! G$")
    daemon_copy_matches(editor, daemon, "yes")
