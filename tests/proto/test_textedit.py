import pytest
from hypothesis import given
from hypothesis import strategies as st

from pushkin.proto.textedit import (
    EditError,
    apply_edit_batch,
    apply_edits,
    check_selection,
    diff_texts,
    invert_edits,
    map_offset,
    map_selection,
    validate_edits,
)
from pushkin.proto.types import Selection, TextEdit


def test_apply_in_any_order_against_the_base_text():
    text = "Hello world"
    edits = [TextEdit(6, 11, "мир"), TextEdit(0, 5, "Привет")]
    assert apply_edits(text, edits) == "Привет мир"


@pytest.mark.parametrize(
    "edits, message",
    [
        ([TextEdit(0, 20, "")], "past the end"),
        ([TextEdit(3, 2, "")], "reversed"),
        ([TextEdit(-1, 2, "")], "negative"),
        ([TextEdit(0, 3, "a"), TextEdit(2, 4, "b")], "overlaps"),
        ([TextEdit(2, 2, "a"), TextEdit(2, 2, "b")], "two insertions"),
    ],
)
def test_bad_edits_are_rejected(edits, message):
    with pytest.raises(EditError, match=message):
        validate_edits(5, edits)


def test_code_points_not_utf16_units():
    text = "a👋b"  # the emoji is one code point, two UTF-16 units
    assert apply_edits(text, [TextEdit(1, 2, "")]) == "ab"
    assert apply_edits("é", [TextEdit(1, 1, "!")]) == "é!"  # e + combining acute is two code points


def test_map_offset_and_selection():
    edits = validate_edits(10, [TextEdit(2, 4, "xyz"), TextEdit(6, 6, "!")])
    assert map_offset(1, edits) == 1
    assert map_offset(3, edits) == 5  # inside the replaced range: to its end
    assert map_offset(5, edits) == 6
    assert map_offset(6, edits) == 7  # stays before the text inserted at it
    assert map_offset(6, edits, stick_right=True) == 8
    assert map_selection(Selection.cursor(6), edits) == Selection.cursor(8)


def test_diff_texts_finds_the_changed_middle():
    assert diff_texts("abc", "abc") == ()
    assert diff_texts("Hello world", "Hello big world") == (TextEdit(6, 6, "big "),)
    long = "x" * 10000
    assert diff_texts(long + "a" + long, long + "b" + long) == (TextEdit(10000, 10001, "b"),)


texts = st.text(alphabet=st.sampled_from("ab Жё👋\u0301"), max_size=30)


@given(texts, texts)
def test_diff_then_apply_round_trips(old, new):
    assert apply_edits(old, diff_texts(old, new)) == new


@given(texts, st.data())
def test_invert_restores_the_text(text, data):
    n = len(text)
    points = sorted(data.draw(st.lists(st.integers(0, n), max_size=6, unique=True)))
    edits = [TextEdit(points[i], points[i + 1], data.draw(texts)) for i in range(0, len(points) - 1, 2)]
    changed = apply_edits(text, edits)
    assert apply_edits(changed, invert_edits(text, edits)) == text


def test_an_edit_batch_carries_the_selection_or_takes_the_one_given():
    text, cursor = "Hello world", Selection.cursor(11)
    edited = apply_edit_batch(text, cursor, [TextEdit(6, 11, "there"), TextEdit(0, 0, ">> ")])
    assert edited.text == ">> Hello there"
    assert edited.edits == (TextEdit(0, 0, ">> "), TextEdit(6, 11, "there"))  # sorted, as validated
    assert edited.selection == Selection.cursor(14)  # carried through both edits
    chosen = apply_edit_batch(text, cursor, [TextEdit(0, 5, "Bye")], selection_after=Selection(0, 3))
    assert (chosen.text, chosen.selection) == ("Bye world", Selection(0, 3))


def test_an_edit_batch_refuses_a_selection_past_the_new_end():
    with pytest.raises(EditError, match="selection_after .* past the end"):
        apply_edit_batch("Hello", Selection.cursor(0), [TextEdit(0, 5, "")], selection_after=Selection.cursor(3))
    with pytest.raises(EditError, match="past the end"):
        check_selection(Selection(0, 6), 5)
    assert check_selection(Selection(5, 0), 5) == Selection(5, 0)
