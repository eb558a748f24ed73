"""Peak memory of one LoRA training step on real Gemma 3 270M: logits at every position vs only where the
loss reads them.

Before, the text recipes computed the output layer at every position of the batch (prompt and padding too)
and cast the (B, L, 262144) logits to fp32; now :func:`pushkin.training.text.target_logits` asks the model for
the N labelled positions only. Each variant runs in its own process (the peak resident size of a process
cannot be reset): load the base (from the GGUF's safetensors cache), attach a LoRA, run ``--steps`` steps of
forward + backward + AdamW on one batch shaped like a task recipe's (a few-shot prompt, a short completion),
and print the peak resident memory above what the loaded model held, and the time per step.

    PUSHKIN_MODELS_DIR=/work/cache/real .venv/bin/python bench/bench_lm_train_memory.py [--batch 4]
        [--prompt 224] [--completion 32] [--threads 2] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def run_variant(folder: str, variant: str, batch: int, prompt: int, completion: int, steps: int, threads: int) -> dict:
    import torch

    from pushkin.model.loading import LoadOptions, load_base
    from pushkin.training.config import LoraSettings
    from pushkin.training.text import attach_lora, target_logits

    torch.set_num_threads(threads)
    loaded = load_base(LoadOptions(model=folder, device="cpu", dtype="float32"))
    for param in loaded.model.parameters():
        param.requires_grad_(False)
    with torch.no_grad():  # page the memory-mapped weights in before measuring
        loaded.model(input_ids=torch.ones(1, 4, dtype=torch.long))
    peft = attach_lora(loaded.model, LoraSettings(r=16, alpha=32, dropout=0.0), "bench")
    optimizer = torch.optim.AdamW([p for p in peft.parameters() if p.requires_grad], lr=1e-4)
    generator = torch.Generator().manual_seed(0)
    length = prompt + completion
    ids = torch.randint(1000, 200_000, (batch, length), generator=generator)
    mask = torch.ones_like(ids)
    labels = ids.clone()
    labels[:, :prompt] = -100
    # Rows of different lengths, right-padded, as collate makes them.
    for row in range(1, batch):
        cut = length - 8 * row
        ids[row, cut:], mask[row, cut:], labels[row, cut:] = 0, 0, -100
    baseline = _peak_mb()
    times = []
    for _ in range(steps):
        began = time.perf_counter()
        if variant == "all-positions":
            logits = peft(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1),
                                                     ignore_index=-100)
        else:
            chosen, targets = target_logits(peft, labels, input_ids=ids, attention_mask=mask)
            loss = torch.nn.functional.cross_entropy(chosen, targets)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - began)
    return {"variant": variant, "loss": float(loss), "model_mb": baseline, "peak_mb": _peak_mb(),
            "step_s": sorted(times)[len(times) // 2]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    models = Path(os.environ.get("PUSHKIN_MODELS_DIR", "~/.local/share/pushkin/models")).expanduser()
    parser.add_argument("--gguf", default=str(models / "gemma-3-270m" / "gemma-3-270m-q4_k_m.gguf"))
    parser.add_argument("--work", default="")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--prompt", type=int, default=224)
    parser.add_argument("--completion", type=int, default=32)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--variant", choices=("all-positions", "loss-positions"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.variant:  # the child process
        print(json.dumps(run_variant(args.folder, args.variant, args.batch, args.prompt, args.completion, args.steps,
                                     args.threads)))
        return 0

    from pushkin.model.gguf import convert_gguf

    work = Path(args.work or tempfile.mkdtemp(prefix="pushkin-bench-train-"))
    work.mkdir(parents=True, exist_ok=True)
    link = work / Path(args.gguf).name
    if not link.exists():
        link.symlink_to(Path(args.gguf).resolve())
    folder = convert_gguf(link).folder
    one, five, _ = os.getloadavg()
    print(f"Gemma 3 270M, LoRA r=16, batch {args.batch} × ({args.prompt} prompt + {args.completion} completion) "
          f"tokens, {args.threads} thread(s); load average {one:.1f} / {five:.1f} on {os.cpu_count()} cores")
    print(f"{'logits computed at':18} {'peak MB':>8} {'above model MB':>15} {'step s':>7} {'loss':>7}")
    for variant in ("all-positions", "loss-positions"):
        out = subprocess.run([sys.executable, __file__, "--variant", variant, "--folder", str(folder),
                              "--batch", str(args.batch), "--prompt", str(args.prompt), "--completion",
                              str(args.completion), "--steps", str(args.steps), "--threads", str(args.threads)],
                             capture_output=True, text=True, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        label = "every position" if variant == "all-positions" else "loss positions"
        print(f"{label:18} {result['peak_mb']:8.0f} {result['peak_mb'] - result['model_mb']:15.0f} "
              f"{result['step_s']:7.2f} {result['loss']:7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
