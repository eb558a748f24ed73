"""The guards on rewrite output: each failure a base model showed on real text is refused, good rewrites pass."""

from __future__ import annotations

import pytest

from pushkin.text_lora.guards import check_rewrite
from pushkin.text_lora.tasks import build_prompt, get_task

SOURCE = "The writer opened the window and looked at the grey sea for a long time."
RU_SOURCE = "Писатель открыл окно и долго смотрел на серое море."


@pytest.mark.parametrize("task,source,output", [
    ("rephrase", SOURCE, "For a long time, the writer looked at the grey sea through the open window."),
    ("formal", SOURCE, "The author opened the window and gazed at the grey sea for an extended period."),
    ("shorten", SOURCE, "The writer watched the sea."),
    ("expand", "The house was old.", "The house was old: the paint peeled and the porch creaked."),
    ("list", "Buy milk and call the bank.", "- Buy milk\n- Call the bank"),
    ("rephrase", RU_SOURCE, "Открыв окно, писатель долго глядел на серое море."),
    ("translate_ru", SOURCE, "Писатель открыл окно и долго смотрел на серое море."),
    ("translate_en", RU_SOURCE, "The writer opened the window and looked at the grey sea for a long time."),
    ("summarize", SOURCE + " " + SOURCE, "A writer watched the sea."),
])
def test_good_rewrites_pass(task, source, output):
    assert check_rewrite(get_task(task), source, output) is None


def test_what_the_base_model_did_is_refused():
    formal = get_task("formal")
    assert check_rewrite(formal, SOURCE, "   ") == "the model returned no text"
    assert "U+2028 LINE SEPARATOR" in check_rewrite(formal, SOURCE, "The author opened\u2028the window.")
    assert "U+0007" in check_rewrite(formal, SOURCE, "The author\x07 opened the window.")
    # Echoes of the prompt: the instruction, a block label, a turn marker, an example.
    assert "instruction" in check_rewrite(formal, SOURCE, "Rewrite the text in a more formal style. The writer sat.")
    assert "label" in check_rewrite(get_task("list"), "Buy milk and call the bank.", "- Buy milk\nText:\n- Call")
    assert "turn marker" in check_rewrite(formal, SOURCE, "The author<end_of_turn> opened the window.")
    example = "Could you please send me the report as soon as possible?"
    assert "example" in check_rewrite(formal, SOURCE, f"The author opened the window. {example}")
    # Repeats: a sentence twice, a phrase over and over, line breaks that were not there.
    twice = "The author opened the window to the sea. The author opened the window to the sea."
    assert "repeats the sentence" in check_rewrite(get_task("rephrase"), SOURCE, twice)
    assert "repeats the phrase" in check_rewrite(get_task("expand"), SOURCE,
                                                 "the grey sea was the grey sea was the grey sea was the grey sea was")
    assert "line breaks" in check_rewrite(formal, SOURCE, "The author opened the window.\nHe looked at the sea.")
    # The wrong language, and a length far from what the task asks for.
    assert check_rewrite(get_task("rephrase"), RU_SOURCE, "The writer opened the window.") == \
        "it is in English, not Russian"
    assert "not Russian" in check_rewrite(get_task("translate_ru"), SOURCE, SOURCE)
    assert "far longer" in check_rewrite(get_task("shorten"), SOURCE, SOURCE + " And then he slept for hours in the old chair by the fire.")
    assert "far shorter" in check_rewrite(get_task("rephrase"), SOURCE * 3, "The sea.")


def test_the_prompt_itself_is_refused_as_output():
    task = get_task("rephrase")
    assert check_rewrite(task, SOURCE, build_prompt(task, SOURCE)) is not None


def test_a_continuation_is_checked_too():
    task = get_task("continue")
    assert check_rewrite(task, SOURCE, " Then he slept.") is None
    assert check_rewrite(task, SOURCE, " Then\u2029he slept.") is not None
    assert check_rewrite(task, RU_SOURCE, " Then he slept in the chair.") == "it is in English, not Russian"
