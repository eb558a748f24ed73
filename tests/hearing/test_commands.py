"""The grammar as concrete phrases for rescoring, and the shortlist that decides which utterances are rescored."""

from __future__ import annotations

from pushkin.daemon.hearing.commands import CommandVocabulary, expand_pattern
from pushkin.daemon.intent.grammar import GrammarRule


def test_patterns_expand_to_every_fixed_phrase_and_free_text_to_none():
    assert set(expand_pattern("undo [(that|this|it)]")) == {"undo", "undo that", "undo this", "undo it"}
    assert "delete the last sentence" in expand_pattern("(delete|remove) [the] <which> <unit>")
    assert "delete the last three words" in expand_pattern("(delete|remove) [the] (last|previous) <n> words")
    assert expand_pattern("replace <x> with <y>") == []
    assert expand_pattern("(type|literal) <text>") == []
    # A phrase never mixes languages through a slot's vocabulary.
    assert not any("последнее" in p for p in expand_pattern("(delete|remove) [the] <which> <unit>"))


def test_whole_commands_and_marks_are_recognized_free_text_matches_are_not():
    vocabulary = CommandVocabulary()
    assert vocabulary.is_command("Scratch that.")
    assert vocabulary.is_command("Question mark.")
    assert vocabulary.is_command("Удали последнее предложение.")
    assert not vocabulary.is_command("Cut that.")
    # "delete <x>" matches any text: it is no evidence that the words were a command.
    assert not vocabulary.is_command("Delete bat.")


def test_misheard_commands_shortlist_the_command_and_sentences_shortlist_nothing():
    vocabulary = CommandVocabulary()
    assert "Undo." in [p.text for p in vocabulary.shortlist("And you.", "en")]
    assert "Undo that." in [p.text for p in vocabulary.shortlist("And do that.", "en")]
    assert "Cap that." in [p.text for p in vocabulary.shortlist("Cut that.", "en")]
    assert "Scratch that." in [p.text for p in vocabulary.shortlist("Scratch mod.", "en")]
    assert "Delete the last sentence." in [p.text for p in vocabulary.shortlist("Belief the last sentence.", "en")]
    assert vocabulary.shortlist("The trial period ends in May.", "en") == []
    assert vocabulary.shortlist("Our new line of shoes sells well and the stores want more.", "en") == []
    # Only phrases of the utterance's language.
    assert all(p.language == "ru" for p in vocabulary.shortlist("Удали последнее предложение.", "ru"))


def test_the_users_phrases_take_part():
    vocabulary = CommandVocabulary([GrammarRule("bold that", "format_that", {"style": "bold"})])
    assert vocabulary.is_command("Bold that.")
    assert "Bold that." in [p.text for p in vocabulary.shortlist("Bolt that.", "en")]
