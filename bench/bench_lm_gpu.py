"""Gemma-3-4B-shaped model, random bf16 weights, on a CUDA GPU: what stacked LoRA adapters cost.

Compositions: the base alone; 1, 2 and 3 stacked LoRA adapters (r=64 on all seven projections); the three
pre-merged into one cat adapter (r=192); and the three merged into the base weights (PEFT merge_adapter).
For each: time to first token for a prompt of a 150-token audio prefix (projected audio vectors spliced
into inputs_embeds) plus 200 text tokens, and decode tokens/s over 128 tokens (greedy, pushkin's decode
loop). Targets: 3 stacked within 15 % of base decode speed, merged within 2 %.

    .venv/bin/python bench/bench_lm_gpu.py            # needs a CUDA GPU; exits 0 with a message without one
    .venv/bin/python bench/bench_lm_gpu.py --smoke    # a tiny shape on the CPU: checks the script runs
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# Gemma 3 4B's text stack (google/gemma-3-4b-pt, text_config).
GEMMA3_4B = dict(hidden_size=2560, intermediate_size=10240, num_hidden_layers=34, num_attention_heads=8,
                 num_key_value_heads=4, head_dim=256, vocab_size=262208, sliding_window=1024,
                 max_position_embeddings=131072, rope_theta=1_000_000.0, query_pre_attn_scalar=256)
SMOKE = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=6, num_attention_heads=4,
             num_key_value_heads=2, head_dim=16, vocab_size=512, sliding_window=64, max_position_embeddings=2048)
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny shape on the CPU, to check the script")
    parser.add_argument("--rank", type=int, default=64)
    parser.add_argument("--audio-tokens", type=int, default=150)
    parser.add_argument("--text-tokens", type=int, default=200)
    parser.add_argument("--decode-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    import torch

    if not args.smoke and not torch.cuda.is_available():
        print("bench_lm_gpu: no CUDA GPU here (torch.cuda.is_available() is False); nothing measured. "
              "Run it on a machine with an NVIDIA GPU, or pass --smoke to check the script on the CPU.")
        return 0
    from peft import LoraConfig, get_peft_model
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    from pushkin.model.generation import SamplingOptions, stream_token_ids

    device = "cpu" if args.smoke else "cuda"
    dtype = torch.float32 if args.smoke else torch.bfloat16
    shape = SMOKE if args.smoke else GEMMA3_4B
    layers = shape["num_hidden_layers"]
    config = Gemma3TextConfig(**shape, layer_types=[("full_attention" if (i + 1) % 6 == 0 else "sliding_attention")
                                                    for i in range(layers)])
    torch.manual_seed(0)
    started = time.perf_counter()
    with torch.device(device):
        model = Gemma3ForCausalLM(config).to(dtype).eval()
    print(f"built a {sum(p.numel() for p in model.parameters()) / 1e9:.2f} B-parameter Gemma-3-4B-shaped model "
          f"({'smoke shape, ' if args.smoke else ''}{dtype}, {device}) in {time.perf_counter() - started:.0f} s")
    if device == "cuda":
        print(f"GPU: {torch.cuda.get_device_name()}, torch {torch.__version__}")

    lora = LoraConfig(r=args.rank, lora_alpha=args.rank, target_modules=TARGETS, init_lora_weights=False)
    peft = get_peft_model(model, lora, adapter_name="persona__a")
    peft.add_adapter("audio__b", lora)
    peft.add_adapter("task__c", lora)
    peft.to(device=device, dtype=dtype).eval()
    names = ["persona__a", "audio__b", "task__c"]
    peft.add_weighted_adapter(names, [1.0, 1.0, 1.0], "merged__abc", combination_type="cat")
    peft.to(device=device, dtype=dtype)

    embed = model.get_input_embeddings()
    scale = float(embed.embed_scale.to(embed.weight.dtype))
    text_ids = torch.randint(10, shape["vocab_size"] - 10, (1, args.text_tokens), device=device)
    audio = torch.randn(1, args.audio_tokens, shape["hidden_size"], device=device, dtype=dtype) * 0.02

    def prompt_embeds():
        with torch.inference_mode():
            return torch.cat([audio * scale, embed(text_ids)], dim=1)  # (1, 150 + 200, D)

    options = SamplingOptions(max_new_tokens=args.decode_tokens, temperature=0.0, min_p=0.0)

    def sync():
        if device == "cuda":
            torch.cuda.synchronize()

    def run():
        embeds = prompt_embeds()
        sync()
        began = time.perf_counter()
        first = None
        count = 0
        for _ in stream_token_ids(peft, inputs_embeds=embeds, options=options, stop_ids=()):
            count += 1
            if first is None:
                sync()
                first = time.perf_counter()
        sync()
        end = time.perf_counter()
        return first - began, (count - 1) / (end - first)

    compositions = [("base", []), ("1 stacked", names[:1]), ("2 stacked", names[:2]), ("3 stacked", names),
                    ("3 merged (cat)", ["merged__abc"]), ("3 merged into weights", None)]
    rows = []
    print(f"prompt: {args.audio_tokens} audio + {args.text_tokens} text tokens; decode {args.decode_tokens} tokens; "
          f"LoRA r={args.rank} on {', '.join(TARGETS)}; median of {args.repeats}")
    print(f"{'composition':24} {'TTFT ms':>8} {'decode tok/s':>13} {'vs base':>8}")
    for label, active in compositions:
        if active is None:
            peft.base_model.set_adapter(names)
            peft.merge_adapter(names)
        else:
            peft.base_model.set_adapter(active)
        run()  # warm up
        results = [run() for _ in range(args.repeats)]
        if active is None:
            peft.unmerge_adapter()
        ttft = statistics.median(r[0] for r in results) * 1000
        rate = statistics.median(r[1] for r in results)
        rows.append((label, ttft, rate))
        ratio = rate / rows[0][2]
        print(f"{label:24} {ttft:8.1f} {rate:13.1f} {ratio:8.2f}")
    base_rate = rows[0][2]
    stacked = dict((r[0], r[2]) for r in rows)
    print(f"target 3 stacked >= 0.85 x base: {stacked['3 stacked'] / base_rate:.2f} "
          f"({'met' if stacked['3 stacked'] >= 0.85 * base_rate else 'NOT met'})")
    best_merged = max(stacked["3 merged (cat)"], stacked["3 merged into weights"])
    print(f"target merged >= 0.98 x base: {best_merged / base_rate:.2f} "
          f"({'met' if best_merged >= 0.98 * base_rate else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
