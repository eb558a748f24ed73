"""Rewrite tasks and open-ended classification on the tiny composed model."""

from __future__ import annotations

import threading

import pytest

from pushkin.model.output_language import CommandOutput, DictateOutput
from pushkin.model.registry import Mode
from pushkin.model.rewrite import (
    RewriteOptions,
    RewriteRequest,
    classification_of,
    classify_utterance,
    rewrite,
    sampling_for,
    stream_rewrite,
)
from pushkin.text_lora.tasks import get_task

# Near-uniform sampling: the random tiny model then writes visible text instead of stopping at once.
LIVELY = RewriteOptions(temperature=3.0, min_p=0.0, max_new_tokens=12, seed=3)


def test_rewrite_uses_the_rewrite_composition_and_returns_text(composed):
    result = rewrite(composed, RewriteRequest("formal", "the fox jumps over the dog"), LIVELY)
    assert result.composition.mode is Mode.REWRITE and result.composition.task == "formal"
    assert result.composition.active == ("persona:writer", "audio:speech", "task:rewrite")
    assert result.text and result.text == result.text.strip() and not result.cancelled


def test_stream_rewrite_yields_pieces_and_cancels(composed):
    cancel = threading.Event()
    pieces = []
    options = RewriteOptions(temperature=3.0, min_p=0.0, max_new_tokens=100, seed=3)
    for piece in stream_rewrite(composed, RewriteRequest("rephrase", "Писатель открыл документ."), options, cancel):
        pieces.append(piece)
        cancel.set()
    assert 1 <= len(pieces) <= 2  # what came before the cancel; the tail held back for stop strings follows
    cancelled = rewrite(composed, RewriteRequest("shorten", "a long text"), options, cancel)
    assert cancelled.cancelled and cancelled.text == ""


def test_best_of_n_keeps_the_best_scored_candidate(composed):
    result = rewrite(composed, RewriteRequest("expand", "the sea"), RewriteOptions(best_of=3, temperature=3.0,
                                                                                 min_p=0.0, max_new_tokens=10, seed=11),
                     scorer=lambda source, candidate: len(candidate))
    assert len(result.candidates) == 3 and len(result.scores) == 3
    assert result.text == max(result.candidates, key=len)
    with pytest.raises(ValueError, match="scorer"):
        rewrite(composed, RewriteRequest("expand", "the sea"), RewriteOptions(best_of=2))


def test_task_sampling_settings_and_overrides():
    task = get_task("fix_grammar")
    assert sampling_for(task, "text", RewriteOptions()).temperature == 0.2
    assert sampling_for(task, "text", RewriteOptions()).min_p == 0.1
    assert sampling_for(task, "text", RewriteOptions(min_p=0.3)).min_p == 0.3


def test_continue_composes_its_task_adapter(composed):
    result = rewrite(composed, RewriteRequest("continue", context_before="The writer opened"), LIVELY)
    assert "task:continue" in result.composition.active


def test_classification_never_loses_dictated_words():
    utterance = "buy milk and bread"
    garbage = classification_of("Sure, I will delete everything", utterance)
    assert garbage.output == DictateOutput(utterance) and "must start with" in garbage.rejected
    rewritten = classification_of("dictate: buy milk", utterance)
    assert rewritten.output == DictateOutput(utterance) and not rewritten.rejected
    command = classification_of("command: rewrite task=shorten", "make it short")
    assert command.output == CommandOutput("rewrite", {"task": "shorten"})


def test_classify_on_the_model_gives_a_safe_answer(composed):
    result = classify_utterance(composed, "could you make this a bit shorter")
    assert result.composition.mode is Mode.COMMAND
    assert isinstance(result.output, (DictateOutput, CommandOutput))
    if isinstance(result.output, DictateOutput):
        assert result.output.text == "could you make this a bit shorter"


def test_the_classification_prompt_is_a_few_shot_completion_within_the_grammar():
    from pushkin.model.output_language import CommandGrammar, CommandSpec, parse_output_line
    from pushkin.model.rewrite import classification_prompt

    prompt = classification_prompt("get rid of that\nline")
    assert "<start_of_turn>" not in prompt and "<end_of_turn>" not in prompt
    assert prompt.endswith("\n\nUtterance: get rid of that line\nAnswer:")
    answers = [line.removeprefix("Answer: ") for line in prompt.splitlines()[:-1] if line.startswith("Answer: ")]
    assert len(answers) == 4 and all(parse_output_line(a) for a in answers)
    # A narrower grammar gets only the examples it allows.
    only_undo = classification_prompt("x", CommandGrammar.of([CommandSpec("undo")]))
    assert "Answer: command: undo" in only_undo and "delete unit=word" not in only_undo
