"""The task proof's pieces without a model: the held-out sample, the scores and their table, the intervals,
and batched greedy generation on the tiny Gemma (the real run: tests/real/test_real_task_proof.py)."""

from __future__ import annotations

import pytest

from pushkin.persona.metrics import StyleProfile
from pushkin.training import task_proof


def _record(language: str, i: int, errors: str = "agreement") -> dict:
    text = f"Вечером {i} пошёл дождь." if language == "ru" else f"It rained {i} times."
    return {"prompt": f"Text:\n{text}\nResult:\n", "completion": text, "input": text.replace("It", "It it"),
            "source": f"{language}/{i % 3}", "language": language, "errors": errors}


def test_the_eval_sample_is_fixed_and_even_across_languages():
    records = [_record("en", i) for i in range(30)] + [_record("ru", i) for i in range(7)]
    sample = task_proof.eval_sample(records, 5, seed=0)
    assert [r["language"] for r in sample] == ["en"] * 5 + ["ru"] * 5
    assert sample == task_proof.eval_sample(records, 5, seed=0)
    assert sample != task_proof.eval_sample(records, 5, seed=1)
    assert len(task_proof.eval_sample(records, 10)) == 10 + 7  # a language with fewer gives what it has


def test_continue_is_compared_on_the_first_sentence():
    assert task_proof.first_sentence(" He left. Then he came back.") == "He left."
    record = {"completion": " Она ушла. Потом вернулась.", "language": "ru"}
    assert task_proof.reference_of("continue", record) == "Она ушла."
    assert task_proof.reference_of("fix_grammar", {"completion": " As written. "}) == "As written."


def test_paired_difference_interval_holds_the_mean():
    diff = task_proof.paired_difference([1, 1, 0, 1, 0, 1], [0, 1, 0, 0, 0, 0])
    assert diff["mean"] == pytest.approx(3 / 6, abs=1e-4)
    assert diff["ci95"][0] <= diff["mean"] <= diff["ci95"][1] and diff["ci95"][0] >= 0.0
    assert task_proof.paired_difference([0.5, 0.5], [0.5, 0.5]) == {"mean": 0.0, "ci95": [0.0, 0.0]}


def test_scores_and_table_put_base_and_adapter_side_by_side():
    sample = [_record("en", 1), _record("en", 2, errors="none"), _record("ru", 3), _record("ru", 4)]
    references = [r["completion"] for r in sample]
    systems = {"unchanged input": [r["input"] for r in sample],
               "base": [r["input"] for r in sample[:3]] + ["It rained."],  # the last in the wrong language
               "adapter": references}
    profiles = {"en": StyleProfile.from_texts(["It rained all day and all night."]),
                "ru": StyleProfile.from_texts(["Вечером пошёл дождь, и шёл всю ночь."])}
    scores = task_proof.score_all("fix_grammar", sample, systems, profiles)
    assert set(scores) == {"all", "en", "ru", "with errors", "already correct"}
    assert scores["all"]["adapter"]["exact_match"] == 1.0 and scores["all"]["adapter"]["language_match"] == 1.0
    assert scores["ru"]["base"]["language_match"] == 0.5
    assert scores["en"]["base"]["exact_match"] == 0.0 and scores["en"]["adapter"]["rougeL"] == 1.0
    assert scores["all"]["adapter_minus_base"]["exact_match"]["mean"] == pytest.approx(3 / 4)
    assert 0.0 <= scores["all"]["base"]["style"]["composite"] <= 1.0
    table = task_proof.markdown_table({"systems": list(systems), "scores": scores})
    rows = [line for line in table.splitlines() if line.startswith("| all |")]
    assert [row.split(" | ")[1] for row in rows[:3]] == ["unchanged input", "base", "adapter"]
    assert "ROUGE-L" in table and "exact" in table and "language" in table


def test_batched_greedy_outputs_match_one_prompt_at_a_time(tiny_gemma):
    import torch
    from transformers import AutoTokenizer, Gemma3ForCausalLM

    model = Gemma3ForCausalLM.from_pretrained(tiny_gemma, dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_gemma)
    prompts = ["the writer opened the window", "a", "she read the letter twice and then put it away"]
    budgets = [6, 4, 6]
    batched = task_proof.greedy_outputs(model, tokenizer, prompts, max_new_tokens=budgets, stops=(), batch_size=3)
    single = [task_proof.greedy_outputs(model, tokenizer, [p], max_new_tokens=[b], stops=())[0]
              for p, b in zip(prompts, budgets)]
    assert batched == single
    assert all(out for out in batched)
    assert len(tokenizer(batched[1], add_special_tokens=False).input_ids) <= 4
