"""A sentence the VAD split at a pause stays one sentence; a part that ended its sentence keeps the next capital."""

from __future__ import annotations

import pytest

from pushkin.daemon.intent import IntentEngine
from pushkin.daemon.intent.formatting import continues_sentence
from pushkin.daemon.intent.offline import SimulatedEditor
from pushkin.daemon.planning import DocumentSnapshot, Modes, Utterance
from pushkin.proto.types import Selection


class Dictation(SimulatedEditor):
    """Spoken parts through the engine, each with the pause the VAD saw before it."""

    def __init__(self) -> None:
        super().__init__("doc", "", Selection.cursor(0))
        self.engine = IntentEngine()

    def say(self, spoken: str, pause_before_s: float = 0.5) -> None:
        snapshot = self.snapshot()
        plan = self.engine.plan(Utterance(spoken, pause_before_s, 0.5, "", "speech"), snapshot, Modes())
        self.apply(plan)
        self.engine.applied(snapshot, plan, self.version)


@pytest.mark.parametrize("parts, expected", [
    # the first part could not end there: Whisper's period goes, the continuation is lowercased
    (["We met at the.", "Station at noon."], "We met at the station at noon."),
    (["Our new line of.", "Shoes sells well."], "Our new line of shoes sells well."),
    (["Мы пришли в.", "Парк утром."], "Мы пришли в парк утром."),
    # the recognizer itself heard a continuation
    (["The trial period.", "ends in May."], "The trial period ends in May."),
    # a part that reads as a complete sentence, with no mark: the next one keeps its capital
    (["It was late", "We left."], "It was late. We left."),
    (["Мы ушли", "Он остался."], "Мы ушли. Он остался."),
    # a part Whisper ended with a period and a next one that begins a sentence stay apart, as before
    (["It was late.", "We left."], "It was late. We left."),
    # a continuation that no subject opens still joins an unmarked part, as before
    (["Our new line", "Of shoes sells well."], "Our new line of shoes sells well."),
])
def test_parts_split_at_a_pause(parts, expected):
    dictation = Dictation()
    for part in parts:
        dictation.say(part)
    assert dictation.text == expected


def test_a_long_pause_after_an_unmarked_part_begins_a_sentence():
    dictation = Dictation()
    dictation.say("It was late")
    dictation.say("The bus had gone.", pause_before_s=1.4)
    assert dictation.text == "It was late. The bus had gone."


def test_delete_the_last_sentence_deletes_only_the_second_sentence():
    dictation = Dictation()
    dictation.say("It was late")
    dictation.say("We left.")
    dictation.say("delete the last sentence")
    assert dictation.text == "It was late."


def test_a_joined_sentence_is_deleted_whole():
    dictation = Dictation()
    dictation.say("Hi there.")
    dictation.say("We met at the.")
    dictation.say("Station at noon.")
    dictation.say("delete the last sentence")
    assert dictation.text == "Hi there."


def test_scratch_that_after_a_join_takes_the_continuation_only():
    dictation = Dictation()
    dictation.say("We met at the.")
    dictation.say("Station at noon.")
    dictation.say("scratch that")
    assert dictation.text.rstrip(" .") == "We met at the"


def test_typed_text_is_not_joined():
    engine = IntentEngine()
    snapshot = DocumentSnapshot("doc", "It was late", 1, Selection.cursor(11))
    plan = engine.plan(Utterance("We left.", 0.5, 0.5, "", "speech"), snapshot, Modes())
    # no dictated phrase before it: the old mid-sentence rule, nothing of the user's text is changed
    assert all(edit.start >= 11 for edit in plan.edits)


@pytest.mark.parametrize("previous, continuation, pause, joins", [
    ("Where is it?", "at home.", 0.5, False),
    ("I went to.", "The shop.", 0.5, True),
    ("I went home.", "Then slept.", 0.5, False),
    ("I went home", "Then slept.", 0.5, True),
    ("I went home", "Then slept.", 1.5, False),
    ("Я пошёл", "Мы спали.", 0.5, False),
])
def test_continues_sentence(previous, continuation, pause, joins):
    assert continues_sentence(previous, continuation, pause) is joins


@pytest.mark.parametrize("parts, expected", [
    (["Hello", "Comma.", "World."], "Hello, world."),
    (["Hello", "Dash.", "World."], "Hello — world."),
    (["Hello", "New line.", "We left."], "Hello\nWe left."),  # the line break is never taken
    (["It was late", "Question mark.", "We left."], "It was late? We left."),
])
def test_spoken_marks_and_breaks_between_parts_keep_their_rules(parts, expected):
    dictation = Dictation()
    for part in parts:
        dictation.say(part)
    assert dictation.text == expected


@pytest.mark.parametrize("previous", ["I like that.", "I saw her.", "Come in.", "He said it was.", "Вот как."])
def test_a_sentence_ending_on_a_word_that_can_end_one_stays_ended(previous):
    assert continues_sentence(previous, "We left.") is False
