"""Recipe: the writing-quality reward (classifier on preference pairs + learned metric weights).

    python -m pushkin.training.train_reward --config reward data.train=pairs.jsonl [data.eval=held.jsonl]

Reads top to bottom: config → pairs (JSONL of {"original", "edited"} where the edit is better, or of
{"original", "chosen", "rejected"}; eval split by source unless given) → frozen sentence embeddings →
train the classifier (Bradley–Terry on chosen vs rejected, both conditioned on the original) → fit the
mixture weights over classifier + rigid metrics (softmax, summing to 1) → report pairwise accuracy on
eval for each part and the combination, also by the pairs' ``kind``/``language``/``reference`` labels →
save the reward folder (with ``report.json`` and each eval pair's margins in ``eval_margins.jsonl``).
"""

from __future__ import annotations

import json
import logging
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import loop
from .config import RewardConfig, load_config
from .data import DataError, TextExample, paragraphs, read_corpus, read_jsonl, split_by_source, write_jsonl
from .plots import plot_history
from .reward import (
    PARTS,
    MetricScorer,
    PairClassifier,
    WritingReward,
    bradley_terry_loss,
    default_embedder,
    pairwise_accuracy,
)

log = logging.getLogger(__name__)

GROUP_FIELDS = ("kind", "language", "reference")  # labels a pair may carry; the report breaks accuracy down by each


@dataclass(frozen=True)
class PreferencePair:
    """``chosen`` is better than ``rejected`` as an edit of ``original`` (the reference the reward conditions on)."""

    original: str
    chosen: str
    rejected: str
    source: str
    labels: tuple[tuple[str, str], ...] = ()  # (field, value) for the fields of GROUP_FIELDS the record has


def read_pairs(path: str) -> list[PreferencePair]:
    """JSONL of {"original", "edited"} (the edit beats leaving the original: chosen = edited, rejected =
    original) or of {"original", "chosen", "rejected"}; optional "source" and the GROUP_FIELDS labels."""
    records = read_jsonl(path, ("original",))
    pairs = []
    for i, r in enumerate(records):
        if "chosen" in r or "rejected" in r:
            chosen, rejected = r.get("chosen"), r.get("rejected")
        else:
            chosen, rejected = r.get("edited"), r["original"]
        if not isinstance(chosen, str) or not chosen.strip() or not isinstance(rejected, str) or not rejected.strip():
            raise DataError(f"{path}:{i + 1}: give 'edited', or both 'chosen' and 'rejected', as non-empty strings")
        labels = tuple((k, str(r[k])) for k in GROUP_FIELDS if k in r)
        pairs.append(PreferencePair(r["original"], chosen, rejected, str(r.get("source") or f"{Path(path).name}:{i}"),
                                    labels))
    return pairs


def split_pairs(pairs: list[PreferencePair], seed: int) -> tuple[list[PreferencePair], list[PreferencePair]]:
    """Train/eval by source (split_by_source on the original and the chosen text)."""
    examples = [TextExample(p.original, p.chosen, p.source) for p in pairs]
    by_example = {id(e): p for e, p in zip(examples, pairs)}
    split = split_by_source(examples, eval_fraction=0.2, seed=seed)
    return [by_example[id(e)] for e in split.train], [by_example[id(e)] for e in split.eval]


def accuracy_by_group(pairs: Sequence[PreferencePair], margins: Sequence[float]) -> dict[str, dict[str, float]]:
    """Pairwise accuracy (margin > 0; a tie counts half) for each value of each label field."""
    report: dict[str, dict[str, float]] = {}
    for field in GROUP_FIELDS:
        groups: dict[str, list[float]] = {}
        for pair, margin in zip(pairs, margins):
            value = dict(pair.labels).get(field)
            if value is not None:
                groups.setdefault(value, []).append(margin)
        if groups:
            report[field] = {value: pairwise_accuracy(ms, [0.0] * len(ms)) for value, ms in sorted(groups.items())}
    return report


