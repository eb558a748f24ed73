"""Time to first token and decode speed on tiny Gemma 3 models on the CPU: our overhead around the model.

For each shape, the same 200-token prompt is run three ways:
  raw       — the model's forward passes alone in a bare loop (prefill, then one token at a time);
  stream    — pushkin's ComposedModel.stream (tokenizing, composing adapters, the decode loop, min-p
              sampling, incremental detokenizing), called directly;
  worker    — the same through the ModelWorker thread and its queue (what the daemon does).
Each with no adapters, three stacked adapters, and the three pre-merged (cat). Figures are medians; time to
first token is to the first text piece on the stream and worker paths.

    .venv/bin/python bench/bench_lm_cpu.py [--threads N] [--tokens 64] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--tokens", type=int, default=64, help="tokens to decode")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    import torch

    from pushkin.model.composed import ComposedModel
    from pushkin.model.generation import SamplingOptions, stream_token_ids
    from pushkin.model.loading import LoadOptions, load_base
    from pushkin.model.registry import AdapterRegistry, Mode
    from pushkin.model.tiny import TinyGemmaOptions, build_tiny_gemma, build_tiny_registry
    from pushkin.model.worker import ModelWorker

    torch.set_num_threads(args.threads)
    shapes = {
        "tiny (h64, 2 layers)": TinyGemmaOptions(),
        "small (h256, 4 layers)": TinyGemmaOptions(hidden_size=256, intermediate_size=1024, num_hidden_layers=4,
                                                   num_attention_heads=4, num_key_value_heads=1, head_dim=64),
    }
    options = SamplingOptions(max_new_tokens=args.tokens, temperature=1.0, min_p=0.1, seed=0)
    print(f"torch {torch.__version__}, {args.threads} thread(s), prompt 200 tokens, decode {args.tokens} tokens, "
          f"median of {args.repeats}")
    print(f"{'shape':24} {'adapters':10} {'path':7} {'TTFT ms':>8} {'decode tok/s':>13}")
    with tempfile.TemporaryDirectory() as folder:
        for label, shape in shapes.items():
            base = build_tiny_gemma(f"{folder}/{label[:5]}", shape)
            adapters = build_tiny_registry(base, f"{folder}/{label[:5]}-adapters")
            for adapters_label, merge, mode in (("none", False, None), ("3 stacked", False, Mode.REWRITE),
                                                ("3 merged", True, Mode.REWRITE)):
                loaded = load_base(LoadOptions(model=str(base)))
                with torch.no_grad():
                    # A random model tends to repeat its last token; looping on a special token would decode to
                    # no text at all. Zeroed rows make special tokens unlikely and never self-repeating.
                    loaded.model.get_input_embeddings().weight[loaded.tokenizer.all_special_ids] = 0.0
                lm = ComposedModel(loaded, AdapterRegistry(adapters), merge=merge)
                if mode is None:
                    lm.peft.base_model.set_adapter([])
                else:
                    lm.compose(mode, "rephrase")
                prompt_ids = torch.randint(20, len(lm.tokenizer) - 20, (1, 200))
                prompt = lm.tokenizer.decode(prompt_ids[0], skip_special_tokens=True)
                ids = lm.encode(prompt)[:, :200]

                def raw():
                    return _timed(lambda: stream_token_ids(lm.model, input_ids=ids, options=options, stop_ids=()),
                                  args.tokens)

                def stream():
                    if mode is not None:
                        lm.compose(mode, "rephrase")
                    return _timed(lambda: lm.stream(prompt, options, stop_ids=()), args.tokens)

                worker = ModelWorker(lambda progress: lm)
                worker.load().result()

                def through_worker():
                    return _timed(lambda: iter(worker.stream(
                        lambda model, cancel: model.stream(prompt, options, cancel, stop_ids=()))), args.tokens)

                for path, run in (("raw", raw), ("stream", stream), ("worker", through_worker)):
                    run()  # warm up
                    results = [run() for _ in range(args.repeats)]
                    ttft = statistics.median(r[0] for r in results) * 1000
                    rate = statistics.median(r[1] for r in results)
                    print(f"{label:24} {adapters_label:10} {path:7} {ttft:8.1f} {rate:13.1f}")
                worker.shutdown()
    return 0


def _timed(start, tokens: int):
    """(seconds to the first item, tokens per second after it) for one run of the iterator ``start()``.

    With no stop ids, every run generates exactly ``tokens`` tokens; the text paths yield fewer pieces when
    bytes wait for the rest of a character, so the rate counts tokens, not pieces.
    """
    began = time.perf_counter()
    first = None
    for _ in start():
        if first is None:
            first = time.perf_counter()
    end = time.perf_counter()
    if first is None:
        return float("nan"), 0.0
    return first - began, (tokens - 1) / (end - first) if end > first else 0.0


if __name__ == "__main__":
    sys.exit(main())
