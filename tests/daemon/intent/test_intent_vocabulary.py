""""Add that to the vocabulary" / "добавь это в словарь": the selection, else the last dictated phrase."""

from __future__ import annotations

import sys
from pathlib import Path

from pushkin.daemon.intent import IntentEngine
from pushkin.proto.types import IntentKind, Selection

sys.path.insert(0, str(Path(__file__).parent))
from test_intent_engine import Editor  # noqa: E402


def test_adds_the_last_dictated_phrase_without_editing():
    editor = Editor(IntentEngine())
    editor.say("Oblonsky.", source="speech")
    plan = editor.say("Add that to the vocabulary.", source="speech")
    assert plan.intent.kind is IntentKind.COMMAND and plan.intent.name == "add_vocabulary"
    assert plan.intent.args["words"] == "Oblonsky" and plan.edits == ()
    assert editor.text == "Oblonsky."
    assert "Oblonsky" in plan.message


def test_adds_the_selection_in_russian():
    editor = Editor(IntentEngine(), "Мы видели Анну Каренину вчера.")
    editor.selection = Selection.span(10, 23)
    plan = editor.say("Добавь это в словарь", source="speech")
    assert plan.intent.name == "add_vocabulary" and plan.intent.args["words"] == "Анну Каренину"
    assert plan.message.startswith("Добавляю") and editor.text == "Мы видели Анну Каренину вчера."


def test_nothing_dictated_is_a_clear_message():
    editor = Editor(IntentEngine(), "typed by hand")
    plan = editor.say("add that to my dictionary")
    assert plan.edits == () and "Nothing has been dictated" in plan.message
    assert "words" not in plan.intent.args


def test_the_words_inside_a_sentence_stay_dictation():
    editor = Editor(IntentEngine())
    editor.say("Please add that to the vocabulary list we share.")
    assert "vocabulary list we share" in editor.text
