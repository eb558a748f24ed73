"""Recipe: DPO refinement — candidates from the composed model, ranked by the writing-quality reward.

    python -m pushkin.training.train_dpo --config dpo data.prompts=prompts.jsonl \\
        adapters=[adapters/persona-me,adapters/task-continue] reward=adapters/reward
    accelerate launch --config_file training/accelerate/fsdp.yaml -m pushkin.training.train_dpo --config ...

Reads top to bottom:

1. config; the base with the composition's adapters merged in (the policy refines that composition;
   the reference is the same merged model, i.e. the new LoRA disabled);
2. ``candidates`` samples per prompt (temperature + min-p, the runtime's own sampler), scored by the
   reward (:class:`pushkin.training.reward.WritingReward`); the best becomes "chosen", the worst
   "rejected" (prompts whose candidates all score the same are dropped); eval pairs come from held-out
   prompts (split by source);
3. with ``deviation_weighting`` (diversified DPO), each pair weighs by the deviation of its chosen
   candidate — 1 minus its mean cosine similarity to the other candidates of its prompt, normalized to
   mean 1 — applied by drawing the training pairs in proportion to their weights (the same expected
   gradient as scaling each pair's loss);
4. DPO through TRL's DPOTrainer with a new LoRA; the eval reward margin (β · the policy/reference
   log-ratio of chosen minus rejected) is measured before and after on the held-out pairs;
5. save the LoRA into the registry as a task adapter, the pairs and the report beside the run.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pushkin.model.registry import AdapterKind, AdapterManifest, read_adapter, save_adapter

from . import data as textdata
from . import loop, text
from .config import DpoConfig, load_config
from .plots import plot_series

log = logging.getLogger(__name__)


def merged_composition(config: DpoConfig):
    """The base with ``config.adapters`` merged in (LoadedModel); the DPO policy and reference start here."""
    from peft import PeftModel

    loaded = text.load_for_training(config.model, config.run)
    model = loaded.model
    for folder in config.adapters:
        entry = read_adapter(folder)
        model = PeftModel.from_pretrained(model, str(folder), adapter_name=entry.manifest.peft_name).merge_and_unload()
    loaded.model = model
    return loaded


def sample_candidates(model, tokenizer, prompt: str, config: DpoConfig, seed: int) -> list[str]:
    """``config.candidates`` sampled continuations of ``prompt`` (distinct seeds), stripped."""
    from pushkin.model.generation import SamplingOptions, stream_text

    ids = tokenizer(prompt, return_tensors="pt").input_ids.to(next(model.parameters()).device)
    out = []
    for i in range(config.candidates):
        options = SamplingOptions(max_new_tokens=config.max_new_tokens, temperature=config.temperature,
                                  min_p=config.min_p, seed=seed * 1000 + i)
        out.append("".join(stream_text(model, tokenizer, input_ids=ids, options=options)))
    return out


def deviations(vectors: np.ndarray) -> np.ndarray:
    """``(N, E)`` unit vectors of one prompt's candidates → ``(N,)``: 1 - mean cosine to the others."""
    n = len(vectors)
    if n < 2:
        return np.zeros(n)
    sims = vectors @ vectors.T
    return 1.0 - (sims.sum(1) - np.diag(sims)) / (n - 1)


def build_pairs(model, tokenizer, prompts: list[dict], config: DpoConfig, scorer, embed) -> list[dict]:
    """Chosen/rejected pairs (with the chosen candidate's deviation) for each prompt."""
    pairs = []
    for i, record in enumerate(prompts):
        candidates = sample_candidates(model, tokenizer, record["prompt"], config, seed=config.run.seed + i)
        scores = scorer(candidates, [record.get("original") or record["prompt"]] * len(candidates))
        best, worst = int(np.argmax(scores)), int(np.argmin(scores))
        if scores[best] <= scores[worst] or candidates[best] == candidates[worst]:
            continue
        deviation = float(deviations(embed(candidates))[best])
        pairs.append({"prompt": record["prompt"], "chosen": candidates[best], "rejected": candidates[worst],
                      "chosen_score": float(scores[best]), "rejected_score": float(scores[worst]),
                      "deviation": deviation, "source": record.get("source", str(i))})
    return pairs


