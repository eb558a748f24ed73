"""The Neovim plugin in Debian's headless Neovim, against `pushkin serve` as a subprocess."""

from __future__ import annotations

import subprocess
import time

import pytest
from plugin_harness import PUSHKIN, DaemonProcess, Neovim, short_tmpdir

from pushkin.proto.v1 import pushkin_pb2 as pb

pytestmark = pytest.mark.timeout(60)


def put(nvim, lines, row, col_text):
    """Set the buffer and put the cursor after ``col_text`` on 1-based ``row``; report it to the daemon."""
    nvim.nvim.current.buffer[:] = lines
    nvim.nvim.current.window.cursor = (row, len(col_text.encode("utf-8")))
    nvim.settle()


def inserted_at(before: str, after: str, offset: int) -> str:
    """What was inserted into ``before`` at ``offset`` to give ``after`` (asserting nothing else changed)."""
    assert after.startswith(before[:offset]), (before, after)
    assert after.endswith(before[offset:]), (before, after)
    return after[offset:len(after) - (len(before) - offset)]


def test_pushkin_say_dictates_at_the_cursor(nvim, daemon):
    put(nvim, ["Hello world"], 1, "Hello")
    result = subprocess.run([*PUSHKIN, "say", "dear"], env=daemon.env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    nvim.wait_for(lambda: "dear" in nvim.text(), what="the dictation to arrive")
    assert inserted_at("Hello world", nvim.text(), 5).strip() == "dear"


def test_the_daemons_copy_matches_the_buffer_after_dictation(nvim, daemon):
    put(nvim, ["first line", "second"], 2, "sec")
    response = daemon.say("ond and more")
    assert response.applied, response.message
    assert response.final_text == nvim.text()


def test_a_command_changes_the_buffer(nvim, daemon):
    put(nvim, ["Tea is ready."], 1, "Tea is ready.")
    assert daemon.say("And the cake").applied
    assert "cake" in nvim.text()
    response = daemon.say("delete that", pause_s=1.0)  # a command is its own pause-delimited utterance
    assert response.intent.kind == pb.Intent.COMMAND, response
    assert response.applied, response.message
    assert "cake" not in nvim.text() and "delete" not in nvim.text()
    assert nvim.text().rstrip() == "Tea is ready."
    assert response.final_text == nvim.text()


def test_u_undoes_exactly_one_voice_action(nvim, daemon):
    put(nvim, ["Start."], 1, "Start.")
    nvim.nvim.command("let &g:undolevels = &g:undolevels")
    assert daemon.say("One").applied
    after_one = nvim.text()
    assert daemon.say("two").applied
    after_two = nvim.text()
    assert "One" in after_one and "two" in after_two and after_one != after_two
    nvim.nvim.command("normal! u")
    assert nvim.text() == after_one
    nvim.nvim.command("normal! u")
    assert nvim.text() == "Start."
    nvim.nvim.command("redo")
    assert nvim.text() == after_one


def test_typing_while_an_edit_is_in_flight_is_never_lost(nvim, daemon):
    put(nvim, ["Draft one. Draft two."], 1, "Draft one.")
    # The utterance is planned against the buffer as the daemon knows it; while the batch is on its way,
    # Neovim is busy (a blocking sleep) and then the user types. The batch arrives stale, is rejected with
    # the current text, and the daemon re-plans: both the typing and the dictation end up in the buffer.
    nvim.nvim.exec_lua("vim.loop.sleep(400); vim.cmd('normal! Atyped by hand')", async_=True)
    time.sleep(0.05)  # Neovim is now asleep: the batch waits in its input while the user's typing comes first
    response = daemon.say("spoken words")
    assert response.applied, response.message
    assert response.batches[0].outcome == pb.EditResult.STALE
    assert response.batches[-1].outcome == pb.EditResult.APPLIED
    text = nvim.text()
    assert text.startswith("Draft one. Draft two.typed by hand"), text
    assert "spoken words" in text
    assert response.final_text == text


def test_only_the_focused_buffer_receives_dictation(nvim, daemon):
    nvim.nvim.current.buffer[:] = ["first buffer"]
    first = nvim.nvim.current.buffer
    nvim.nvim.command("enew")
    nvim.nvim.current.buffer[:] = ["second buffer"]
    second = nvim.nvim.current.buffer
    nvim.nvim.current.window.cursor = (1, len("second buffer"))
    nvim.settle()
    daemon.wait_focused(str(second.number))
    assert daemon.say("gets it").applied
    assert "gets it" in nvim.text(second)
    assert nvim.text(first) == "first buffer"
    nvim.nvim.command(f"buffer {first.number}")  # BufEnter: the focus moves back
    nvim.nvim.current.window.cursor = (1, 0)
    nvim.settle()
    daemon.wait_focused(str(first.number))
    assert daemon.say("Now").applied
    assert "Now" in nvim.text(first)
    assert nvim.text(second).count("gets it") == 1 and "Now" not in nvim.text(second)


@pytest.mark.parametrize("lines, row, before_cursor, utterance", [
    (["Привет, 👋 мир"], 1, "Привет, 👋", "ёжик"),            # after an emoji (4 bytes, 1 code point)
    (["Ещё строка", "Съешь же ещё"], 2, "Съешь", "этих мягких булок"),  # second line, after Cyrillic
    (["naïve café"], 1, "naïve", "résumé"),                      # Latin with diacritics
])
def test_russian_and_multibyte_text_at_edit_boundaries(nvim, daemon, lines, row, before_cursor, utterance):
    put(nvim, lines, row, before_cursor)
    before = "\n".join(lines)
    offset = sum(len(line) + 1 for line in lines[:row - 1]) + len(before_cursor)
    response = daemon.say(utterance)
    assert response.applied, response.message
    assert inserted_at(before, nvim.text(), offset).strip() == utterance
    assert response.final_text == nvim.text()
    # The cursor sits right after the dictation, in byte columns.
    line = nvim.nvim.current.buffer[nvim.nvim.current.window.cursor[0] - 1]
    assert line.encode("utf-8")[:nvim.nvim.current.window.cursor[1]].decode("utf-8").endswith(utterance)


def test_the_daemon_going_away_is_shown_and_the_plugin_reconnects(daemon):
    private = DaemonProcess(short_tmpdir())
    private.start()
    editor = Neovim(private, extra_setup=", float = true")
    try:
        editor.wait_connected()
        private.stop()
        editor.wait_for(lambda: editor.state()["connection"] != "connected", what="the plugin to notice")
        assert editor.lua("return require('pushkin').statusline()") == "pushkin: no daemon"
        editor.nvim.command("Pushkin status")  # shown, not thrown: no error reaches the user
        private.start()
        editor.wait_connected()
        editor.nvim.current.buffer[:] = ["back"]
        editor.nvim.current.window.cursor = (1, 4)
        editor.settle()
        assert private.say("again").applied
        assert "again" in editor.text()
    finally:
        editor.close()
        private.stop()


def test_sleep_and_wake_reach_the_daemon_and_the_statusline(nvim, daemon):
    nvim.nvim.command("Pushkin sleep")
    nvim.wait_for(lambda: nvim.state()["listen"] == "sleeping", what="the sleeping state")
    assert daemon.stub.GetStatus(pb.GetStatusRequest()).state == pb.SLEEPING
    assert nvim.lua("return require('pushkin').statusline()") == "🎙 sleeping"
    nvim.nvim.command("Pushkin wake")
    nvim.wait_for(lambda: nvim.state()["listen"] == "listening", what="the listening state")
    assert daemon.stub.GetStatus(pb.GetStatusRequest()).state == pb.LISTENING


def test_interim_transcripts_show_in_the_statusline_and_the_float(daemon):
    editor = Neovim(daemon, extra_setup=", float = true")
    try:
        editor.wait_connected()
        wins = len(editor.nvim.windows)
        editor.lua("require('pushkin').handle_message({ v = 1, type = 'transcript', utterance_id = 'u9', "
                   "text = 'Съешь же ещё этих', final = false })")
        assert editor.lua("return require('pushkin').statusline()").endswith("“Съешь же ещё этих”")
        assert len(editor.nvim.windows) == wins + 1  # the floating window
        floats = [w for w in editor.nvim.windows if editor.nvim.api.win_get_config(w)["relative"] != ""]
        assert floats and floats[0].buffer[:] == ["Съешь же ещё этих"]
        editor.lua("require('pushkin').handle_message({ v = 1, type = 'transcript', utterance_id = 'u9', "
                   "text = 'Съешь же ещё этих мягких булок', final = true })")
        assert "“" not in editor.lua("return require('pushkin').statusline()")
        assert len(editor.nvim.windows) == wins
    finally:
        editor.close()


def test_checkhealth_reports_the_connection(nvim):
    nvim.nvim.command("checkhealth pushkin")
    report = "\n".join(nvim.nvim.current.buffer[:])
    assert "OK: Neovim 0." in report
    assert "connected (session" in report


def stop(editor: Neovim) -> None:
    # :Pushkin stop mutes first and lets the bridge go once the daemon answered.
    editor.nvim.command("Pushkin stop")
    editor.wait_for(lambda: editor.state()["bridge"] == "stopped", what="the bridge to stop")


def test_a_bridge_that_cannot_run_or_exits_is_shown_and_retried(daemon):
    editor = Neovim(daemon)
    try:
        editor.wait_connected()
        stop(editor)
        # A command that does not exist: shown, retried with a growing delay, never thrown.
        editor.lua("require('pushkin').config.cmd = { 'no-such-pushkin-bridge' }")
        editor.nvim.command("Pushkin start")
        editor.wait_for(lambda: "cannot run no-such-pushkin-bridge" in (editor.state().get("message") or ""),
                        what="the failed start to be shown")
        assert editor.state()["bridge"] == "restarting"
        # A bridge that exits at once: its exit code is shown and it is started again.
        stop(editor)
        editor.lua("require('pushkin').config.cmd = { 'sh', '-c', 'exit 3' }")
        editor.nvim.command("Pushkin start")
        editor.wait_for(lambda: "the bridge exited (code 3); restarting" in (editor.state().get("message") or ""),
                        what="the exit to be shown")
        # Back to the real bridge: the next restart connects.
        editor.lua("require('pushkin').config.cmd = ...", [*PUSHKIN, "bridge", "--stdio"])
        editor.wait_connected()
    finally:
        editor.close()


def test_a_batch_that_reaches_a_stopped_neovim_after_its_expiry_is_refused(nvim, daemon):
    import os
    import signal

    put(nvim, ["Draft"], 1, "Draft")
    pid = nvim.nvim.call("getpid")
    os.kill(pid, signal.SIGSTOP)
    try:
        response = daemon.say(" twice", timeout_s=0.5)
    finally:
        os.kill(pid, signal.SIGCONT)
    assert not response.applied and "unknown" in response.message and "not applied" not in response.message
    assert response.batches and response.batches[0].batch.expires_at_unix_ms > 0
    nvim.settle()
    time.sleep(0.3)
    nvim.settle()
    assert nvim.text() == "Draft"  # read after its expiry: refused, never applied behind the user's back
    again = daemon.say(" twice")
    assert again.applied, again.message
    assert nvim.text() == "Draft twice" and again.final_text == nvim.text()
