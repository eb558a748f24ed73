"""Property tests: random interleavings of dictation, commands, undo and the user's own typing."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pushkin.daemon.intent import IntentEngine
from pushkin.daemon.planning import DocumentSnapshot, Modes, Utterance
from pushkin.proto.textedit import apply_edits, diff_texts, validate_edits
from pushkin.proto.types import IntentKind, Selection, TextEdit

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


# ---- issue 11: a voice command never takes what the user typed ------------------------------------------

TYPED = st.sampled_from(["x", " ", "hello", "é", "ы", "😀", "\t", "\r\n", ",", " world "])
KEYSTROKES = st.one_of(
    st.tuples(st.just("type"), TYPED),  # at the caret
    st.tuples(st.just("backspace"), st.just("")),
    st.tuples(st.just("delete"), st.just("")),  # the Delete key
    st.tuples(st.just("type_at"), st.floats(0, 1), TYPED),
)
NAMES_TEXT = {"backspace", "delete_words", "delete_unit", "delete_text", "replace"}
TAGGED_ACTIONS = st.lists(st.one_of(dictation, command, move, KEYSTROKES), max_size=20)


class TaggedSession(Session):
    """A Session whose every code point carries who wrote it: a keystroke's id (> 0) or 0 (voice, base)."""

    def __init__(self, text: str):
        super().__init__(text)
        self.tags = [0] * len(text)
        self.next_id = 0

    def keystroke(self, edit: TextEdit):
        old = self.text
        self.tags[edit.start:edit.end] = [self._new_id() for _ in edit.text]
        self.text = old[:edit.start] + edit.text + old[edit.end:]
        self.version += 1
        self.selection = Selection.cursor(edit.start + len(edit.text))
        self.engine.document_changed("doc", old, [edit], self.version)

    def _new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def say_checked(self, spoken: str):
        before, selection = self.text, self.selection
        plan = self.say(spoken)
        removed = []
        for edit in sorted(plan.edits, key=lambda e: e.start, reverse=True):
            removed.extend((edit.start + i, tag) for i, tag in enumerate(self.tags[edit.start:edit.end]) if tag)
            self.tags[edit.start:edit.end] = [0] * len(edit.text)
        assert len(self.tags) == len(self.text)
        allowed = set()
        if not selection.is_cursor:
            allowed.update(range(selection.start, selection.end))
        if plan.intent.name in NAMES_TEXT or not selection.is_cursor:
            allowed.update(range(int(plan.intent.args.get("start", 0)), int(plan.intent.args.get("end", 0))))
        if plan.intent.name in ("punctuation", "new_line", "new_paragraph") or plan.intent.kind is IntentKind.DICTATION:
            position = selection.start
            while position > 0 and before[position - 1] == " ":  # a mark attaches over the spaces before it
                position -= 1
                allowed.add(position)
        lost = [(position, before[position]) for position, _ in removed if position not in allowed]
        assert not lost, (spoken, plan.intent.name, before, lost)

    def run(self, action):
        kind = action[0]
        cursor = self.selection.active
        if kind == "say":
            self.say_checked(action[1])
        elif kind == "move":
            self.move(action[1], action[2])
        elif kind == "type":
            self.keystroke(TextEdit(cursor, cursor, action[1]))
        elif kind == "backspace" and cursor > 0:
            self.keystroke(TextEdit(cursor - 1, cursor, ""))
        elif kind == "delete" and cursor < len(self.text):
            self.keystroke(TextEdit(cursor, cursor + 1, ""))
        elif kind == "type_at":
            at = round(action[1] * len(self.text))
            self.keystroke(TextEdit(at, at, action[2]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BASE_TEXTS, TAGGED_ACTIONS)
def test_no_voice_command_takes_a_typed_character(base, actions):
    session = TaggedSession(base)
    for action in actions:
        session.run(action)
    for _ in range(4):  # then the user takes everything back by voice: still nothing typed goes
        session.say_checked("undo")
        session.say_checked("scratch that")
