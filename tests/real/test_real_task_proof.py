"""The task proof on real Gemma 3 270M and the real Debian prose, at two training steps and two held-out
examples per language: the recipe trains, both systems generate from the few-shot prompt, and the table and
figures are written with base and adapter side by side. The full proof (`python -m
pushkin.training.task_proof --task fix_grammar`) is measured in docs/training.md."""

from __future__ import annotations

import json

import pytest

from pushkin.training.prose_corpus import ProseMissing, debian_prose
from pushkin.training.prose_pairs import BuildOptions
from pushkin.training.task_proof import ProofBudget, run

pytestmark = pytest.mark.timeout(1800)  # the session's GGUF conversion may run in this test's setup


def test_the_fix_grammar_proof_writes_base_and_adapter_figures(gemma_270m, tmp_path, monkeypatch):
    import torch

    try:
        passages = debian_prose()
    except ProseMissing as error:
        pytest.skip(f"the Debian prose is not installed ({error})")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(2)
    budget = ProofBudget(steps=2, batch_size=2, max_length=192, r=4, lr=3e-4, eval_per_language=2,
                         eval_loss_examples=2, eval_every=2)
    figures = run("fix_grammar", tmp_path, base=gemma_270m.source.path, budget=budget, passages=passages,
                  build_options=BuildOptions(max_train_pairs=200, max_gcide=500))

    assert json.loads((tmp_path / "results.json").read_text(encoding="utf-8")) == figures
    assert figures["systems"] == ["unchanged input", "base", "adapter"]
    assert figures["sample"] == {"en": 2, "ru": 2}
    for group in ("all", "en", "ru"):
        for system in figures["systems"]:
            scores = figures["scores"][group][system]
            assert 0.0 <= scores["rougeL"] <= 1.0 and 0.0 <= scores["exact_match"] <= 1.0, (group, system)
        assert "exact_match" in figures["scores"][group]["adapter_minus_base"]
    # The inputs themselves are the table's floor: in the passage's language, and never already the reference
    # unless the sample drew one of the passages left correct.
    floor = figures["scores"]["all"]["unchanged input"]
    assert floor["language_match"] == 1.0 and floor["length_ratio"] > 0.8
    assert [step for step, _ in json.loads((tmp_path / "run" / "history.json").read_text())["eval"]] == [0, 2]

    table = (tmp_path / "table.md").read_text(encoding="utf-8")
    for system in figures["systems"]:
        assert f"| all | {system} | 4 |" in table and f"| ru | {system} | 2 |" in table
    assert table.count("  - base: ") == 4 and table.count("  - adapter: ") == 4
    rows = [json.loads(line) for line in (tmp_path / "outputs.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 4 and all(r["base"].strip() and r["adapter"].strip() for r in rows)
    assert (tmp_path / "run" / "curves.png").stat().st_size > 0 and (tmp_path / "scores.png").stat().st_size > 0
    assert (tmp_path / "adapters" / "task-fix_grammar" / "pushkin_adapter.json").is_file()
