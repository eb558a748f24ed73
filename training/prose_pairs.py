"""Training pairs from real prose, made offline: task examples and the reward's human-vs-degraded pairs.

    python -m pushkin.training.prose_pairs --out runs/data/prose [--seed 0] [--max-gcide 6000]

Reads the Debian prose (:mod:`pushkin.training.prose_corpus`: fortunes, fortunes-ru, GCIDE citations),
splits the passages once — by source (a whole fortune file, or a GCIDE letter, lies on one side), per
language, with near-duplicates of eval passages dropped from train — and derives every file from that one
split, so no eval sentence reaches any task's training side:

* ``continue/{train,eval}.jsonl`` — the sentences of a passage so far → its next sentence (the runtime's
  continuation prompt, :func:`pushkin.text_lora.tasks.build_prompt`).
* ``fix_grammar/{train,eval}.jsonl`` — a passage with one or two writer's errors
  (:func:`pushkin.training.degrade.grammar_errors`) → the passage as written; a share of passages are left
  correct and map to themselves, so the adapter learns to leave good text alone.
* ``reward/{train,eval}.jsonl`` — {"original", "chosen", "rejected", "kind", "language", "reference"}: the
  human passage is chosen over a labelled degradation (:data:`pushkin.training.degrade.DEGRADATIONS`),
  once with the degraded text as the reference (a repair beats leaving it) and once with the human text
  (keeping it beats damaging it), so "any change is good" cannot pass.
* ``passages/{train,eval}.jsonl`` — the split itself ({"text", "source", "language"}).
* ``report.json`` — counts per task, split and language, near-duplicates dropped, and the tasks left out.

Rephrase, formal, casual, shorten, expand, translate and summarize are left out: an honest pair for them
needs a second text with the same meaning, which rules cannot write; they need a teacher model.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pushkin.text_lora.tasks import build_prompt, get_task

from .data import ShingleIndex, TextExample, split_by_source, write_jsonl
from .degrade import DEGRADATIONS, degrade, grammar_errors
from .prose_corpus import FORTUNES_DIR, GCIDE_FILE, Passage, debian_prose, deduplicate, split_sentences

TASKS_LEFT_OUT = {
    name: "needs a second text with the same meaning: a teacher model, not rules"
    for name in ("rephrase", "formal", "casual", "shorten", "expand", "translate_en", "translate_ru", "summarize")
}


@dataclass(frozen=True)
class BuildOptions:
    eval_fraction: float = 0.2  # share of each language's passages (whole sources) held out
    near_duplicate: float = 0.8  # word 3-gram Jaccard at which a train passage or target counts as an eval one
    seed: int = 0
    max_gcide: int = 6000  # GCIDE citations kept (of ~35,000), so the fortunes' modern prose stays the larger part
    max_chars: int = 400  # passages used for fix_grammar and the reward (continue uses every passage)
    max_train_pairs: int = 4000  # per task and language on the train side; eval keeps the split's share
    clean_share: float = 0.1  # fix_grammar examples whose input is already correct


@dataclass(frozen=True)
class PassageSplit:
    train: tuple[Passage, ...]
    eval: tuple[Passage, ...]
    near_duplicates_dropped: dict[str, int]  # per language


def split_passages(passages: Sequence[Passage], options: BuildOptions) -> PassageSplit:
    """Each language split by source on its own (so both have eval), near-duplicates of eval dropped."""
    train: list[Passage] = []
    held: list[Passage] = []
    dropped: dict[str, int] = {}
    for language in sorted({p.language for p in passages}):
        own = [p for p in passages if p.language == language]
        examples = [TextExample("", p.text, p.source) for p in own]
        by_example = {id(e): p for e, p in zip(examples, own)}
        split = split_by_source(examples, eval_fraction=options.eval_fraction, seed=options.seed,
                                near_duplicate=options.near_duplicate)
        train += [by_example[id(e)] for e in split.train]
        held += [by_example[id(e)] for e in split.eval]
        dropped[language] = split.dropped_near_duplicates
    return PassageSplit(tuple(train), tuple(held), dropped)


def continue_records(passages: Sequence[Passage]) -> list[dict]:
    """Each passage of two sentences or more: the sentences so far → the next one."""
    task = get_task("continue")
    records = []
    for passage in passages:
        parts = split_sentences(passage.text)
        for k in range(1, len(parts)):
            context = " ".join(parts[:k])
            records.append({"prompt": build_prompt(task, "", context_before=context), "completion": " " + parts[k],
                            "source": passage.source, "task": "continue", "language": passage.language})
    return records


def fix_grammar_records(passages: Sequence[Passage], options: BuildOptions, rng: random.Random) -> list[dict]:
    task = get_task("fix_grammar")
    records = []
    for passage in passages:
        if len(passage.text) > options.max_chars:
            continue
        if rng.random() < options.clean_share:
            damaged, errors = passage.text, "none"
        else:
            count = 1 if len(passage.text.split()) < 15 else 2
            damage = grammar_errors(passage.text, passage.language, rng, count=count)
            if damage is None:
                continue
            damaged, errors = damage.text, damage.kind
        records.append({"prompt": build_prompt(task, damaged), "completion": passage.text, "source": passage.source,
                        "task": "fix_grammar", "language": passage.language, "input": damaged, "errors": errors})
    return records


def reward_records(passages: Sequence[Passage], options: BuildOptions, rng: random.Random) -> list[dict]:
    """One degradation per passage, the kinds taken in turn (the next kind that applies), two references."""
    records = []
    turn = 0
    for passage in passages:
        if len(passage.text) > options.max_chars:
            continue
        for attempt in range(len(DEGRADATIONS)):
            kind = DEGRADATIONS[(turn + attempt) % len(DEGRADATIONS)]
            damaged = degrade(passage.text, passage.language, kind, rng)
            if damaged is not None:
                break
        else:
            continue
        turn += 1
        for reference, original in (("degraded", damaged), ("human", passage.text)):
            records.append({"original": original, "chosen": passage.text, "rejected": damaged, "kind": kind,
                            "language": passage.language, "reference": reference, "source": passage.source})
    return records


def _target(record: dict) -> str:
    return record.get("completion") or record["chosen"]


def _cap(records: list[dict], limit: int, rng: random.Random) -> list[dict]:
    """At most ``limit`` records per language, whole passages kept together (the reward's two references)."""
    kept: list[dict] = []
    for language in sorted({r["language"] for r in records}):
        own = [r for r in records if r["language"] == language]
        groups: dict[tuple[str, str], list[dict]] = {}
        for r in own:
            groups.setdefault((r["source"], _target(r)), []).append(r)
        keys = list(groups)
        rng.shuffle(keys)
        count = 0
        for key in keys:
            if count >= limit:
                break
            kept += groups[key]
            count += len(groups[key])
    return kept


def build(passages: Sequence[Passage], out: str | Path, options: BuildOptions = BuildOptions()) -> dict:
    """Write every task's train/eval JSONL and ``report.json`` under ``out``; return the report."""
    out = Path(out)
    unique, repeats = deduplicate(passages)
    gcide = sorted((p for p in unique if p.source.startswith("gcide/")),
                   key=lambda p: hashlib.sha256(f"{options.seed}:{p.text}".encode()).hexdigest())
    keep = set(map(id, gcide[:options.max_gcide]))
    corpus = [p for p in unique if not p.source.startswith("gcide/") or id(p) in keep]
    split = split_passages(corpus, options)
    eval_sources = {p.source for p in split.eval}
    if eval_sources & {p.source for p in split.train}:
        raise AssertionError("a source lies on both sides of the split")

    for split_name, side in (("train", split.train), ("eval", split.eval)):
        write_jsonl(out / "passages" / f"{split_name}.jsonl",
                    ({"text": p.text, "source": p.source, "language": p.language} for p in side))

    rng = random.Random(options.seed)
    eval_limit = max(1, round(options.max_train_pairs * options.eval_fraction / (1 - options.eval_fraction)))
    report: dict = {
        "corpus": {"passages": dict(Counter(p.language for p in corpus)),
                   "by_package": dict(Counter(p.source.split("/")[0] for p in corpus)),
                   "exact_repeats_removed": repeats, "gcide_kept": min(len(gcide), options.max_gcide),
                   "gcide_available": len(gcide)},
        "split": {language: {
            "train_passages": sum(p.language == language for p in split.train),
            "eval_passages": sum(p.language == language for p in split.eval),
            "train_sources": len({p.source for p in split.train if p.language == language}),
            "eval_sources": len({p.source for p in split.eval if p.language == language}),
            "near_duplicates_dropped": split.near_duplicates_dropped.get(language, 0),
        } for language in sorted({p.language for p in corpus})},
        "options": options.__dict__,
        "tasks": {},
        "left_out": TASKS_LEFT_OUT,
    }
    makers = {
        "continue": continue_records,
        "fix_grammar": lambda ps: fix_grammar_records(ps, options, rng),
        "reward": lambda ps: reward_records(ps, options, rng),
    }
    for name, make in makers.items():
        train = _cap(make(split.train), options.max_train_pairs, rng)
        held = _cap(make(split.eval), eval_limit, rng)
        # A passage-level split still lets one sentence sit in a train passage and an eval one: drop train
        # records whose target nearly repeats an eval target.
        index = ShingleIndex([_target(r) for r in held])
        kept = [r for r in train if index.max_similarity(_target(r)) < options.near_duplicate]
        write_jsonl(out / name / "train.jsonl", kept)
        write_jsonl(out / name / "eval.jsonl", held)
        entry: dict = {
            "train": dict(Counter(r["language"] for r in kept)), "eval": dict(Counter(r["language"] for r in held)),
            "near_duplicate_targets_dropped": len(train) - len(kept),
        }
        if name == "reward":
            entry["kinds"] = {split_name: dict(Counter(r["kind"] for r in rs if r["reference"] == "human"))
                              for split_name, rs in (("train", kept), ("eval", held))}
        if name == "fix_grammar":
            entry["errors"] = dict(Counter(e for r in kept for e in r["errors"].split("+")))
        report["tasks"][name] = entry
    (out / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pushkin.training.prose_pairs", description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="folder for the JSONL files and report.json")
    parser.add_argument("--fortunes", default=str(FORTUNES_DIR), help="the fortune files (with ru/ inside)")
    parser.add_argument("--gcide", default=str(GCIDE_FILE), help="GCIDE's gcide.dict.dz; 'none' leaves it out")
    defaults = BuildOptions()
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--eval-fraction", type=float, default=defaults.eval_fraction)
    parser.add_argument("--max-gcide", type=int, default=defaults.max_gcide)
    parser.add_argument("--max-train-pairs", type=int, default=defaults.max_train_pairs)
    args = parser.parse_args(argv)
    from .prose_corpus import ProseMissing

    try:
        passages = debian_prose(fortunes=Path(args.fortunes), gcide=None if args.gcide == "none" else Path(args.gcide))
    except ProseMissing as error:
        parser.exit(1, f"{error}\n")
    options = BuildOptions(seed=args.seed, eval_fraction=args.eval_fraction, max_gcide=args.max_gcide,
                           max_train_pairs=args.max_train_pairs)
    report = build(passages, args.out, options)
    print(json.dumps({"split": report["split"], "tasks": report["tasks"]}, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
