"""prepare: build the recipes' data files.

    python -m pushkin.training.prepare continuation FOLDER... --out runs/data/continue.jsonl \
        [--hf NAME --hf-split train --hf-field text --hf-limit N]
    python -m pushkin.training.prepare pairs --task rephrase PAIRS.jsonl --out runs/data/rephrase.jsonl
    python -m pushkin.training.prepare persona FOLDER... --out runs/data/persona.jsonl
    python -m pushkin.training.prepare check-audio MANIFEST.jsonl
    python -m pushkin.training.prepare closed-set runs/data/closed      # the espeak-ng proof set

``pairs`` reads JSONL of {"original", "rewritten", "source"?} and renders the task's real prompt
(pushkin.text_lora.tasks). ``continuation`` and ``persona`` read folders of .txt/.md (English and
Russian); ``--hf`` adds a Hugging Face dataset's text column (a hub name needs a network or a
local cache; a local dataset folder, e.g. of JSONL files, works offline). Each
writes prompt/completion JSONL with a ``source`` per example, which the recipes split on.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pushkin.training.prepare", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    for name in ("continuation", "persona"):
        p = sub.add_parser(name)
        p.add_argument("folders", nargs="*")
        p.add_argument("--out", required=True)
        p.add_argument("--hf", default="", help="a Hugging Face dataset name, or a local dataset folder")
        p.add_argument("--hf-split", default="train", help="the dataset's split (default: train)")
        p.add_argument("--hf-field", default="text", help="the column holding the text (default: text)")
        p.add_argument("--hf-limit", type=int, default=0, help="read at most this many rows (0: all)")
        p.add_argument("--context-chars", type=int, default=1500)
        p.add_argument("--completion-chars", type=int, default=800)
    p = sub.add_parser("pairs")
    p.add_argument("pairs")
    p.add_argument("--task", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("check-audio")
    p.add_argument("manifest")
    p = sub.add_parser("closed-set")
    p.add_argument("out")
    args = parser.parse_args(argv)

    from . import data

    if args.what in ("continuation", "persona"):
        texts = data.read_corpus(args.folders) if args.folders else {}
        if args.hf:
            texts.update(data.load_hf_text(args.hf, split=args.hf_split, text_field=args.hf_field,
                                            limit=args.hf_limit))
        if not texts:
            parser.error("give folders or --hf")
        examples = data.continuation_examples(texts, context_chars=args.context_chars,
                                              completion_chars=args.completion_chars)
        print(f"{data.write_jsonl(args.out, examples)} examples from {len(texts)} texts -> {args.out}")
    elif args.what == "pairs":
        from pushkin.text_lora.tasks import build_prompt, get_task

        task = get_task(args.task)
        examples = data.pair_examples(data.read_pairs(args.pairs), lambda text: build_prompt(task, text))
        print(f"{data.write_jsonl(args.out, examples)} examples -> {args.out}")
    elif args.what == "check-audio":
        from .audio_data import read_manifest

        records = read_manifest(args.manifest)
        print(f"{args.manifest}: {len(records)} utterances, all 16 kHz mono with targets in the output language")
    else:
        from .synth import build_closed_set

        train, heldout = build_closed_set(args.out)
        print(f"{train}\n{heldout}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
