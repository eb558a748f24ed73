"""Issue 11 items 1 and 10a: a voice command never removes or changes what the user typed.

The user's keystrokes reach the engine as the exact edits an editor reports (an insertion at the cursor),
not as a diff of two texts, which could place an insertion on either side of an equal character.
"""

from __future__ import annotations

import pytest

from pushkin.daemon.intent import IntentEngine
from pushkin.daemon.intent.offline import SimulatedEditor
from pushkin.daemon.planning import Modes, Utterance
from pushkin.proto.types import Selection, TextEdit


class Editor(SimulatedEditor):
    def __init__(self, text: str = "", cursor: int | None = None):
        super().__init__("doc", text, Selection.cursor(len(text) if cursor is None else cursor))
        self.engine = IntentEngine()

    def say(self, spoken: str):
        snapshot = self.snapshot()
        plan = self.engine.plan(Utterance(spoken), snapshot, Modes())
        self.apply(plan)
        self.engine.applied(snapshot, plan, self.version)
        return plan

    def type_at_cursor(self, typed: str):
        old, at = self.text, self.selection.active
        self.text = old[:at] + typed + old[at:]
        self.version += 1
        self.selection = Selection.cursor(at + len(typed))
        self.engine.document_changed("doc", old, [TextEdit(at, at, typed)], self.version)


def dictated_then_typed() -> Editor:
    """The issue's letter: the cursor rests before the space the dictation ended with; the user types on."""
    editor = Editor("Dear Anna, see you.", cursor=11)
    editor.say("thanks for the letter")
    assert editor.text == "Dear Anna, thanks for the letter see you."
    assert editor.selection == Selection.cursor(32)  # inside the inserted "thanks for the letter "
    editor.type_at_cursor(" I loved it.")
    return editor


@pytest.mark.parametrize("command", ["scratch that", "delete that", "сотри это", "удали это"])
def test_that_deletes_only_the_dictated_words_not_the_typing_after_them(command):
    editor = dictated_then_typed()
    editor.say(command)
    assert " I loved it." in editor.text
    assert editor.text == "Dear Anna,  I loved it. see you."  # the phrase's own trailing space went with the typing's side


@pytest.mark.parametrize("command, expected", [
    ("cap that", "Dear Anna, Thanks For The Letter I loved it. see you."),
    ("all caps that", "Dear Anna, THANKS FOR THE LETTER I loved it. see you."),
])
def test_format_that_leaves_the_typing_after_the_phrase_alone(command, expected):
    editor = dictated_then_typed()
    editor.say(command)
    assert editor.text == expected


def test_select_that_selects_only_the_dictated_words():
    editor = dictated_then_typed()
    plan = editor.say("select that")
    assert editor.text[plan.selection_after.start:plan.selection_after.end] == "thanks for the letter"


def test_typing_before_a_phrase_that_begins_with_a_space_stays_out_of_it():
    editor = Editor("Hello")
    editor.say("world")
    assert editor.text == "Hello world"
    editor.selection = Selection.cursor(6)  # between the space the dictation added and "world"
    editor.type_at_cursor("big ")
    assert editor.text == "Hello big world"
    editor.say("scratch that")
    assert editor.text == "Hello big "


@pytest.mark.parametrize("command", ["scratch that", "delete that", "cap that", "lowercase that", "rephrase that"])
def test_typing_between_the_dictated_words_is_never_removed_the_command_refuses(command):
    editor = Editor()
    editor.say("hello wrld")
    editor.selection = Selection.cursor(7)
    editor.type_at_cursor("o")  # a typo fixed by hand: "Hello world"
    before = editor.text
    plan = editor.say(command)
    assert editor.text == before == "Hello world"
    assert plan.edits == () and "typed inside" in plan.message


def test_after_refusing_select_that_then_delete_that_removes_it_all_on_purpose():
    editor = Editor("Keep. ")
    editor.say("hello wrld")
    editor.selection = Selection.cursor(13)
    editor.type_at_cursor("o")
    editor.say("select that")
    editor.say("delete that")  # the selection is the user's explicit target now
    assert editor.text == "Keep."


def test_scratch_that_refusal_is_said_in_russian():
    editor = Editor()
    editor.say("привет мр")
    editor.selection = Selection.cursor(8)
    editor.type_at_cursor("и")
    plan = editor.say("сотри это")
    assert editor.text == "Привет мир" and "набранный текст" in plan.message


def test_undo_of_a_dictation_the_user_typed_into_refuses():
    editor = dictated_then_typed()
    plan = editor.say("undo")
    assert plan.edits == () and "edited" in plan.message
    assert "I loved it." in editor.text


# ---- item 10a: "new paragraph" next to a tab, and in CRLF documents -------------------------------------

def test_new_paragraph_keeps_a_typed_tab():
    editor = Editor("Item\t")
    editor.say("new paragraph")
    assert editor.text == "Item\t\n\n"


def test_a_spoken_mark_keeps_a_typed_tab():
    editor = Editor("Name\t")
    editor.say("colon")
    assert editor.text.startswith("Name\t")


@pytest.mark.parametrize("command, ending", [("new paragraph", "\r\n\r\n"), ("new line", "\r\n"),
                                             ("новый абзац", "\r\n\r\n")])
def test_breaks_follow_a_crlf_documents_line_ending(command, ending):
    editor = Editor("One.\r\nTwo.")
    editor.say(command)
    editor.say("three")
    assert editor.text == "One.\r\nTwo." + ending + "Three"


def test_breaks_inside_dictation_follow_crlf_too():
    editor = Editor("Title\r\n")
    editor.say("first new line second new paragraph third")
    assert editor.text == "Title\r\nFirst\r\nSecond\r\n\r\nThird"
    assert "\n" not in editor.text.replace("\r\n", "")


def test_lf_documents_keep_lf():
    editor = Editor("One.\nTwo.")
    editor.say("new paragraph")
    assert editor.text == "One.\nTwo.\n\n"


def test_crlf_paragraphs_and_lines_are_found():
    editor = Editor("First para.\r\n\r\nSecond para.")
    editor.say("delete this paragraph")
    assert editor.text == "First para."
    editor = Editor("line one\r\nline two\r\nline three", cursor=12)
    editor.say("delete this line")
    assert editor.text == "line one\r\nline three"


def test_deleting_a_word_keeps_the_tab_after_it():
    editor = Editor("a\tb", cursor=1)
    editor.say("delete the previous word")
    assert editor.text == "\tb"


def test_undo_refuses_when_typing_inside_makes_the_text_read_the_same_again():
    editor = Editor("Start. ")
    editor.say("word")
    assert editor.text == "Start. Word"
    old = editor.text  # the user types "d" before the last letter, then deletes the old last letter
    editor.text = "Start. Wordd"
    editor.version += 1
    editor.engine.document_changed("doc", old, [TextEdit(10, 10, "d")], editor.version)
    editor.text = "Start. Word"
    editor.version += 1
    editor.engine.document_changed("doc", "Start. Wordd", [TextEdit(11, 12, "")], editor.version)
    for command in ("undo", "scratch that"):
        plan = editor.say(command)
        assert plan.edits == () and editor.text == "Start. Word", command
