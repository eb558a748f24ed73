"""The engine through the EditPlanner protocol: user typing, STALE re-plans, speech formatting, settings."""

from __future__ import annotations

import pytest

from pushkin.daemon.intent import IntentEngine, IntentSettings, IntentSettingsError, intent_settings_from_dict
from pushkin.daemon.intent.offline import SimulatedEditor
from pushkin.daemon.planning import DocumentSnapshot, Modes, Utterance
from pushkin.proto.textedit import diff_texts
from pushkin.proto.types import IntentKind, IntentMode, ListenState, Selection


class Editor(SimulatedEditor):
    """A document driven through plan/applied/document_changed the way the daemon drives it."""

    def __init__(self, engine: IntentEngine, text: str = "", cursor: int | None = None):
        super().__init__("doc", text, Selection.cursor(len(text) if cursor is None else cursor))
        self.engine = engine
        self.modes = Modes()

    def say(self, spoken: str, source: str = "typed"):
        snapshot = self.snapshot()
        plan = self.engine.plan(Utterance(spoken, source=source), snapshot, self.modes)
        if plan.modes is not None:
            self.modes = plan.modes
        self.apply(plan)
        self.engine.applied(snapshot, plan, self.version)
        return plan

    def type(self, new_text: str, cursor: int | None = None):
        """The user edits the document themselves; the editor reports the change."""
        old = self.text
        edits = diff_texts(old, new_text)
        self.text = new_text
        self.version += 1
        self.selection = Selection.cursor(len(new_text) if cursor is None else cursor)
        self.engine.document_changed("doc", old, edits, self.version)


@pytest.fixture
def editor():
    return Editor(IntentEngine())


def test_scratch_follows_user_typing_before_the_phrase(editor):
    editor.say("one.")
    editor.say("two.")
    editor.type("Zero. " + editor.text)  # typed at the start: both phrases move right
    editor.say("scratch that")
    assert editor.text == "Zero. One."


def test_scratch_skips_a_phrase_the_user_broke_and_says_so(editor):
    editor.say("one.")
    editor.type("One. X")
    editor.say("two.")
    assert editor.text == "One. X two."
    editor.type("One. Y,wo.")  # the user's edit ("X t" → "Y,") crosses the start of " two."
    plan = editor.say("scratch that")
    assert editor.text == " Y,wo."
    assert "edited" in plan.message
    assert editor.say("scratch that").message == "Nothing to scratch."


def test_that_refuses_when_the_last_phrase_is_gone(editor):
    editor.say("keep this.")
    editor.say("gone soon.")
    editor.type("Keep this.")  # the user deleted the last phrase by hand
    before = editor.text
    plan = editor.say("delete that")
    assert editor.text == before
    assert plan.edits == ()
    assert "no longer" in plan.message


def test_phrase_edited_inside_is_still_that(editor):
    editor.say("hello wrld")
    editor.type(editor.text.replace("wrld", "world"))  # a typo fixed by hand inside the phrase
    plan = editor.say("select that")
    assert editor.text[plan.selection_after.start:plan.selection_after.end] == "Hello world"


def test_undo_refuses_after_the_user_edited_the_text_and_then_moves_on(editor):
    editor.say("alpha.")
    editor.say("beta gamma.")
    editor.type(editor.text.replace("gamma", "delta"))  # the user changed text the last step inserted
    plan = editor.say("undo")
    assert plan.edits == () and "edited" in plan.message
    assert editor.text == "Alpha. Beta delta."
    editor.say("undo")  # the refused step was dropped: this undoes "alpha."
    assert editor.text == " Beta delta."


def test_undo_still_works_after_typing_elsewhere(editor):
    editor.say("first.")
    editor.say("second.")
    editor.type("Title\n" + editor.text)
    editor.say("undo")
    assert editor.text == "Title\nFirst."
    editor.say("redo")
    assert editor.text == "Title\nFirst. Second."


def test_plan_changes_nothing_until_applied(editor):
    """On STALE the daemon re-plans the same utterance: an unapplied plan must leave no trace."""
    editor.say("one.")
    snapshot = editor.snapshot()
    for _ in range(3):  # planned three times, applied never
        editor.engine.plan(Utterance("scratch that"), snapshot, Modes())
        editor.engine.plan(Utterance("two."), snapshot, Modes())
        editor.engine.plan(Utterance("undo"), snapshot, Modes())
    editor.type(editor.text + " Typed.")  # the editor's change that caused STALE
    editor.say("scratch that")
    assert editor.text == " Typed."


