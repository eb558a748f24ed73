"""The client library without a daemon: the buffer's version checks, offsets, and no torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pushkin.clients.buffer import EditorBuffer
from pushkin.clients.offsets import code_points_to_utf8, code_points_to_utf16, utf8_to_code_points, utf16_to_code_points
from pushkin.proto import convert
from pushkin.proto.textedit import EditError
from pushkin.proto.types import (
    EditBatch,
    EditOutcome,
    EditResult,
    Focus,
    Hello,
    Intent,
    IntentKind,
    OpenDocument,
    Selection,
    SentBatch,
    TextEdit,
    UpdateDocument,
    UtteranceResult,
)


def test_buffer_applies_at_its_version_and_answers_stale_otherwise():
    buffer = EditorBuffer("d", text="Привет", version=3)
    result = buffer.apply_batch(EditBatch(1, "d", 3, (TextEdit(6, 6, ", мир"),), Selection.cursor(11)))
    assert result.outcome is EditOutcome.APPLIED and result.version == 4 and buffer.text == "Привет, мир"
    stale = buffer.apply_batch(EditBatch(2, "d", 3, (TextEdit(0, 0, "X"),)))
    assert stale.outcome is EditOutcome.STALE and stale.text == "Привет, мир" and stale.version == 4
    assert buffer.text == "Привет, мир"


def test_buffer_fails_bad_ranges_without_changing_anything():
    buffer = EditorBuffer("d", text="abc", version=1)
    result = buffer.apply_batch(EditBatch(1, "d", 1, (TextEdit(2, 9, "x"),)))
    assert result.outcome is EditOutcome.FAILED and "past the end" in result.error
    result = buffer.apply_batch(EditBatch(2, "d", 1, (TextEdit(0, 1, "x"),), Selection.cursor(99)))
    assert result.outcome is EditOutcome.FAILED
    assert (buffer.text, buffer.version) == ("abc", 1)
    assert buffer.apply_batch(EditBatch(3, "other", 1, ())).outcome is EditOutcome.FAILED


def test_typing_grows_the_version_and_describes_the_change():
    buffer = EditorBuffer("d", text="ab", version=1, selection=Selection.cursor(2))
    update = buffer.type_edits([TextEdit(2, 2, "🙂")])
    assert update == UpdateDocument("d", 2, changes=(TextEdit(2, 2, "🙂"),), selection=Selection.cursor(3))
    assert buffer.replace_all("new").version == 3


def test_utf16_and_utf8_offsets_never_split_a_character():
    text = "a👋é"
    assert utf16_to_code_points(text, 3) == 2 and code_points_to_utf16(text, 2) == 3
    with pytest.raises(EditError, match="splits"):
        utf16_to_code_points(text, 2)  # between the emoji's surrogates
    assert utf8_to_code_points("яa", 2) == 1 and code_points_to_utf8("яa", 1) == 2
    with pytest.raises(EditError, match="splits"):
        utf8_to_code_points("яa", 1)
    with pytest.raises(EditError, match="past the end"):
        utf16_to_code_points(text, 9)


@pytest.mark.parametrize("value", [
    Hello("nvim", "0.9", 1, ("interim",), "t"),
    OpenDocument("d", "Ёж 👋", 4, Selection(1, 3), "markdown", "/x.md"),
    UpdateDocument("d", 5, text="x", selection=Selection.cursor(1)),
    UpdateDocument("d", 6, changes=(TextEdit(0, 1, "y"),)),
    Focus("d", False),
    EditResult(3, "d", EditOutcome.STALE, 9, "текст", Selection(0, 2)),
])
def test_editor_messages_round_trip(value):
    assert convert.editor_event_from_pb(convert.editor_event_to_pb(value)) == value


def test_utterance_results_round_trip():
    batch = EditBatch(1, "d", 2, (TextEdit(0, 0, "a"),), Selection.cursor(1), "g", "dictation")
    result = UtteranceResult(Intent(IntentKind.COMMAND, "scratch_that", {"n": "1"}, "scratch that", "grammar"),
                             (SentBatch(batch, EditOutcome.APPLIED, "e#s1"),), "ok", "d", True, "a", Selection.cursor(1))
    assert convert.utterance_result_from_pb(convert.utterance_result_to_pb(result)) == result


def test_the_client_library_and_cli_never_import_torch():
    code = ("import sys; import pushkin.clients.editor, pushkin.clients.daemon_client, pushkin.clients.cli.file_editor;"
            "from pushkin.clients.cli import build_parser; build_parser();"
            "bad = [m for m in ('torch', 'transformers', 'faster_whisper') if m in sys.modules]; print(bad)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
