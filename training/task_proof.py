"""A task LoRA on real prose against the pretrained base, on held-out sources: does the adapter beat the base?

    .venv/bin/python -m pushkin.training.task_proof --task fix_grammar --out runs/task-fix_grammar
    .venv/bin/python -m pushkin.training.task_proof --task continue --out runs/task-continue

Reads top to bottom: the prose pairs (:mod:`pushkin.training.prose_pairs`, built under ``<out>/data`` unless
``--data`` names a built folder) → a fixed held-out sample, the same count per language → the shipped task
recipe (``train_task --config task_<task>``) with this proof's budget on top → greedy outputs of the adapter
and of the base alone (adapter disabled) on the sample, both reading the runtime's own prompt (the few-shot
prompt of :mod:`pushkin.text_lora.tasks`, which the pretrained base follows) → the figures, overall and per
language, side by side: ROUGE-1/2/L, BLEU (the package's word BLEU and sacreBLEU), exact match (fix_grammar),
length ratio, language match, the embedding-free style metrics against a profile of train-side passages of
the same language, and paired bootstrap intervals of the adapter-minus-base differences.

Writes ``results.json``, ``table.md`` (the tables and sample outputs), ``outputs.jsonl`` (every output),
``run/curves.png`` (the recipe's loss curves) and ``scores.png``.

fix_grammar also scores the input left as it is ("unchanged input"): the errors are one or two words in a
passage, so copying the input already scores high on the overlap metrics, and an adapter is useful only
where it beats that floor. "continue" has no end marker (the runtime writes a fixed budget), so both outputs
are cut to their first sentence before they are compared with the reference, the passage's next sentence.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pushkin.text_lora.tasks import get_task, stop_strings

from . import metrics
from .prose_corpus import split_sentences

log = logging.getLogger(__name__)

DEFAULT_BASE = "~/.local/share/pushkin/models/gemma-3-270m/gemma-3-270m-q4_k_m.gguf"
LANGUAGES = ("en", "ru")


@dataclass(frozen=True)
class ProofBudget:
    """What fits the proof in an hour on two CPU cores (measured: docs/training.md), per task."""

    steps: int
    batch_size: int
    max_length: int  # tokens per training example
    r: int
    lr: float
    eval_per_language: int  # held-out examples generated, per language
    eval_loss_examples: int  # held-out examples in the recipe's eval loss (a subset of the sample)
    eval_every: int


BUDGETS = {
    # Measured on the shared 2-core machine (another job holding one core): a step of 4 examples of ~200
    # tokens took 42-45 s (of 8: 39-78 s), so 40 steps, the eval-loss points and 160 greedy outputs fit an
    # hour. Batches of 4 give twice the updates of batches of 8 in the same time.
    "fix_grammar": ProofBudget(steps=40, batch_size=4, max_length=256, r=16, lr=4e-4, eval_per_language=40,
                               eval_loss_examples=16, eval_every=10),
    "continue": ProofBudget(steps=40, batch_size=4, max_length=192, r=16, lr=4e-4, eval_per_language=40,
                            eval_loss_examples=16, eval_every=10),
}
PROFILE_PASSAGES = 3000  # train-side passages per language in the style profile
CONTINUE_NEW_TOKENS = 48  # enough for one sentence; the output is cut at its first sentence
STYLE_KEYS = ("composite", "ngram_match", "ttr", "mtld", "sentence_lengths", "generic", "compression")


# ----------------------------------------------------------------------------------------------------------
# Data


def read_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def eval_sample(records: Sequence[dict], per_language: int, seed: int = 0) -> list[dict]:
    """A fixed sample of held-out records: ``per_language`` of each language, drawn with ``seed``."""
    sample: list[dict] = []
    for language in LANGUAGES:
        own = [r for r in records if r["language"] == language]
        random.Random(seed).shuffle(own)
        sample += own[:per_language]
    return sample


def reference_of(task: str, record: dict) -> str:
    return first_sentence(record["completion"]) if task == "continue" else record["completion"].strip()


def first_sentence(text: str) -> str:
    parts = split_sentences(text.strip())
    return parts[0] if parts else text.strip()


# ----------------------------------------------------------------------------------------------------------
# Generation


def greedy_outputs(model, tokenizer, prompts: Sequence[str], *, max_new_tokens: Sequence[int],
                   stops: Sequence[str], batch_size: int = 8) -> list[str]:
    """Greedy continuations of ``prompts``, batched (left-padded, longest first), each cut at the first of
    ``stops`` and at its own ``max_new_tokens``; the prompt's text is not returned."""
    import torch

    order = sorted(range(len(prompts)), key=lambda i: -len(prompts[i]))
    outputs = [""] * len(prompts)
    tokenizer.padding_side = "left"
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        batch = tokenizer([prompts[i] for i in rows], return_tensors="pt", padding=True)
        budget = max(max_new_tokens[i] for i in rows)
        kwargs = {"stop_strings": list(stops), "tokenizer": tokenizer} if stops else {}
        with torch.inference_mode():
            generated = model.generate(**batch, max_new_tokens=budget, do_sample=False, top_p=None, top_k=None,
                                       pad_token_id=tokenizer.pad_token_id, **kwargs)
        for row, i in enumerate(rows):
            ids = generated[row, batch["input_ids"].shape[1]:][: max_new_tokens[i]]
            text = tokenizer.decode(ids, skip_special_tokens=True)
            for stop in stops:
                text = text.split(stop)[0]
            outputs[i] = text
    return outputs


