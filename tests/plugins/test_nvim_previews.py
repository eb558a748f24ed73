"""Rewrite previews in Neovim: a proposal is shown in place, and accept / reject (voice, key, command)
apply it as one undo step or drop it.

The daemon is the real daemon with a word-moving stand-in language model (tests/plugins/parrot_serve.py): the
tiny random Gemma's noise is refused by the rewrite guards, and what the model writes does not matter here,
only where it goes. Real Gemma 3 270M rewrites are proven in tests/real/test_real_gemma_rewrite.py.
"""

from __future__ import annotations

import pytest
from plugin_harness import PARROT_SERVE, DaemonProcess, Neovim, short_tmpdir

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def rewriting_daemon():
    process = DaemonProcess(short_tmpdir(), command=PARROT_SERVE)
    process.start()
    yield process
    process.stop()


@pytest.fixture
def editor(rewriting_daemon):
    nvim = Neovim(rewriting_daemon)
    nvim.wait_connected()
    yield nvim
    nvim.close()


def preview(editor):
    return editor.lua("return require('pushkin').preview(0)")


def marks(editor):
    return editor.lua("""
        local ns = vim.api.nvim_create_namespace("pushkin_preview")
        return vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })
    """)


def propose(editor, daemon, sentence="The fox jumps over the dog."):
    """Dictate ``sentence`` into an empty buffer, then "rephrase that": a preview, no change to the text."""
    editor.nvim.current.buffer[:] = [""]
    editor.settle()
    daemon.wait_focused(str(editor.nvim.current.buffer.number))
    assert daemon.say(sentence).applied
    before = editor.text()
    previous = preview(editor)
    response = daemon.say("rephrase that", timeout_s=60, pause_s=1.0)
    assert "Proposed a rewrite" in response.message, response.message
    editor.wait_for(lambda: (preview(editor) or {}).get("proposal_id") not in (None, (previous or {}).get("proposal_id")),
                    timeout_s=10, what="the preview")
    assert editor.text() == before
    return before


def test_a_proposal_shows_old_and_new_text_and_accept_is_one_undo_step(editor, rewriting_daemon):
    before = propose(editor, rewriting_daemon)
    shown = preview(editor)
    assert shown["shown"]
    details = [m[3] for m in marks(editor)]
    old = [d for d in details if d.get("hl_group") == "PushkinOld"]
    assert old and old[0]["end_col"] - 0 >= len("The fox jumps over the dog."), details
    new_text = [chunk[0] for d in details for line in d.get("virt_lines", []) for chunk in line]
    new_text += [chunk[0] for d in details if d.get("virt_text_pos") == "inline" for chunk in d.get("virt_text", [])]
    assert new_text, details
    editor.nvim.command("Pushkin accept")
    editor.wait_for(lambda: editor.text() != before, timeout_s=30, what="the accepted rewrite")
    assert preview(editor) is None and marks(editor) == []
    editor.nvim.command("normal! u")
    assert editor.text() == before


def test_reject_by_key_drops_the_preview_and_keeps_the_text(editor, rewriting_daemon):
    before = propose(editor, rewriting_daemon, "Мороз и солнце, день чудесный.")
    editor.nvim.feedkeys(editor.nvim.replace_termcodes("<Leader>pr", True, False, True), "xt", False)
    editor.settle()
    assert preview(editor) is None and marks(editor) == []
    assert editor.text() == before


def test_spoken_reject_takes_the_preview_down(editor, rewriting_daemon):
    before = propose(editor, rewriting_daemon)
    response = rewriting_daemon.say("reject", pause_s=1.0)
    assert "Rejected" in response.message, response.message
    editor.wait_for(lambda: preview(editor) is None, what="the preview to go")
    assert marks(editor) == [] and editor.text() == before


def test_a_second_proposal_replaces_the_first_and_accept_means_the_one_shown(editor, rewriting_daemon):
    before = propose(editor, rewriting_daemon)
    first = preview(editor)["proposal_id"]
    response = rewriting_daemon.say("rephrase that", timeout_s=60, pause_s=1.0)
    assert "Proposed a rewrite" in response.message, response.message
    editor.wait_for(lambda: (preview(editor) or {}).get("proposal_id", first) != first, timeout_s=10,
                    what="the second preview")
    assert len([m for m in marks(editor) if m[3].get("hl_group") == "PushkinOld"]) == 1
    assert editor.text() == before
    response = rewriting_daemon.say("accept", timeout_s=30, pause_s=1.0)
    assert response.applied, response.message
    editor.wait_for(lambda: preview(editor) is None and editor.text() != before, what="the accepted rewrite")
    # The first proposal was rejected when the second replaced it: nothing is left to accept.
    editor.nvim.command("normal! u")
    assert editor.text() == before


def test_typing_on_the_previewed_lines_drops_the_preview(editor, rewriting_daemon):
    propose(editor, rewriting_daemon)
    editor.nvim.command("normal! Ax")
    editor.settle()
    assert preview(editor) is None and marks(editor) == []
