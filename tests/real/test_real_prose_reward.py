"""The prose builder on the real Debian prose (fortunes, fortunes-ru, GCIDE) and the reward trained on its
human-vs-degraded pairs with the real all-MiniLM-L6-v2, for a few steps: the files and figures are
written. The full proof (`python -m pushkin.training.reward_proof`) is measured in docs/training.md."""

from __future__ import annotations

import json

import pytest

from pushkin.training.prose_corpus import FORTUNES_DIR, ProseMissing, debian_prose
from pushkin.training.prose_pairs import BuildOptions
from pushkin.training.reward_proof import run


@pytest.fixture(scope="module")
def prose():
    try:
        return debian_prose()
    except ProseMissing as error:
        pytest.fail(f"the Debian prose is not installed ({error}): `make setup` (scripts/setup.sh) installs "
                    "fortunes, fortunes-ru and dict-gcide")


def test_real_prose_has_both_languages_from_every_package(prose):
    packages = {p.source.split("/")[0] for p in prose}
    assert {"fortunes", "fortunes-ru"} <= packages
    counts = {lang: sum(p.language == lang for p in prose) for lang in ("en", "ru")}
    assert counts["en"] > 3000 and counts["ru"] > 3000, counts
    assert not any(p.source.endswith(("/sex", "/ethnic", "/politics", "/polit")) for p in prose)
    assert (FORTUNES_DIR / "ru").is_dir()


def test_the_reward_trains_on_real_prose_pairs_and_writes_its_figures(prose, tmp_path, monkeypatch):
    import torch

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(1)
    figures = run(tmp_path, passages=prose, options=BuildOptions(max_train_pairs=120, max_gcide=500),
                  overrides=["run.max_steps=3", "run.batch_size=16", "run.eval_every=0", "weight_steps=5"])
    for task in ("continue", "fix_grammar", "reward"):
        for split in ("train", "eval"):
            records = (tmp_path / "data" / task / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
            assert {json.loads(line)["language"] for line in records} == {"en", "ru"}, (task, split)
    assert (tmp_path / "reward" / "classifier.safetensors").is_file()
    assert json.loads((tmp_path / "figures.json").read_text()) == figures
    overall = figures["eval_accuracy"]["combined"]["overall"]
    assert overall["pairs"] == figures["pairs"]["eval"] > 0
    assert overall["ci95"][0] <= overall["accuracy"] <= overall["ci95"][1]
    assert set(figures["eval_accuracy"]["classifier"]["language"]) == {"en", "ru"}
    assert set(figures["eval_accuracy"]["combined"]["reference"]) == {"degraded", "human"}