def main(argv: Sequence[str] | None = None) -> Path:
    config = load_config(RewardConfig, argv)
    loop.default_threads()
    accelerator = loop.make_accelerator(config.run)
    out = Path(config.run.output_dir)

    # Data: preference pairs, eval isolated by source.
    pairs = read_pairs(config.data.train)
    if config.data.eval:
        train_pairs, eval_pairs = pairs, read_pairs(config.data.eval)
    else:
        train_pairs, eval_pairs = split_pairs(pairs, config.run.seed)
    if config.data.corpus_folders:
        profile_texts = [p for t in read_corpus(config.data.corpus_folders).values() for p in paragraphs(t)]
    else:
        # The metrics then compare each training text with a profile that holds it: the mixture over-trusts
        # n-gram match (measured on the prose pairs: 0.82 of the weight, held-out accuracy 0.68 vs 0.79).
        log.warning("no data.corpus_folders: the style profile is the training pairs' chosen texts")
        profile_texts = sorted({p.chosen for p in train_pairs})

    # Features: frozen sentence embeddings (each distinct text once) and the rigid metrics, computed once.
    embedder = default_embedder(config.encoder)
    texts = sorted({t for p in train_pairs + eval_pairs for t in (p.original, p.chosen, p.rejected)})
    table = torch.from_numpy(np.asarray(embedder.encode(texts), dtype=np.float32))
    row = {t: i for i, t in enumerate(texts)}

    def embed(which: Sequence[str]) -> torch.Tensor:
        return table[[row[t] for t in which]]

    train_orig, eval_orig = embed([p.original for p in train_pairs]), embed([p.original for p in eval_pairs])
    train_chosen, eval_chosen = embed([p.chosen for p in train_pairs]), embed([p.chosen for p in eval_pairs])
    train_rejected, eval_rejected = embed([p.rejected for p in train_pairs]), embed([p.rejected for p in eval_pairs])
    metrics = MetricScorer(profile_texts)

    def rigid(texts_and_originals) -> torch.Tensor:
        return torch.from_numpy(np.stack([metrics(t, o) for t, o in texts_and_originals]))

    train_rigid_chosen = rigid([(p.chosen, p.original) for p in train_pairs])
    train_rigid_rejected = rigid([(p.rejected, p.original) for p in train_pairs])
    eval_rigid_chosen = rigid([(p.chosen, p.original) for p in eval_pairs])
    eval_rigid_rejected = rigid([(p.rejected, p.original) for p in eval_pairs])

    # Stage 1: the classifier.
    torch.manual_seed(config.run.seed)
    classifier = PairClassifier(train_orig.shape[1], config.hidden)
    optimizer = loop.make_optimizer([{"params": list(classifier.parameters())}], config.optim)
    scheduler = loop.make_scheduler(optimizer, config.optim, config.run.max_steps)
    classifier, optimizer = accelerator.prepare(classifier, optimizer)

    def batches(start: int):
        rng = random.Random(config.run.seed * 31 + start)
        while True:
            yield rng.sample(range(len(train_pairs)), min(config.run.batch_size, len(train_pairs)))

    def loss_fn(index):
        device = accelerator.device
        orig, chosen, rejected = (x[index].to(device) for x in (train_orig, train_chosen, train_rejected))
        return bradley_terry_loss(classifier(chosen, orig), classifier(rejected, orig))

    def eval_fn() -> float:
        orig, chosen, rejected = (x.to(accelerator.device) for x in (eval_orig, eval_chosen, eval_rejected))
        with torch.no_grad():
            return float(bradley_terry_loss(classifier(chosen, orig), classifier(rejected, orig)))

    history = loop.train(accelerator=accelerator, run=config.run, modules={"classifier": classifier},
                         optimizer=optimizer, scheduler=scheduler, batches=batches, loss_fn=loss_fn,
                         eval_fn=eval_fn, grad_clip=config.optim.grad_clip, tag="reward")
    classifier = accelerator.unwrap_model(classifier).eval()

    # Stage 2: the mixture weights θ (softmax → non-negative, summing to 1) and the sharpness τ.
    with torch.no_grad():
        parts_chosen = torch.cat([torch.sigmoid(classifier(train_chosen, train_orig))[:, None], train_rigid_chosen], 1)
        parts_rejected = torch.cat([torch.sigmoid(classifier(train_rejected, train_orig))[:, None],
                                    train_rigid_rejected], 1)
    theta = torch.zeros(len(PARTS), requires_grad=True)
    log_tau = torch.tensor(math_log(10.0), requires_grad=True)
    mix_optimizer = torch.optim.Adam([theta, log_tau], lr=0.05)
    for _ in range(config.weight_steps):
        weights = torch.softmax(theta, 0)
        margin = (parts_chosen - parts_rejected) @ weights
        loss = bradley_terry_loss(log_tau.exp() * margin, torch.zeros_like(margin))
        mix_optimizer.zero_grad()
        loss.backward()
        mix_optimizer.step()

    reward = WritingReward(classifier, theta.detach(), float(log_tau.detach().exp()), embedder, metrics, config.encoder)

    # Report: pairwise accuracy on eval of each part alone and of the combination, overall and by label.
    with torch.no_grad():
        eval_parts_chosen = torch.cat([torch.sigmoid(classifier(eval_chosen, eval_orig))[:, None], eval_rigid_chosen], 1)
        eval_parts_rejected = torch.cat([torch.sigmoid(classifier(eval_rejected, eval_orig))[:, None],
                                         eval_rigid_rejected], 1)
    weights = torch.softmax(theta.detach(), 0)
    combined_margin = ((eval_parts_chosen - eval_parts_rejected) @ weights).tolist()
    classifier_margin = (eval_parts_chosen[:, 0] - eval_parts_rejected[:, 0]).tolist()
    report = {
        "train_pairs": len(train_pairs), "eval_pairs": len(eval_pairs), "weights": reward.weights,
        "sharpness": reward.sharpness,
        "eval_accuracy": {
            "combined": pairwise_accuracy(combined_margin, [0.0] * len(combined_margin)),
            **{part: pairwise_accuracy(eval_parts_chosen[:, i].tolist(), eval_parts_rejected[:, i].tolist())
               for i, part in enumerate(PARTS)},
        },
        "eval_accuracy_by": {"combined": accuracy_by_group(eval_pairs, combined_margin),
                             "classifier": accuracy_by_group(eval_pairs, classifier_margin)},
    }
    folder = Path(config.output)
    if accelerator.is_main_process:
        reward.save(folder, profile_texts)
        (folder / "report.json").write_text(json.dumps(report, indent=1))
        # Each held-out pair's margins, so a caller can put intervals on the figures.
        write_jsonl(folder / "eval_margins.jsonl",
                    ({"source": p.source, **dict(p.labels), "combined": c, "classifier": k}
                     for p, c, k in zip(eval_pairs, combined_margin, classifier_margin)))
        history.save(out / "history.json")
        plot_history(history, out / "curves.png", title="reward classifier (Bradley-Terry loss)")
        log.info("reward: %s", json.dumps(report))
    return folder


def math_log(x: float) -> float:
    import math

    return math.log(x)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    main(sys.argv[1:])
