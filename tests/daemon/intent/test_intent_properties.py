"""Property tests: random interleavings of dictation, commands, undo and the user's own typing."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pushkin.daemon.intent import IntentEngine
from pushkin.daemon.planning import DocumentSnapshot, Modes, Utterance
from pushkin.proto.textedit import apply_edits, diff_texts, validate_edits
from pushkin.proto.types import Selection

WORDS = ["hello", "world", "comma", "period", "new line", "new paragraph", "привет", "мир", "запятая", "точка",
         "dash", "open quote", "close quote", "😀", "cafe\u0301", "I", "NASA", "question mark", "ёлка", "the"]
COMMANDS = [
    "scratch that", "delete that", "select that", "select all", "unselect", "select previous word",
    "select the last 3 words", "select next word", "delete the previous word", "delete the last two words",
    "delete next word", "select this sentence", "delete the last sentence", "delete this paragraph",
    "delete this line", "select next line", "backspace", "backspace 3", "go to start", "go to end",
    "go to start of line", "go to end of sentence", "move left 2 words", "move right one word", "cap that",
    "all caps that", "lowercase that", "new line", "new paragraph", "comma", "period", "replace hello with bye",
    "delete world", "select привет", "insert before world", "insert after hello", "redo", "undo",
    "удали это", "отмени", "верни", "выдели всё", "rephrase that", "type scratch that", "сотри это",
]

BASE_TEXTS = st.sampled_from(["", "Hello world.", "One. Two three.\n\nПривет, мир!\nline 😀 end", "a\u0301b 👨\u200d👩\u200d👧 c"])
dictation = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(lambda ws: ("say", " ".join(ws)))
command = st.sampled_from(COMMANDS).map(lambda c: ("say", c))
move = st.tuples(st.just("move"), st.floats(0, 1), st.floats(0, 1))
typing = st.tuples(st.just("type"), st.floats(0, 1), st.integers(0, 4), st.sampled_from(["", "x", " new ", "é", "\n", "😀"]))
VOICE_ACTIONS = st.lists(st.one_of(dictation, command, move), max_size=14)
ALL_ACTIONS = st.lists(st.one_of(dictation, command, move, typing, st.just(("say", "undo"))), max_size=16)


class Session:
    def __init__(self, text: str):
        self.engine = IntentEngine()
        self.text = text
        self.version = 1
        self.selection = Selection.cursor(len(text))
        self.modes = Modes()

    def say(self, spoken: str):
        snapshot = DocumentSnapshot("doc", self.text, self.version, self.selection)
        plan = self.engine.plan(Utterance(spoken), snapshot, self.modes)
        ordered = validate_edits(len(self.text), plan.edits)  # in bounds, non-overlapping
        for edit in ordered:
            assert 0 <= edit.start <= edit.end <= len(self.text)
        if plan.modes is not None:
            self.modes = plan.modes
        new_text = apply_edits(self.text, ordered)
        if plan.selection_after is not None:
            assert 0 <= plan.selection_after.start <= plan.selection_after.end <= len(new_text), (spoken, plan)
            self.selection = plan.selection_after
        elif plan.edits:
            self.selection = Selection.cursor(min(self.selection.active, len(new_text)))
        if plan.edits:
            self.version += 1
        self.text = new_text
        self.engine.applied(snapshot, plan, self.version)
        return plan

    def move(self, anchor: float, active: float):
        self.selection = Selection(round(anchor * len(self.text)), round(active * len(self.text)))

    def type(self, where: float, delete: int, inserted: str):
        start = round(where * len(self.text))
        end = min(len(self.text), start + delete)
        old = self.text
        self.text = old[:start] + inserted + old[end:]
        self.version += 1
        self.selection = Selection.cursor(start + len(inserted))
        self.engine.document_changed("doc", old, diff_texts(old, self.text), self.version)

    def run(self, action):
        if action[0] == "say":
            self.say(action[1])
        elif action[0] == "move":
            self.move(action[1], action[2])
        else:
            self.type(*action[1:])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BASE_TEXTS, VOICE_ACTIONS)
def test_undoing_every_voice_action_restores_the_text(base, actions):
    session = Session(base)
    for action in actions:
        session.run(action)
    for _ in range(len(actions) * 2 + 2):
        plan = session.say("undo")
        if not plan.edits:
            assert plan.message == "Nothing to undo.", plan.message
            break
    assert session.text == base


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BASE_TEXTS, ALL_ACTIONS)
def test_plans_stay_valid_while_the_user_types(base, actions):
    session = Session(base)
    for action in actions:
        session.run(action)  # Session.say checks every plan against the text it was made for
    # Whatever happened, undo and scratch still plan valid edits until they run out.
    for _ in range(len(actions) + 2):
        session.say("undo")
        session.say("scratch that")


@settings(max_examples=60, deadline=None)
@given(BASE_TEXTS, VOICE_ACTIONS)
def test_undo_then_redo_everything_returns_to_the_same_text(base, actions):
    session = Session(base)
    for action in actions:
        session.run(action)
    final = session.text
    undone = 0
    while session.say("undo").edits:
        undone += 1
    assert session.text == base
    for _ in range(undone):
        assert session.say("redo").edits
    assert session.text == final
