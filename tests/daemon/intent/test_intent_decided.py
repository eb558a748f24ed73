"""Output-language commands as the engine's: the same plan as the spoken words, refusals, replace_all."""

from __future__ import annotations

import dataclasses

import pytest

from pushkin.daemon.intent import IntentEngine
from pushkin.daemon.intent.decided import UndecidableCommand, output_for, reading_of_command
from pushkin.daemon.planning import DecidedCommand, DocumentSnapshot, Modes, Utterance
from pushkin.model.output_language import CommandOutput, parse_output_line
from pushkin.proto.types import IntentKind, ListenState, Selection

TEXT = "The red car stopped. Anna saw the car.\n\nThe car was old, the car was red."
CURSOR = TEXT.index("Anna") + 4


def _plan(utterance: Utterance, text: str = TEXT, cursor: int = CURSOR, modes: Modes = Modes()):
    return IntentEngine().plan(utterance, DocumentSnapshot("d", text, 1, Selection.cursor(cursor)), modes)


def _same(plan_a, plan_b) -> None:
    strip = lambda plan: dataclasses.replace(plan, undo_group="", intent=dataclasses.replace(plan.intent, text=""))  # noqa: E731
    assert strip(plan_a) == strip(plan_b)


@pytest.mark.parametrize("words, line", [
    ("replace Anna with Peter", 'command: replace x="Anna" y="Peter"'),
    ("delete the last three words", "command: delete unit=word count=3"),
    ("select the next word", "command: select unit=word which=next"),
    ("delete the previous sentence", "command: delete unit=sentence which=previous"),
    ("go to the end of the paragraph", "command: go_to_unit edge=end unit=paragraph"),
    ("move left two words", "command: move_words dir=left count=2"),
    ("backspace 4 times", "command: backspace count=4"),
    ("type hello world", 'command: literal text="hello world"'),
    ("insert before Anna", 'command: insert_at side=before x="Anna"'),
    ("select all", "command: select unit=all"),
    ("comma", "command: punctuation mark=comma"),
    ("открыть кавычки", "command: punctuation mark=open_angle_quote"),
    ("dictate in russian", "command: pin_language lang=ru"),
    ("replace every car with bus in this paragraph", 'command: replace_all x="car" y="bus" scope=paragraph'),
    ("замени все машину на автобус", 'command: replace_all x="машину" y="автобус" scope=document'),
])
def test_a_line_plans_as_the_words_that_say_it(words, line):
    reading = reading_of_command(parse_output_line(line))
    decided = _plan(Utterance(reading.phrase, command=reading.command, source="speech-llm",
                              decided_as=IntentKind.COMMAND))
    assert decided.intent.kind is IntentKind.COMMAND
    _same(decided, _plan(Utterance(words, source="speech-llm", decided_as=IntentKind.COMMAND)))
    assert output_for(decided.intent.name, IntentEngine().classify(words).args, words) == parse_output_line(line)


def test_replace_all_edits_every_whole_word_in_its_scope_keeping_capitals():
    cursor = TEXT.index("was old")
    paragraph = _plan(Utterance("replace every car with bus in this paragraph"), cursor=cursor)
    assert paragraph.intent.name == "replace_all" and paragraph.intent.args["replaced"] == "2"
    assert [(TEXT[e.start:e.end], e.text) for e in paragraph.edits] == [("car", "bus"), ("car", "bus")]
    assert all(e.start > TEXT.index("\n\n") for e in paragraph.edits)
    everywhere = _plan(Utterance("replace all the with a everywhere"), cursor=cursor)
    assert [e.text for e in everywhere.edits] == ["A", "a", "A", "a"]  # "The" → "A"; "stopped" untouched
    missing = _plan(Utterance("replace every boat with bus"))
    assert missing.nothing_to_act_on and not missing.edits


def test_a_decided_command_is_never_taken_for_a_sentence():
    """Words "replace X with Y" long enough to be a sentence are dictated when X is absent; the same command
    decided by the speech-LLM is a refusal (the daemon then decides the cascade's reading)."""
    words = "replace the old tires with new ones before winter"
    assert _plan(Utterance(words)).intent.kind is IntentKind.DICTATION
    reading = reading_of_command(CommandOutput("replace", {"x": "the old tires", "y": "new ones before winter"}))
    plan = _plan(Utterance(reading.phrase, command=reading.command))
    assert plan.nothing_to_act_on and plan.intent.kind is IntentKind.COMMAND and not plan.edits


def test_a_decided_wake_wakes_and_other_commands_sleep_on():
    asleep = Modes(ListenState.SLEEPING)
    assert _plan(Utterance("wake up", command=DecidedCommand("wake")), modes=asleep).modes == Modes()
    assert _plan(Utterance("undo", command=DecidedCommand("undo")), modes=asleep).intent.kind is IntentKind.IGNORED


@pytest.mark.parametrize("output, reason", [
    (CommandOutput("delete", {"unit": "sentence", "count": "3"}), "takes no count"),
    (CommandOutput("select", {"unit": "word", "which": "this"}), "which=last"),
    (CommandOutput("delete", {"unit": "all"}), "select unit=all"),
    (CommandOutput("select", {"unit": "all", "count": "2"}), "select unit=all"),
    (CommandOutput("format_disk", {}), "no engine command"),
])
def test_lines_the_engine_cannot_act_on_are_refused(output, reason):
    with pytest.raises(UndecidableCommand, match=reason):
        reading_of_command(output)


def test_what_the_language_cannot_say_has_no_line():
    assert output_for("backspace", {"count": "500"}) is None
    assert output_for("literal", {"text": "x" * 201}) is None
    assert output_for("dictate", {"text": "hello"}) is None
    assert output_for("punctuation", {"mark": '"'}) is None  # open or close? the words say which
    assert output_for("punctuation", {"mark": '"'}, "close quote") == CommandOutput("punctuation", {"mark": "close_quote"})
