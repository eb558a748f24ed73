"""The language pin said by voice: "dictate in Russian" / "диктуй по-русски", and cleared again."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pushkin.daemon.intent import IntentEngine
from pushkin.proto.types import IntentKind

sys.path.insert(0, str(Path(__file__).parent))
from test_intent_engine import Editor  # noqa: E402


@pytest.mark.parametrize("said, language", [
    ("Dictate in Russian.", "ru"), ("dictate in English", "en"), ("Диктуй по-русски.", "ru"),
    ("диктуй по русски", "ru"), ("Диктуй по-английски!", "en"),
    ("Dictate in any language.", ""), ("detect the language", ""), ("Определяй язык сам.", ""),
    ("диктуй на любом языке", ""),
])
def test_pin_commands(said, language):
    editor = Editor(IntentEngine(), "Draft.")
    plan = editor.say(said, source="speech")
    assert plan.intent.kind is IntentKind.COMMAND and plan.intent.name == "pin_language"
    assert plan.intent.args["lang"] == language and plan.edits == () and plan.message
    assert editor.text == "Draft."


def test_the_words_inside_a_sentence_stay_dictation():
    editor = Editor(IntentEngine())
    editor.say("I dictate in Russian every morning.")
    assert editor.text == "I dictate in Russian every morning."
