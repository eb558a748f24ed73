"""The output language parser accepts only its grammar."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pushkin.model.output_language import (
    DEFAULT_GRAMMAR,
    CommandGrammar,
    CommandOutput,
    DictateOutput,
    OutputLanguageError,
    SequenceOutput,
    format_output,
    operations_of,
    parse_output_line,
)


@pytest.mark.parametrize("line, expected", [
    ("dictate: Hello there.", DictateOutput("Hello there.")),
    ("dictate: Привет, мир!\n", DictateOutput("Привет, мир!")),
    ("command: undo", CommandOutput("undo", {})),
    ("command: rewrite task=formal", CommandOutput("rewrite", {"task": "formal"})),
    ("command: delete unit=sentence count=2", CommandOutput("delete", {"unit": "sentence", "count": "2"})),
])
def test_accepts_the_grammar(line, expected):
    assert parse_output_line(line) == expected


@pytest.mark.parametrize("line, reason", [
    ("", "must start with"),
    ("Sure! Here is the text: hello", "must start with"),
    ("dictate:", "must start with"),
    ("dictate:   ", "no text"),
    ("Dictate: hello", "must start with"),
    ("dictate: one\ndictate: two", "exactly one line"),
    ("\ndictate: hello", "exactly one line"),
    ("dictate: bell\x07", "control characters"),
    ("command: rm -rf /", "unknown command"),
    ("command: os.system", "bad command name"),
    ("command: rewrite", "needs task"),
    ("command: rewrite task=poem", "not allowed"),
    ("command: rewrite task=formal task=casual", "given twice"),
    ("command: rewrite task=formal mood=happy", "takes no argument"),
    ("command: undo now", "not a key=value"),
    ("command: undo ", "not a key=value"),
    ("command: delete unit=sentence count=0", "not allowed"),
    ("command: delete unit=sentence count=100", "not allowed"),
    ("command:  undo", "bad command name"),
    ("dictate: " + "x" * 2001, "longer than"),
])
def test_rejects_everything_else(line, reason):
    with pytest.raises(OutputLanguageError, match=reason):
        parse_output_line(line)


def test_custom_grammar_from_the_intent_registry():
    grammar = CommandGrammar.of({"go_to": {"target": "start|end"}})
    assert parse_output_line("command: go_to target=end", grammar) == CommandOutput("go_to", {"target": "end"})
    with pytest.raises(OutputLanguageError, match="unknown command"):
        parse_output_line("command: undo", grammar)
    assert "command: go_to target=<start|end>" in grammar.describe()


def test_every_default_command_without_required_args_parses():
    for spec in DEFAULT_GRAMMAR.commands.values():
        if not spec.required:
            assert parse_output_line(f"command: {spec.name}") == CommandOutput(spec.name, {})


@given(st.text(max_size=60))
def test_random_text_is_rejected_unless_it_is_in_the_grammar(text):
    try:
        output = parse_output_line(text)
    except OutputLanguageError:
        return
    assert text.startswith(("dictate: ", "command: "))
    assert parse_output_line(format_output(output)) == output


@given(st.text(min_size=1, max_size=20))
def test_dictation_round_trips(words):
    line = format_output(DictateOutput(words.strip() or "x"))
    if "\n" in line or "\r" in line:
        with pytest.raises(OutputLanguageError):
            parse_output_line(line)
    else:
        try:
            assert parse_output_line(line) == DictateOutput(words.strip() or "x")
        except OutputLanguageError as exc:
            assert "control" in str(exc)


@pytest.mark.parametrize("line, expected", [
    ('command: replace x="the red car" y="a \\"blue\\" van"',
     CommandOutput("replace", {"x": "the red car", "y": 'a "blue" van'})),
    ('command: literal text="C:\\\\temp"', CommandOutput("literal", {"text": "C:\\temp"})),
    ("command: delete unit=word which=next count=3", CommandOutput("delete", {"unit": "word", "which": "next", "count": "3"})),
    ('command: replace_all x="the" y="a" scope=paragraph',
     CommandOutput("replace_all", {"x": "the", "y": "a", "scope": "paragraph"})),
    ("command: go_to where=end", CommandOutput("go_to", {"where": "end"})),
    ("dictate: The meeting is at noon. then command: sleep",
     SequenceOutput(DictateOutput("The meeting is at noon."), CommandOutput("sleep", {}))),
    ("command: select unit=all then dictate: then again", SequenceOutput(CommandOutput("select", {"unit": "all"}),
                                                                         DictateOutput("then again"))),
    ("dictate: first and then second", DictateOutput("first and then second")),
])
def test_accepts_the_complete_language(line, expected):
    output = parse_output_line(line)
    assert output == expected
    assert format_output(output) == line and operations_of(output)[-1] is not None


@pytest.mark.parametrize("line, reason", [
    ("command: replace x=Monday y=Friday", "must be quoted text"),
    ('command: go_to where="end"', "a word, not quoted"),
    ('command: replace x="" y="a"', "not allowed"),
    ('command: replace x=" a" y="b"', "not allowed"),
    ('command: replace x="a" y="b', "not a key=value"),
    ('command: replace x="a"y="b"', "not a key=value"),
    ('command: replace x="a"', "needs y"),
    ('command: literal text="' + "x" * 201 + '"', "not allowed"),
    ("command: replace_all x=\"a\" y=\"b\" scope=world", "not allowed"),
    ("command: undo then", "not a key=value"),
    ("command: undo then rm -rf", "must start with"),
    ("dictate: a then command: undo then command: redo", "at most two"),
    ("command: undo then dictate: a then command: redo", "at most two"),
    ("command: undo then command: format_disk", "unknown command"),
    ("command: undo  then command: redo", "not a key=value"),
])
def test_rejects_what_the_complete_language_lacks(line, reason):
    with pytest.raises(OutputLanguageError, match=reason):
        parse_output_line(line)


def test_every_engine_command_has_a_form():
    from pushkin.daemon.intent.commands import COMMANDS

    by_language = {"delete_words": "delete", "delete_unit": "delete", "select_words": "select",
                   "select_unit": "select", "select_all": "select", "dictate": None}
    for name in COMMANDS:
        form = by_language.get(name, name)
        assert form is None or form in DEFAULT_GRAMMAR.commands, name