def generate_both(base: str, adapter: Path, prompts: Sequence[str], task: str,
                  max_new_tokens: Sequence[int]) -> tuple[list[str], list[str]]:
    """(adapter outputs, base outputs): the same loaded model with the adapter active, then disabled."""
    from .evaluate import _composed

    composed, entry = _composed(base, adapter)
    peft = composed.peft
    if peft is None:
        raise RuntimeError(f"the adapter in {adapter} did not load onto {base}: {composed.load_problems}")
    peft.base_model.set_adapter([entry.manifest.peft_name])
    stops = stop_strings(get_task(task))
    tuned = greedy_outputs(peft, composed.tokenizer, prompts, max_new_tokens=max_new_tokens, stops=stops)
    with peft.disable_adapter():
        baseline = greedy_outputs(peft, composed.tokenizer, prompts, max_new_tokens=max_new_tokens, stops=stops)
    return tuned, baseline


# ----------------------------------------------------------------------------------------------------------
# Scores


def style_profiles(passages: Path) -> dict:
    """Per language, the style profile of the train-side passages (never an eval passage)."""
    from pushkin.persona.metrics import StyleProfile

    records = read_records(passages)
    random.Random(0).shuffle(records)
    return {language: StyleProfile.from_texts([r["text"] for r in records if r["language"] == language][:PROFILE_PASSAGES])
            for language in LANGUAGES}


def style_means(texts: Sequence[str], profile) -> dict:
    """Mean embedding-free style components and composite (the persona evaluation's weights)."""
    from pushkin.persona.metrics import score_style

    from .evaluate import style_weights_without_embeddings

    scored = [score_style(t, profile, weights=style_weights_without_embeddings()) for t in texts if t.strip()]
    if not scored:
        return dict.fromkeys(STYLE_KEYS, 0.0)
    means = {"composite": float(np.mean([s.composite for s in scored]))}
    for key in STYLE_KEYS[1:]:
        means[key] = float(np.mean([s.components[key] for s in scored]))
    return means


