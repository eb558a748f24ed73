"""evaluate: text metrics for the adapter and the base on the same prompts, style metrics, JSON + plot."""

from __future__ import annotations

import json

import pytest

from .conftest import CONFIGS


@pytest.mark.slow
def test_evaluate_task_and_persona_reports(tiny_gemma, rephrase_jsonl, author_corpus, tmp_path):
    from pushkin.training import evaluate, train_task

    folder = train_task.main([str(CONFIGS / "task_tiny.yaml"), f"model.base={tiny_gemma}", f"data.train={rephrase_jsonl}",
                              f"run.output_dir={tmp_path / 'run'}", f"registry.root={tmp_path / 'adapters'}",
                              "run.save_every=0", "optim.lr=1e-2"])
    report = evaluate.main(["kind=task", f"adapter={folder}", f"data={rephrase_jsonl}", f"model.base={tiny_gemma}",
                            "max_examples=4", "max_new_tokens=8", f"output_dir={tmp_path / 'eval'}"])
    for system in ("adapter", "base"):
        scores = report[system]
        assert scores["count"] == 4
        assert all(0.0 <= scores[k] <= 1.0 for k in ("rouge1", "rouge2", "rougeL", "bleu", "exact_match", "jaccard"))
    assert len(report["samples"]) == 4 and all({"adapter", "base", "reference"} <= set(s) for s in report["samples"])
    assert json.loads((tmp_path / "eval" / "report.json").read_text())["examples"] == 4
    assert (tmp_path / "eval" / "report.png").stat().st_size > 0

    from pushkin.training import data

    continuations = tmp_path / "continue.jsonl"
    data.write_jsonl(continuations, data.continuation_examples(data.read_corpus([author_corpus]), context_chars=120,
                                                              completion_chars=80)[:3])
    persona = evaluate.main(["kind=persona", f"adapter={folder}", f"data={continuations}", f"model.base={tiny_gemma}",
                             f"corpus_folders=[{author_corpus}]", "max_examples=3", "max_new_tokens=8",
                             f"output_dir={tmp_path / 'eval-persona'}"])
    assert 0.0 <= persona["style"]["adapter"]["composite"] <= 1.0
    assert set(persona["style"]["base"]) >= {"composite", "ngram_match", "generic"}
