"""Clean dictation (issue 13 item 4): hesitations dropped, self-corrections resolved, each switchable."""

from __future__ import annotations

import pytest
from intent_markers import render, run

from pushkin.daemon.intent import IntentEngine, IntentSettings, IntentSettingsError, intent_settings_from_dict

CASES = [
    ("So, um, I think we should go.", "So I think we should go."),
    ("Um, I think so.", "I think so."),
    ("I was, uh, thinking about it.", "I was thinking about it."),
    ("I think um we should erm go.", "I think we should go."),
    ("And then, uh.", "And then."),
    ("Я, э-э, не знаю.", "Я не знаю."),
    ("Ну, я думаю, да.", "Я думаю, да."),
    ("Meet at three, actually two.", "Meet at two."),
    ("Встретимся в три, то есть в два.", "Встретимся в два."),
    ("Позвони Ивану, вернее Петру.", "Позвони Петру."),
    ("Send it to John, I mean Mary.", "Send it to Mary."),
    ("Let's meet Tuesday, no, Wednesday.", "Let's meet Wednesday."),
    ("We sold 3 units, sorry, 4 units.", "We sold 4 units."),
    ("Um, meet at three, actually two.", "Meet at two."),
    ("Write to anna dot k at example dot com.", "Write to anna.k@example.com."),
    ("The docs are at docs dot python dot org.", "The docs are at docs.python.org."),
    ("Пишите на ivan собака mail точка ru.", "Пишите на ivan@mail.ru."),
    ("The site at example dot com is down.", "The site at example.com is down."),
]

KEPT = [  # words that only look like fillers or corrections
    "Ну и что?",
    "I like it, actually it's great.",
    "It was three, actually.",
    "No, I don't think so.",
    "The summer was hot, no doubt about it.",
    "I actually like two of them.",
    "It's cold, eh?",
    "Uh-huh, she said.",
    "It was a dot com bubble.",
    "Meet me at home.",
]


@pytest.mark.parametrize("said, written", CASES, ids=[c[0] for c in CASES])
def test_clean_dictation(said, written):
    editor, _ = run("", [said])
    assert render(editor.text, editor.selection) == written + "‸"


@pytest.mark.parametrize("said", KEPT)
def test_sentences_that_only_look_like_fillers_or_corrections_are_kept(said):
    editor, _ = run("", [said])
    assert editor.text == said


def test_each_cleanup_can_be_switched_off():
    engine = IntentEngine(IntentSettings(drop_fillers=False, resolve_corrections=False))
    editor, _ = run("", ["So, um, meet at three, actually two."], engine)
    assert editor.text == "So, um, meet at three, actually two."
    engine = IntentEngine(intent_settings_from_dict({"drop_fillers": False}))
    editor, _ = run("", ["So, um, meet at three, actually two."], engine)
    assert editor.text == "So, um, meet at two."
    engine = IntentEngine(intent_settings_from_dict({"resolve_corrections": False}))
    editor, _ = run("", ["So, um, meet at three, actually two."], engine)
    assert editor.text == "So meet at three, actually two."


def test_addresses_can_be_switched_off():
    engine = IntentEngine(intent_settings_from_dict({"write_addresses": False}))
    editor, _ = run("", ["Write to anna at example dot com."], engine)
    assert editor.text == "Write to anna at example dot com."


def test_literal_text_is_never_cleaned():
    editor, _ = run("", ["type um, three, actually two"])
    assert editor.text == "um, three, actually two"


def test_a_bad_switch_is_named():
    with pytest.raises(IntentSettingsError, match="drop_fillers"):
        intent_settings_from_dict({"drop_fillers": "yes"})
