"""Real Gemma 3 270M on this machine: load times (GGUF first conversion vs the cached folder) and rewrite
time to first token and decode speed with 0, 1 and 3 LoRA adapters, stacked and merged.

The GGUF is linked into a work folder, so the conversion is written there (never beside the models folder's
copy). Adapters are random LoRAs (all seven projections, rank ``--rank``) in the registry format: speed does
not depend on what they learned. Each rewrite runs the real few-shot "formal" prompt; time to first token is
to the first generated token, decode speed is over ``--tokens`` further tokens (no stop), medians of
``--repeats``. The machine's load average is printed with the figures: other work on a 2-core machine moves
them a lot.

    PUSHKIN_MODELS_DIR=/work/cache/real .venv/bin/python bench/bench_lm_real.py [--threads 2] [--tokens 32]
        [--repeats 3] [--rank 16] [--work DIR] [--skip-conversion]
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_real_gemma_arguments(parser, tokens=32, repeats=3)
    parser.add_argument("--skip-conversion", action="store_true", help="reuse a conversion already in --work")
    args = parser.parse_args(argv)

    import torch

    from pushkin.model.composed import ComposedModel
    from pushkin.model.generation import SamplingOptions, stream_token_ids
    from pushkin.model.gguf import convert_gguf
    from pushkin.model.loading import LoadOptions, load_base
    from pushkin.model.registry import AdapterRegistry, Mode
    from pushkin.model.tiny import TinyAdapterSpec, build_tiny_registry
    from pushkin.model.tokens import input_only_ids
    from pushkin.text_lora.tasks import build_prompt, get_task

    torch.set_num_threads(args.threads)
    link = linked_gguf(args.gguf, args.work, "pushkin-bench-lm-")
    if link is None:
        return 2
    gguf, work = Path(args.gguf), link.parent
    print(f"torch {torch.__version__}, {args.threads} thread(s); {load_average()}")
    print(f"model {gguf} ({gguf.stat().st_size / 1e6:.0f} MB)")

    print("\n-- load (seconds) --")
    if not args.skip_conversion:
        began = time.perf_counter()
        conversion = convert_gguf(link)
        print(f"first start: GGUF → safetensors conversion   {time.perf_counter() - began:7.1f}"
              f"{'  (reused an existing one)' if conversion.reused else ''}")
    began = time.perf_counter()
    loaded = load_base(LoadOptions(model=str(link)))
    with torch.inference_mode():  # the weights are memory-mapped: the first forward reads them in
        loaded.model(loaded.tokenizer("Hello", return_tensors="pt").input_ids)
    print(f"later start: load_base(.gguf) from the cache  {time.perf_counter() - began:7.1f}   ({load_average()})")
    folder = convert_gguf(link).folder

    specs = (TinyAdapterSpec("writer", "persona", args.rank), TinyAdapterSpec("speech", "audio", args.rank),
             TinyAdapterSpec("rewrite", "task", args.rank, task="rewrite"))
    three = build_tiny_registry(folder, work / "adapters-3", specs, whisper_width=512)
    one = build_tiny_registry(folder, work / "adapters-1", specs[2:], whisper_width=512)

    source = "hey, the meeting was kinda boring and way too long, and nobody knew why we were there."
    prompt = build_prompt(get_task("formal"), source)
    options = SamplingOptions(max_new_tokens=args.tokens + 1, temperature=0.0, min_p=0.0)
    print(f"\n-- rewrite: prompt {len(loaded.tokenizer(prompt).input_ids)} tokens, then {args.tokens} tokens; "
          f"median of {args.repeats} --")
    print(f"{'adapters':14} {'TTFT ms':>8} {'decode tok/s':>13}")
    for label, root, merge in (("0", None, False), ("1", one, False), ("3 stacked", three, False),
                               ("3 merged", three, True)):
        lm = ComposedModel(loaded, AdapterRegistry(root), merge=merge)
        lm.compose(Mode.REWRITE, "formal")
        ids = lm.encode(prompt)
        suppress = input_only_ids(lm.tokenizer)
        ttfts, speeds = [], []
        for _ in range(args.repeats):
            began = time.perf_counter()
            stamps = []
            for _token in stream_token_ids(lm.model, input_ids=ids, options=options, stop_ids=(), suppress_ids=suppress):
                stamps.append(time.perf_counter())
            ttfts.append((stamps[0] - began) * 1000)
            speeds.append((len(stamps) - 1) / (stamps[-1] - stamps[0]))
        print(f"{label:14} {statistics.median(ttfts):8.0f} {statistics.median(speeds):13.1f}")
        if lm.peft is not None:
            # Unwrap the base so the next composition starts from the plain model.
            loaded.model = lm.peft.unload()
    print(f"\n({load_average()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
