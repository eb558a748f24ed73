"""Rewrite tasks: every command of the issue has a task, prompts follow the text's language."""

from __future__ import annotations

import pytest

from pushkin.text_lora.tasks import (
    COMPLETION_END,
    EXAMPLES,
    TASKS,
    UnknownTaskError,
    build_prompt,
    clean_output,
    get_task,
    is_mostly_cyrillic,
    pick_best,
    stop_strings,
    training_text,
)


def test_every_rewrite_command_has_a_task():
    phrases = {phrase for task in TASKS.values() for phrase in task.phrases}
    for said in ("rephrase that", "make that more formal", "make that more casual", "shorten that", "expand that",
                 "fix the grammar", "turn that into a list", "summarize that", "translate that to Russian",
                 "translate that to English", "continue", "keep going", "перефразируй это"):
        assert said in phrases, said
    assert all(task.min_p == 0.1 for task in TASKS.values())


def test_prompt_language_follows_the_text():
    rephrase = get_task("rephrase")
    assert "Перефразируй" in build_prompt(rephrase, "Писатель открыл документ.")
    assert "Rephrase" in build_prompt(rephrase, "The writer opened the document.")
    to_russian = get_task("translate_ru")
    assert "Translate the text into Russian" in build_prompt(to_russian, "Hello")
    assert "Translate the text into English" in build_prompt(get_task("translate_en"), "Привет, как дела?")
    assert is_mostly_cyrillic("Привет, world") and not is_mostly_cyrillic("Hello, мир")


def test_prompt_is_a_few_shot_completion_a_base_can_follow_and_training_text_agrees():
    task = get_task("formal")
    prompt = build_prompt(task, "hey")
    assert "<start_of_turn>" not in prompt and "<end_of_turn>" not in prompt  # the base knows no turn format
    assert prompt.startswith("Rewrite the text in a more formal style.\n\nText:\n")
    assert prompt.endswith("\n\nText:\nhey\nResult:\n")
    for source, result in EXAMPLES["formal"]["en"]:
        assert f"Text:\n{source}\nResult:\n{result}\n\n" in prompt
    assert training_text(task, "hey", "Hello.") == prompt + "Hello." + COMPLETION_END
    # Generation stops where an example's result stops, or where the model starts another example.
    assert COMPLETION_END in stop_strings(task) and "\nText:" in stop_strings(task) and "\nТекст:" in stop_strings(task)
    russian = build_prompt(get_task("rephrase"), "Писатель открыл документ.")
    assert russian.endswith("Текст:\nПисатель открыл документ.\nРезультат:\n")
    assert stop_strings(get_task("continue")) == ()


def test_every_rewrite_task_has_examples_in_the_languages_it_prompts_in():
    for task in TASKS.values():
        if not task.replaces:
            continue
        languages = ("en",) if task.name.startswith("translate_") else ("en", "ru")
        for language in languages:
            examples = EXAMPLES[task.name][language]
            assert len(examples) == 2 and all(source.strip() and result.strip() for source, result in examples)


def test_continue_prompts_with_the_text_before_the_cursor():
    task = get_task("continue")
    assert not task.replaces
    before = "x" * 5000 + "The end"
    assert build_prompt(task, "", context_before=before) == before[-2000:]
    assert clean_output(task, " and more ") == " and more "
    assert clean_output(get_task("shorten"), "  short.\n") == "short."


def test_bad_requests_are_clear():
    with pytest.raises(ValueError, match="no text to fix grammar"):
        build_prompt(get_task("fix_grammar"), "   ")
    with pytest.raises(UnknownTaskError, match="unknown rewrite task 'poem'"):
        get_task("poem")


def test_token_budget_grows_with_the_text_within_bounds():
    expand = get_task("expand")
    assert expand.token_budget("short") == expand.min_new_tokens_budget
    assert expand.token_budget("word " * 2000) == expand.max_new_tokens_cap
    assert get_task("shorten").token_budget("a" * 300) < expand.token_budget("a" * 300)


def test_pick_best():
    best, scores = pick_best("src", ["a", "abc", "", "ab"], lambda source, candidate: len(candidate))
    assert best == 1 and scores[2] == float("-inf")
    best, _ = pick_best("src", ["x", "y"], lambda source, candidate: 1.0)
    assert best == 0
    with pytest.raises(ValueError):
        pick_best("src", [], lambda s, c: 0.0)