def system_scores(outputs: Sequence[str], references: Sequence[str], wanted: Sequence[str], profiles: dict,
                  with_exact: bool) -> dict:
    """One system's scores on a group of examples; ``wanted``: each example's expected output language, whose
    profile its output's style is measured against (a mixed group averages the languages by their counts)."""
    text = metrics.text_scores(outputs, references)
    scores: dict = {"rouge1": text.rouge1, "rouge2": text.rouge2, "rougeL": text.rougeL, "bleu": text.bleu,
                    "sacrebleu": metrics.sacre_bleu(outputs, references),
                    "length_ratio": metrics.length_ratio(outputs, references),
                    "language_match": metrics.language_match(outputs, wanted),
                    "empty": sum(not o.strip() for o in outputs) / len(outputs), "count": len(outputs)}
    if with_exact:
        scores["exact_match"] = text.exact_match
    style = {language: (style_means([o for o, w in zip(outputs, wanted) if w == language], profiles[language]),
                        sum(w == language for w in wanted)) for language in LANGUAGES if language in wanted}
    total = sum(count for _, count in style.values())
    scores["style"] = {key: sum(means[key] * count for means, count in style.values()) / total for key in STYLE_KEYS}
    return scores


def paired_difference(tuned: Sequence[float], baseline: Sequence[float], resamples: int = 2000,
                      seed: int = 0) -> dict:
    """Mean of tuned − baseline per example, with a 95 % percentile bootstrap interval over examples."""
    diff = np.asarray(tuned, dtype=float) - np.asarray(baseline, dtype=float)
    draws = np.random.default_rng(seed).integers(0, len(diff), size=(resamples, len(diff)))
    low, high = np.percentile(diff[draws].mean(axis=1), [2.5, 97.5])
    return {"mean": round(float(diff.mean()), 4), "ci95": [round(float(low), 4), round(float(high), 4)]}


def score_all(task: str, sample: Sequence[dict], systems: dict[str, list[str]], profiles: dict) -> dict:
    """Overall and per-language scores of each system, paired intervals, and (fix_grammar) the split into
    damaged and already-correct inputs."""
    references = [reference_of(task, r) for r in sample]
    wanted = [r["language"] for r in sample]  # both tasks write in the passage's language
    exact = task == "fix_grammar"
    groups: dict[str, list[int]] = {"all": list(range(len(sample)))}
    groups.update({language: [i for i, r in enumerate(sample) if r["language"] == language] for language in LANGUAGES})
    if exact:
        groups["with errors"] = [i for i, r in enumerate(sample) if r.get("errors") != "none"]
        groups["already correct"] = [i for i, r in enumerate(sample) if r.get("errors") == "none"]
    result: dict = {}
    for group, rows in groups.items():
        if not rows:
            continue
        entry: dict = {name: system_scores([outputs[i] for i in rows], [references[i] for i in rows],
                                           [wanted[i] for i in rows], profiles, exact)
                       for name, outputs in systems.items()}
        rouge = {name: [metrics.rouge_l(outputs[i], references[i]) for i in rows] for name, outputs in systems.items()}
        entry["adapter_minus_base"] = {"rougeL": paired_difference(rouge["adapter"], rouge["base"])}
        if exact:
            em = {name: [metrics.exact_match(outputs[i], references[i]) for i in rows]
                  for name, outputs in systems.items()}
            entry["adapter_minus_base"]["exact_match"] = paired_difference(em["adapter"], em["base"])
        result[group] = entry
    return result


# ----------------------------------------------------------------------------------------------------------
# Report

TABLE_COLUMNS = (("rouge1", "ROUGE-1"), ("rouge2", "ROUGE-2"), ("rougeL", "ROUGE-L"), ("bleu", "BLEU"),
                 ("sacrebleu", "sacreBLEU"), ("exact_match", "exact"), ("length_ratio", "length"),
                 ("language_match", "language"), ("style.composite", "style"), ("style.ngram_match", "n-gram"))


def _value(scores: dict, key: str):
    head, _, tail = key.partition(".")
    value = scores.get(head)
    return value.get(tail) if tail and isinstance(value, dict) else value


