"""A rewrite of a 30-token sentence on real Gemma 3 270M with persona + task adapters, per way of running them
(stacked, cat-merged, added into the weights), and what a switch between compositions costs.

The rewrite is the daemon's: the few-shot prompt of the "formal" task around a 30-token sentence, then
``--tokens`` greedy tokens (no stop: random adapters write nonsense, and the time must cover a whole
sentence's worth of output). Adapters are random LoRAs at real shapes (all seven projections, rank
``--rank``) in the registry format: speed does not depend on what they learned. A switch is
``compose(autocomplete)`` (base + task) then ``compose(rewrite)`` (base + persona + task), as when the user
asks for a rewrite between dictations. Medians of ``--repeats``; the load average is printed with the figures.

    .venv/bin/python bench/bench_rewrite_merge.py [--gguf FILE] [--work DIR] [--threads 2] [--tokens 30]
        [--repeats 5] [--rank 16]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from figures import add_real_gemma_arguments, linked_gguf, load_average  # noqa: E402  (bench/ is the script's folder)

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SENTENCE = ("hey, so the meeting yesterday was kinda boring and way too long, and honestly nobody really knew "
            "why we were all there.")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_real_gemma_arguments(parser, tokens=30, repeats=5)
    args = parser.parse_args(argv)

    import torch

    from pushkin.model.composed import ComposedModel, Merge
    from pushkin.model.generation import SamplingOptions, stream_token_ids
    from pushkin.model.gguf import convert_gguf
    from pushkin.model.loading import LoadOptions, load_base
    from pushkin.model.registry import AdapterRegistry, Mode
    from pushkin.model.tiny import TinyAdapterSpec, build_tiny_registry
    from pushkin.model.tokens import input_only_ids
    from pushkin.text_lora.tasks import build_prompt, get_task

    torch.set_num_threads(args.threads)
    link = linked_gguf(args.gguf, args.work, "pushkin-bench-merge-")
    if link is None:
        return 2
    work = link.parent
    print(f"torch {torch.__version__}, {args.threads} thread(s); {load_average()}")
    folder = convert_gguf(link).folder
    specs = (TinyAdapterSpec("writer", "persona", args.rank), TinyAdapterSpec("rewrite", "task", args.rank, task="rewrite"),
             TinyAdapterSpec("continue", "task", args.rank, task="continue"))
    registry = build_tiny_registry(folder, work / "adapters", specs, whisper_width=512)

    prompt = build_prompt(get_task("formal"), SENTENCE)
    options = SamplingOptions(max_new_tokens=args.tokens, temperature=0.0, min_p=0.0)
    print(f"rewrite: the sentence is {len(_tokens(folder, SENTENCE))} tokens, the prompt {len(_tokens(folder, prompt))}; "
          f"then {args.tokens} greedy tokens; median of {args.repeats}\n")
    print(f"{'persona + task':16} {'rewrite ms':>11} {'first token ms':>15} {'tok/s':>6} {'switch ms':>10}")
    for merge in (Merge.NONE, Merge.CAT, Merge.WEIGHTS):
        loaded = load_base(LoadOptions(model=str(link)))
        lm = ComposedModel(loaded, AdapterRegistry(registry), merge=merge)
        status = lm.compose(Mode.REWRITE, "formal")
        assert status.active == ("persona:writer", "task:rewrite"), status.message
        ids = lm.encode(prompt)
        suppress = input_only_ids(lm.tokenizer)
        totals, firsts, speeds, switches = [], [], [], []
        with torch.inference_mode():
            lm.logits(ids)  # the first forward reads the memory-mapped weights in
            for _ in range(args.repeats):
                began = time.perf_counter()
                stamps = [time.perf_counter() for _ in stream_token_ids(lm.model, input_ids=ids, options=options,
                                                                         stop_ids=(), suppress_ids=suppress)]
                totals.append((stamps[-1] - began) * 1000)
                firsts.append((stamps[0] - began) * 1000)
                speeds.append((len(stamps) - 1) / (stamps[-1] - stamps[0]))
                lm.compose(Mode.AUTOCOMPLETE)
                began = time.perf_counter()
                lm.compose(Mode.REWRITE, "formal")
                switches.append((time.perf_counter() - began) * 1000)
        label = {Merge.NONE: "stacked", Merge.CAT: "merged (cat)", Merge.WEIGHTS: "in the weights"}[merge]
        print(f"{label:16} {statistics.median(totals):11.0f} {statistics.median(firsts):15.0f} "
              f"{statistics.median(speeds):6.1f} {statistics.median(switches):10.1f}")
        del lm, loaded
    print(f"\n({load_average()})")
    return 0


def _tokens(folder: Path, text: str) -> list[int]:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(folder)).encode(text, add_special_tokens=False)


if __name__ == "__main__":
    sys.exit(main())
