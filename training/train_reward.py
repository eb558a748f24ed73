"""Recipe: the writing-quality reward (classifier on (original, edited) pairs + learned metric weights).

    python -m pushkin.training.train_reward --config reward data.train=pairs.jsonl

Reads top to bottom: config → pairs (JSONL of {"original", "edited"} where the edit is better; eval
split by source unless given) → frozen sentence embeddings → train the classifier (Bradley–Terry) →
fit the mixture weights over classifier + rigid metrics (softmax, summing to 1) → report pairwise
accuracy on eval for each part and the combination → save the reward folder.
"""

from __future__ import annotations

import json
import logging
import random
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from . import loop
from .config import RewardConfig, load_config
from .data import TextExample, paragraphs, read_corpus, read_jsonl, split_by_source
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


def read_pairs(path: str) -> list[TextExample]:
    """(original, edited) pairs as TextExample(prompt=original, completion=edited, source)."""
    records = read_jsonl(path, ("original", "edited"))
    return [TextExample(r["original"], r["edited"], str(r.get("source") or f"{Path(path).name}:{i}"))
            for i, r in enumerate(records)]


def main(argv: Sequence[str] | None = None) -> Path:
    config = load_config(RewardConfig, argv)
    loop.default_threads()
    accelerator = loop.make_accelerator(config.run)
    out = Path(config.run.output_dir)

    # Data: pairs, eval isolated by source.
    pairs = read_pairs(config.data.train)
    if config.data.eval:
        train_pairs, eval_pairs = pairs, read_pairs(config.data.eval)
    else:
        split = split_by_source(pairs, eval_fraction=0.2, seed=config.run.seed)
        train_pairs, eval_pairs = list(split.train), list(split.eval)
    profile_texts = ([p for t in read_corpus(config.data.corpus_folders).values() for p in paragraphs(t)]
                     if config.data.corpus_folders else [p.completion for p in train_pairs])

    # Features: frozen sentence embeddings and the rigid metrics, computed once.
    embedder = default_embedder(config.encoder)

    def embed(texts: list[str]) -> torch.Tensor:
        return torch.from_numpy(np.asarray(embedder.encode(texts), dtype=np.float32))

    train_orig, train_edit = embed([p.prompt for p in train_pairs]), embed([p.completion for p in train_pairs])
    eval_orig, eval_edit = embed([p.prompt for p in eval_pairs]), embed([p.completion for p in eval_pairs])
    metrics = MetricScorer(profile_texts)

    def rigid(texts_and_originals) -> torch.Tensor:
        return torch.from_numpy(np.stack([metrics(t, o) for t, o in texts_and_originals]))

    train_rigid_edit = rigid([(p.completion, p.prompt) for p in train_pairs])
    train_rigid_orig = rigid([(p.prompt, p.prompt) for p in train_pairs])
    eval_rigid_edit = rigid([(p.completion, p.prompt) for p in eval_pairs])
    eval_rigid_orig = rigid([(p.prompt, p.prompt) for p in eval_pairs])

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
        orig, edit = train_orig[index].to(accelerator.device), train_edit[index].to(accelerator.device)
        return bradley_terry_loss(classifier(edit, orig), classifier(orig, orig))

    def eval_fn() -> float:
        orig, edit = eval_orig.to(accelerator.device), eval_edit.to(accelerator.device)
        return float(bradley_terry_loss(classifier(edit, orig), classifier(orig, orig)))

    history = loop.train(accelerator=accelerator, run=config.run, modules={"classifier": classifier},
                         optimizer=optimizer, scheduler=scheduler, batches=batches, loss_fn=loss_fn,
                         eval_fn=eval_fn, grad_clip=config.optim.grad_clip, tag="reward")
    classifier = accelerator.unwrap_model(classifier).eval()

    # Stage 2: the mixture weights θ (softmax → non-negative, summing to 1) and the sharpness τ.
    with torch.no_grad():
        parts_edit = torch.cat([torch.sigmoid(classifier(train_edit, train_orig))[:, None], train_rigid_edit], 1)
        parts_orig = torch.cat([torch.sigmoid(classifier(train_orig, train_orig))[:, None], train_rigid_orig], 1)
    theta = torch.zeros(len(PARTS), requires_grad=True)
    log_tau = torch.tensor(math_log(10.0), requires_grad=True)
    mix_optimizer = torch.optim.Adam([theta, log_tau], lr=0.05)
    for _ in range(config.weight_steps):
        weights = torch.softmax(theta, 0)
        margin = (parts_edit - parts_orig) @ weights
        loss = bradley_terry_loss(log_tau.exp() * margin, torch.zeros_like(margin))
        mix_optimizer.zero_grad()
        loss.backward()
        mix_optimizer.step()

    reward = WritingReward(classifier, theta.detach(), float(log_tau.detach().exp()), embedder, metrics, config.encoder)

    # Report: pairwise accuracy on eval of each part alone and of the combination.
    with torch.no_grad():
        eval_parts_edit = torch.cat([torch.sigmoid(classifier(eval_edit, eval_orig))[:, None], eval_rigid_edit], 1)
        eval_parts_orig = torch.cat([torch.sigmoid(classifier(eval_orig, eval_orig))[:, None], eval_rigid_orig], 1)
    weights = torch.softmax(theta.detach(), 0)
    report = {
        "train_pairs": len(train_pairs), "eval_pairs": len(eval_pairs), "weights": reward.weights,
        "sharpness": reward.sharpness,
        "eval_accuracy": {
            "combined": pairwise_accuracy((eval_parts_edit @ weights).tolist(), (eval_parts_orig @ weights).tolist()),
            **{part: pairwise_accuracy(eval_parts_edit[:, i].tolist(), eval_parts_orig[:, i].tolist())
               for i, part in enumerate(PARTS)},
        },
    }
    folder = Path(config.output)
    if accelerator.is_main_process:
        reward.save(folder, profile_texts)
        (folder / "report.json").write_text(json.dumps(report, indent=1))
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