def markdown_table(figures: dict) -> str:
    """One table: a row per group and system, the metrics as columns; then the paired differences."""
    columns = [(k, title) for k, title in TABLE_COLUMNS
               if any(_value(e[s], k) is not None for e in figures["scores"].values() for s in figures["systems"])]
    lines = ["| examples | system | n | " + " | ".join(t for _, t in columns) + " |",
             "|---|---|---|" + "---|" * len(columns)]
    for group, entry in figures["scores"].items():
        for system in figures["systems"]:
            scores = entry[system]
            cells = [f"{_value(scores, k):.3f}" for k, _ in columns]
            lines.append(f"| {group} | {system} | {scores['count']} | " + " | ".join(cells) + " |")
    lines += ["", "| examples | adapter − base | mean [95 % interval] |", "|---|---|---|"]
    for group, entry in figures["scores"].items():
        for metric, diff in entry["adapter_minus_base"].items():
            lines.append(f"| {group} | {metric} | {diff['mean']:+.3f} [{diff['ci95'][0]:+.3f}, {diff['ci95'][1]:+.3f}] |")
    return "\n".join(lines) + "\n"


def markdown_samples(rows: Sequence[dict], count: int) -> str:
    """The first ``count`` examples of each language: input, reference and each system's output."""
    out: list[str] = []
    for language in LANGUAGES:
        for row in [r for r in rows if r["language"] == language][:count]:
            out.append(f"- **{language}** input: {row['input']!r}")
            out.append(f"  - reference: {row['reference']!r}")
            out.append(f"  - base: {row['base']!r}")
            out.append(f"  - adapter: {row['adapter']!r}")
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------------------------------------
# The proof


