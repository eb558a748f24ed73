"""``pushkin say --offline``: run_offline directly, through the ``pushkin`` command, and its errors."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from pushkin.daemon.intent.offline import run_offline


def namespace(doc, utterances, *, cursor=None, select=None, as_json=False):
    return argparse.Namespace(offline=True, doc=str(doc), cursor=cursor, select=select, json=as_json,
                              utterances=list(utterances))


@pytest.fixture
def doc(tmp_path):
    path = tmp_path / "draft.txt"
    path.write_text("Hello world", encoding="utf-8")
    return path


def test_prints_only_the_text_and_never_writes_the_file(doc, capsys):
    assert run_offline(namespace(doc, ["big"], cursor=5)) == 0
    captured = capsys.readouterr()
    assert captured.out == "Hello big world"
    assert doc.read_text(encoding="utf-8") == "Hello world"


def test_cursor_defaults_to_the_end_and_messages_go_to_stderr(doc, capsys):
    assert run_offline(namespace(doc, ["again.", "scratch that", "scratch that"])) == 0
    captured = capsys.readouterr()
    assert captured.out == "Hello world"
    assert "Nothing to scratch." in captured.err


def test_select_is_replaced(doc, capsys):
    assert run_offline(namespace(doc, ["there"], select="6:11")) == 0
    assert capsys.readouterr().out == "Hello there"


def test_json_reports_intents_edits_text_and_selection(tmp_path, capsys):
    path = tmp_path / "ru.txt"
    path.write_text("Привет 👋", encoding="utf-8")
    assert run_offline(namespace(path, ["мир", "удали это", "select all"], as_json=True)) == 0
    result = json.loads(capsys.readouterr().out)
    assert [u["intent"]["kind"] for u in result["utterances"]] == ["dictation", "command", "command"]
    assert result["utterances"][0]["edits"] == [{"start": 8, "end": 8, "text": " мир"}]  # code points
    assert result["text"] == "Привет 👋"
    assert result["selection"] == {"anchor": 0, "active": 8}


@pytest.mark.parametrize("content, options, complaint", [
    (None, {}, "no such file"),
    (b"\xff\xfe bad", {}, "not UTF-8"),
    (b"abc", {"cursor": 4}, "outside the document"),
    (b"abc", {"cursor": -1}, "outside the document"),
    (b"abc", {"select": "1-2"}, "START:END"),
    (b"abc", {"select": "0:9"}, "outside the document"),
    (b"abc", {"cursor": 1, "select": "0:1"}, "not both"),
])
def test_bad_input_exits_2_with_a_clear_error(tmp_path, capsys, content, options, complaint):
    path = tmp_path / "doc.txt"
    if content is not None:
        path.write_bytes(content)
    assert run_offline(namespace(path, ["hello"], **options)) == 2
    captured = capsys.readouterr()
    assert complaint in captured.err and captured.out == ""


def test_directory_is_bad_input(tmp_path, capsys):
    assert run_offline(namespace(tmp_path, ["hello"])) == 2
    assert "directory" in capsys.readouterr().err


def test_command_entry_point(doc):
    result = subprocess.run(
        [sys.executable, "-m", "pushkin.clients.cli", "say", "--offline", "--doc", str(doc), "--cursor", "5",
         "--", "big", "comma"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello big, world"