def test_stale_replan_then_applied(editor):
    editor.say("one.")
    stale = editor.engine.plan(Utterance("two."), editor.snapshot(), Modes())
    editor.type(editor.text + "!")
    fresh = editor.say("two.")
    assert stale.undo_group != fresh.undo_group
    assert editor.text == "One.! Two."
    editor.say("undo")
    assert editor.text == "One.!"


def test_speech_mid_sentence_drops_whisper_capital_and_period(editor):
    editor.type("Hello world", cursor=5)
    editor.say("Big.", source="speech")
    assert editor.text == "Hello big world"


def test_speech_keeps_i_and_acronyms(editor):
    editor.type("Yesterday", cursor=9)
    editor.say("I met NASA.", source="speech")
    assert editor.text == "Yesterday I met NASA."


def test_typed_utterances_keep_their_capitals(editor):
    editor.type("Hello world", cursor=5)
    editor.say("Big")
    assert editor.text == "Hello Big world"


def test_modes_are_returned_not_kept():
    engine = IntentEngine()
    snapshot = DocumentSnapshot("doc", "", 1, Selection.cursor(0))
    asleep = engine.plan(Utterance("go to sleep"), snapshot, Modes())
    assert asleep.modes.listen_state is ListenState.SLEEPING
    ignored = engine.plan(Utterance("hello"), snapshot, asleep.modes)
    assert ignored.intent.kind is IntentKind.IGNORED and ignored.edits == ()
    commands = engine.plan(Utterance("command mode"), snapshot, Modes())
    assert commands.modes.intent_mode is IntentMode.COMMAND_ONLY
    assert engine.plan(Utterance("hello"), snapshot, commands.modes).intent.kind is IntentKind.IGNORED


def test_no_document_is_a_message():
    plan = IntentEngine().plan(Utterance("hello"), None, Modes())
    assert plan.edits == () and plan.message


def test_rewrite_plan_args_for_the_language_model(editor):
    editor.say("hello world")
    plan = editor.say("rephrase that")
    assert plan.intent.name == "rewrite" and plan.edits == ()
    args = plan.intent.args
    assert (args["task"], args["target"], args["start"], args["end"]) == ("rephrase", "last_phrase", "0", "11")
    assert plan.span == (0, 11)  # what the rewriter reads; the args' start/end are the wire's copy
    assert "language model" in plan.message
    configured = IntentEngine(IntentSettings(language_model=True))
    translate = configured.plan(Utterance("translate that into Russian"),
                                DocumentSnapshot("d", "Hi there", 1, Selection(0, 2)), Modes())
    assert translate.message == ""
    assert (translate.intent.args["target"], translate.intent.args["lang"], translate.intent.args["end"]) == ("selection", "ru", "2")
    assert translate.span == (0, 2)


def test_rewrite_without_target_says_so(editor):
    plan = editor.say("summarize that")
    assert plan.edits == () and "target" in plan.message


def test_russian_messages(editor):
    plan = editor.say("отмени")
    assert plan.message == "Нечего отменять."


def test_document_closed_forgets(editor):
    editor.say("one.")
    editor.engine.document_closed("doc")
    assert editor.engine.history("doc") is None
    assert editor.say("scratch that").edits == ()


# ---- settings --------------------------------------------------------------------------------------

def test_user_phrases_extend_the_grammar():
    settings = intent_settings_from_dict({
        "phrases": {
            "nuke that": "scratch_that",
            "kill <n> words": {"command": "delete_words", "args": {"direction": "back"}},
            "вычеркни": "scratch_that",
        },
        "search_window": 5000,
    })
    editor = Editor(IntentEngine(settings), "one two three four")
    editor.say("kill 2 words")
    assert editor.text == "one two"
    editor.say("five.")
    editor.say("Nuke that!")
    assert editor.text == "one two"
    editor.say("шесть.")
    editor.say("вычеркни")
    assert editor.text == "one two"


@pytest.mark.parametrize("section, complaint", [
    ({"phrases": {"x": "no_such_command"}}, "unknown command"),
    ({"phrases": {"(open": "undo"}}, "unbalanced"),
    ({"phrases": {"x": 3}}, "give a command name"),
    ({"search_window": -1}, "positive integer"),
    ({"language_model": "yes"}, "true or false"),
    ({"colour": 1}, "unknown key 'colour' in \\[intent\\]"),
    ([], "must be a table"),
])
def test_bad_settings_are_named(section, complaint):
    with pytest.raises(IntentSettingsError, match=complaint):
        intent_settings_from_dict(section)


def test_default_settings():
    assert intent_settings_from_dict(None) == IntentSettings()
    assert intent_settings_from_dict({}).phrases == ()