def run(task: str, out: str | Path, *, base: str, budget: ProofBudget, data: Path | None = None,
        seed: int = 0, overrides: Sequence[str] = (), passages=None, build_options=None) -> dict:
    """Build or read the pairs, train, generate, score; returns the figures (also in ``<out>/results.json``).

    ``data``: a folder prose_pairs built; otherwise ``passages`` (default: the Debian prose) are built into
    ``<out>/data`` with ``build_options``."""
    from . import train_task
    from .plots import plot_bars
    from .prose_pairs import BuildOptions, build

    get_task(task)  # an unknown task fails before anything loads
    if task not in BUDGETS:
        raise ValueError(f"no prose pairs for {task!r}: the proof covers {', '.join(sorted(BUDGETS))}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}
    began = time.monotonic()
    if data is None:
        from .prose_corpus import debian_prose

        data = out / "data"
        build(debian_prose() if passages is None else passages, data, build_options or BuildOptions(seed=seed))
    seconds["data"] = time.monotonic() - began

    sample = eval_sample(read_records(data / task / "eval.jsonl"), budget.eval_per_language, seed)
    loss_rows = eval_sample(sample, budget.eval_loss_examples // len(LANGUAGES), seed)
    (out / "eval_loss.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in loss_rows),
                                         encoding="utf-8")

    mark = time.monotonic()
    adapter = train_task.main([
        "--config", f"task_{task}", f"model.base={base}", f"model.max_length={budget.max_length}",
        f"data.train={data / task / 'train.jsonl'}", f"data.eval={out / 'eval_loss.jsonl'}",
        f"lora.r={budget.r}", f"lora.alpha={2 * budget.r}", f"optim.lr={budget.lr}", "optim.warmup_ratio=0.05",
        f"run.max_steps={budget.steps}", f"run.batch_size={budget.batch_size}", "run.grad_accum=1",
        f"run.eval_every={budget.eval_every}", "run.eval_batches=0", "run.save_every=0", "run.resume=false",
        "run.progress=false", "run.tensorboard=false", f"run.seed={seed}", f"run.output_dir={out / 'run'}",
        f"registry.root={out / 'adapters'}", *overrides])
    seconds["train"] = time.monotonic() - mark

    mark = time.monotonic()
    definition = get_task(task)
    prompts = [r["prompt"] for r in sample]
    budgets = [CONTINUE_NEW_TOKENS if task == "continue" else definition.token_budget(r["input"]) for r in sample]
    tuned, baseline = generate_both(base, adapter, prompts, task, budgets)
    if task == "continue":
        tuned, baseline = [first_sentence(t) for t in tuned], [first_sentence(b) for b in baseline]
    else:
        tuned, baseline = [t.strip() for t in tuned], [b.strip() for b in baseline]
    seconds["generate"] = time.monotonic() - mark

    systems = {"base": baseline, "adapter": tuned}
    if task == "fix_grammar":
        systems = {"unchanged input": [r["input"] for r in sample], **systems}
    scores = score_all(task, sample, systems, style_profiles(data / "passages" / "train.jsonl"))
    rows = [{"language": r["language"], "source": r["source"], "errors": r.get("errors", ""),
             "input": r.get("input") or r["prompt"][-300:], "reference": reference_of(task, r),
             "base": b, "adapter": t} for r, t, b in zip(sample, tuned, baseline)]
    history = json.loads((out / "run" / "history.json").read_text())
    seconds["total"] = time.monotonic() - began
    figures = {
        "task": task, "base": base, "adapter": str(adapter), "systems": list(systems),
        "budget": dataclasses.asdict(budget), "seed": seed,
        "sample": {language: sum(r["language"] == language for r in sample) for language in LANGUAGES},
        "eval_loss": {"first": history["eval"][0], "last": history["eval"][-1]},
        "train_loss": {"first": history["train"][0], "last": history["train"][-1]},
        "steps_per_second": history.get("steps_per_second"),
        "sacrebleu_installed": metrics.sacre_bleu(["a"], ["a"]) is not None,
        "scores": scores, "seconds": {k: round(v, 1) for k, v in seconds.items()},
    }
    (out / "results.json").write_text(json.dumps(figures, indent=1, ensure_ascii=False), encoding="utf-8")
    (out / "outputs.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                       encoding="utf-8")
    (out / "table.md").write_text(f"# {task}: base vs adapter on held-out sources\n\n" + markdown_table(figures)
                                  + "\n## Samples\n\n" + markdown_samples(rows, 5), encoding="utf-8")
    keys = ("rouge1", "rouge2", "rougeL", "sacrebleu" if figures["sacrebleu_installed"] else "bleu",
            "language_match") + (("exact_match",) if task == "fix_grammar" else ())
    plot_bars({name: {k: scores["all"][name][k] for k in keys} for name in systems}, out / "scores.png",
              title=f"{task}: held-out sources")
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pushkin.training.task_proof", description=__doc__.split("\n")[0])
    parser.add_argument("--task", required=True, choices=sorted(BUDGETS))
    parser.add_argument("--out", required=True, help="folder for the data, the run, the adapter and the figures")
    parser.add_argument("--base", default=DEFAULT_BASE, help="the pretrained base: a .gguf (converted once, beside "
                                                             "it) or a model folder")
    parser.add_argument("--data", default="", help="a folder prose_pairs built (default: build it under --out)")
    parser.add_argument("--steps", type=int, help="training steps (default: the task's budget)")
    parser.add_argument("--eval-per-language", type=int, help="held-out examples generated per language")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("overrides", nargs="*", help="train_task key=value overrides (lora.r=..., ...)")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    budget = BUDGETS[args.task]
    if args.steps is not None:
        budget = dataclasses.replace(budget, steps=args.steps, eval_every=min(budget.eval_every, args.steps))
    if args.eval_per_language is not None:
        budget = dataclasses.replace(budget, eval_per_language=args.eval_per_language,
                                     eval_loss_examples=min(budget.eval_loss_examples, 2 * args.eval_per_language))
    figures = run(args.task, args.out, base=str(Path(args.base).expanduser()), budget=budget,
                  data=Path(args.data) if args.data else None, seed=args.seed, overrides=args.overrides)
    print((Path(args.out) / "table.md").read_text(encoding="utf-8"))
    print(json.dumps(figures["seconds"]))
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sys.exit(main())