def weighted_resample(pairs: list[dict], seed: int) -> list[dict]:
    """Diversified DPO: pairs drawn with replacement in proportion to their normalized deviation."""
    weights = np.array([max(p["deviation"], 1e-6) for p in pairs])
    weights = weights / weights.mean()
    for p, w in zip(pairs, weights):
        p["weight"] = float(w)
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(pairs), size=len(pairs), replace=True, p=weights / weights.sum())
    return [pairs[i] for i in picks]


def main(argv: Sequence[str] | None = None) -> Path:
    from datasets import Dataset
    from peft import LoraConfig
    from trl import DPOConfig as TrlDpoConfig
    from trl import DPOTrainer

    config = load_config(DpoConfig, argv)
    loop.default_threads()
    out = Path(config.run.output_dir)
    out.mkdir(parents=True, exist_ok=True)

    # Setup: the composed (merged) model and the reward.
    loaded = merged_composition(config)
    model, tokenizer = loaded.model, loaded.tokenizer
    if config.reward:
        from .reward import WritingReward

        reward = WritingReward.load(config.reward)
        scorer, embed = reward.score_many, lambda texts: np.asarray(reward.embedder.encode(texts), np.float32)
    else:
        profile = ([p for t in textdata.read_corpus(config.corpus_folders).values() for p in textdata.paragraphs(t)]
                   if config.corpus_folders else [])
        scorer, embed = _rigid_scorer(profile), _bag_of_words

    # Pairs: from the composed model's own candidates, or given.
    if config.data.pairs:
        pairs = [dict(r, deviation=float(r.get("deviation", 1.0)))
                 for r in textdata.read_jsonl(config.data.pairs, ("prompt", "chosen", "rejected"))]
        for i, p in enumerate(pairs):
            p.setdefault("source", str(i))
    else:
        prompts = textdata.read_jsonl(config.data.prompts, ("prompt",))
        model.eval()
        pairs = build_pairs(model, tokenizer, prompts, config, scorer, embed)
    examples = [textdata.TextExample(p["prompt"], p["chosen"], str(p["source"])) for p in pairs]
    split = textdata.split_by_source(examples, eval_fraction=config.data.eval_fraction, seed=config.run.seed,
                                     near_duplicate=1.01)
    eval_sources = {e.source for e in split.eval}
    train_pairs = [p for p in pairs if str(p["source"]) not in eval_sources]
    eval_pairs = [p for p in pairs if str(p["source"]) in eval_sources]
    if not train_pairs or not eval_pairs:
        raise textdata.DataError(f"{len(pairs)} pairs gave {len(train_pairs)} train and {len(eval_pairs)} eval")
    if config.deviation_weighting:
        train_pairs = weighted_resample(train_pairs, config.run.seed)
    textdata.write_jsonl(out / "pairs-train.jsonl", train_pairs)
    textdata.write_jsonl(out / "pairs-eval.jsonl", eval_pairs)

    # DPO through TRL, with a new LoRA on the merged composition.
    columns = lambda ps: Dataset.from_list([{"prompt": p["prompt"], "chosen": p["chosen"],  # noqa: E731
                                             "rejected": p["rejected"]} for p in ps])
    precision = loop.resolve_precision(config.run)
    args = TrlDpoConfig(
        output_dir=str(out / "trl"), max_steps=config.run.max_steps, per_device_train_batch_size=config.run.batch_size,
        per_device_eval_batch_size=config.run.batch_size, gradient_accumulation_steps=config.run.grad_accum,
        learning_rate=config.optim.lr, lr_scheduler_type="cosine",
        warmup_steps=int(config.optim.warmup_ratio * config.run.max_steps),
        adam_beta1=config.optim.betas[0], adam_beta2=config.optim.betas[1], weight_decay=config.optim.weight_decay,
        max_grad_norm=config.optim.grad_clip, beta=config.beta, max_length=config.model.max_length,
        bf16=precision == "bf16", fp16=precision == "fp16",
        gradient_checkpointing=loop.wants_gradient_checkpointing(config.run),
        logging_steps=1, eval_strategy="steps" if config.run.eval_every else "no",
        eval_steps=config.run.eval_every or None, save_steps=config.run.save_every or config.run.max_steps,
        save_total_limit=config.run.keep_checkpoints, report_to=["tensorboard"] if config.run.tensorboard else [],
        disable_tqdm=not config.run.progress, seed=config.run.seed,
        use_cpu=loaded.device == "cpu" and not _cuda(), dataset_num_proc=None,
    )
    lora = LoraConfig(r=config.lora.r, lora_alpha=config.lora.alpha, lora_dropout=config.lora.dropout,
                      target_modules=list(config.lora.target_modules), task_type="CAUSAL_LM")
    model.train()
    trainer = DPOTrainer(model=model, args=args, train_dataset=columns(train_pairs),
                         eval_dataset=columns(eval_pairs), processing_class=tokenizer, peft_config=lora)
    # The trainer's checkpoints hold the LoRA only: PEFT would add the whole (tied) embedding because
    # load_base grew the vocabulary (1.3 GB a checkpoint on Gemma 3 270M); the added rows are rebuilt on load.
    trained: Any = trainer.model  # a PeftModel once peft_config is given
    trained.save_pretrained = functools.partial(trained.save_pretrained, save_embedding_layers=False)
    before = trainer.evaluate()
    resume = config.run.resume and any((out / "trl").glob("checkpoint-*"))
    trainer.train(resume_from_checkpoint=True if resume else None)
    after = trainer.evaluate()

    # Save: the LoRA as a task adapter in the registry, the report and curves beside the run.
    name = config.registry.name or f"{config.task}-dpo".replace("_", "-")
    manifest = AdapterManifest(name=name, kind=AdapterKind.TASK, base_model=config.model.base, rank=config.lora.r,
                               task=config.task, description=f"DPO on {len(train_pairs)} reward-ranked pairs over "
                                                             f"{', '.join(Path(a).name for a in config.adapters) or 'the base'}")
    folder = text.adapter_folder(config.registry.root, AdapterKind.TASK, name)
    if trainer.accelerator.is_main_process:
        save_adapter(trainer.accelerator.unwrap_model(trainer.model), "default", folder, manifest)
        report = {"train_pairs": len(train_pairs), "eval_pairs": len(eval_pairs),
                  "deviation_weighting": config.deviation_weighting,
                  "eval_margin_before": before.get("eval_rewards/margins"),
                  "eval_margin_after": after.get("eval_rewards/margins"),
                  "eval_accuracy_before": before.get("eval_rewards/accuracies"),
                  "eval_accuracy_after": after.get("eval_rewards/accuracies"),
                  "eval_loss_before": before.get("eval_loss"), "eval_loss_after": after.get("eval_loss")}
        (out / "report.json").write_text(json.dumps(report, indent=1))
        logs = trainer.state.log_history
        plot_series({"train margin": [(e["step"], e["rewards/margins"]) for e in logs if "rewards/margins" in e],
                     "eval margin": [(0, before.get("eval_rewards/margins", 0.0))]
                     + [(e["step"], e["eval_rewards/margins"]) for e in logs if "eval_rewards/margins" in e]},
                    out / "curves.png", title="DPO reward margin (chosen - rejected)", ylabel="margin")
        log.info("DPO: %s", json.dumps(report))
    return folder


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _rigid_scorer(profile_texts: Sequence[str]):
    """Without a trained reward: the mean of the persona work's embedding-free style components, against a
    profile of the author's corpus (of the originals when no corpus is given)."""
    from .reward import MetricScorer

    fixed = MetricScorer(profile_texts) if profile_texts else None

    def score(candidates, originals):
        metrics = fixed or MetricScorer(list(originals))
        return [float(metrics(c, o).mean()) for c, o in zip(candidates, originals)]

    return score


def _bag_of_words(texts: Sequence[str]) -> np.ndarray:
    """Unit bag-of-words vectors (hashed), for deviations when there is no sentence embedder."""
    import zlib

    from .metrics import words

    vectors = np.zeros((len(texts), 512), dtype=np.float32)
    for row, t in enumerate(texts):
        for w in words(t):
            vectors[row, zlib.crc32(w.encode()) % 512] += 1.0
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    main(sys.argv[1:])
