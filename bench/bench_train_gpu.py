"""Audio-recipe training cost at real shapes on a GPU: peak memory and steps/s.

    .venv/bin/python bench/bench_train_gpu.py                # Whisper-small encoder, Gemma-3-4B shape, bf16
    .venv/bin/python bench/bench_train_gpu.py --tiny --device cpu --steps 3   # the same code path, tiny shapes

Random weights at the real shapes (compute does not depend on weight values): a Whisper-"small"-shaped
transformers encoder (768 wide, 12 layers) encodes espeak-ng clips once (it is frozen, as in the recipe);
then the audio recipe's own pieces (pushkin.training.train_audio: prompt building, projector, splice,
target-only loss) train the projector, the silence vectors and an r=64 LoRA on a Gemma-3-4B-shaped
Gemma3ForCausalLM (2560 wide, 34 layers, 262k vocabulary) in bf16 with gradient checkpointing, batch 16.
Without CUDA it says so and exits 0 (so `make bench` goes on).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--tiny", action="store_true", help="tiny shapes (a smoke run of the code path)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()

    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("bench_train_gpu: no CUDA GPU here; this benchmark needs one (run it with --tiny --device cpu "
              "to check the code path)")
        return 0

    from transformers import Gemma3ForCausalLM, Gemma3TextConfig, WhisperConfig, WhisperFeatureExtractor
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    from pushkin.audio_lora.encoder import TransformersWhisperEncoder
    from pushkin.audio_lora.projector import AudioProjector, ProjectorConfig, SilenceEmbedding
    from pushkin.model import tokens
    from pushkin.model.tiny import train_tiny_tokenizer
    from pushkin.training import audio_data, synth, train_audio
    from pushkin.training.config import LoraSettings
    from pushkin.training.text import attach_lora

    device = torch.device(args.device)
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    torch.manual_seed(0)

    # Audio: espeak-ng clips through a frozen random Whisper encoder at the "small" shape.
    work = Path(tempfile.mkdtemp(prefix="bench-train-"))
    voices = synth.TRAIN_VOICES[:2]
    train_manifest, _ = synth.build_closed_set(work / "closed", train_voices=voices, heldout_voices=voices[:1])
    records = audio_data.read_manifest(train_manifest)
    width, layers, heads = (64, 2, 4) if args.tiny else (768, 12, 12)
    whisper = WhisperEncoder(WhisperConfig(d_model=width, encoder_layers=layers, encoder_attention_heads=heads,
                                           encoder_ffn_dim=4 * width, num_mel_bins=80)).to(device, dtype)
    encoder = TransformersWhisperEncoder(whisper, WhisperFeatureExtractor(feature_size=80))
    began = time.perf_counter()
    utterances = audio_data.encode_records(records, encoder, None, "bench")
    encode_s = time.perf_counter() - began

    # Language model: Gemma 3 4B's text shape, random, with the recipe's LoRA.
    tokenizer = train_tiny_tokenizer()
    if args.tiny:
        config = Gemma3TextConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
                                  num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                                  layer_types=["sliding_attention", "full_attention"])
    else:
        config = Gemma3TextConfig(vocab_size=262208, hidden_size=2560, intermediate_size=10240, num_hidden_layers=34,
                                  num_attention_heads=8, num_key_value_heads=4, head_dim=256, sliding_window=1024,
                                  layer_types=(["sliding_attention"] * 5 + ["full_attention"]) * 5
                                  + ["sliding_attention"] * 4)
    with torch.device(device):
        model = Gemma3ForCausalLM(config).to(dtype)
    for p in model.parameters():
        p.requires_grad_(False)
    if device.type == "cuda":
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    peft = attach_lora(model, LoraSettings(), "audio__speech")
    ids = tokens.special_token_ids(tokenizer)
    projector = AudioProjector(ProjectorConfig(input_dim=width, output_dim=config.hidden_size)).to(device)
    silence = SilenceEmbedding(tokens.SILENCE_BUCKETS_S, config.hidden_size).to(device)
    examples = [train_audio.prepare_example(u, tokenizer, ids, silence, 4) for u in utterances]
    params = [p for p in peft.parameters() if p.requires_grad] + list(projector.parameters()) + list(silence.parameters())
    optimizer = torch.optim.AdamW(params, lr=2e-4, betas=(0.9, 0.95))

    def step(batch) -> float:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            embeds, mask, labels = train_audio.audio_batch_embeds(batch, peft, projector, silence, ids,
                                                                  tokenizer.pad_token_id, device)
            loss, count = train_audio.target_loss(peft, embeds, mask, labels)
            loss = loss / max(count, 1)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return float(loss.detach())

    batches = [examples[i:i + args.batch] for i in range(0, len(examples) - args.batch + 1, args.batch)]
    step(batches[0])  # warm-up (kernels, allocator)
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    began = time.perf_counter()
    for i in range(args.steps):
        loss = step(batches[(i + 1) % len(batches)])
    if device.type == "cuda":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - began
    shape = "tiny" if args.tiny else "Whisper-small encoder + Gemma-3-4B shape, LoRA r=64, bf16, grad checkpointing"
    print(f"audio recipe ({shape}) on {args.device}, batch {args.batch}:")
    print(f"  encoder: {len(records)} clips in {encode_s:.1f} s (frozen, cached by the recipe)")
    print(f"  training: {args.steps / elapsed:.2f} steps/s ({elapsed / args.steps * 1000:.0f} ms/step), last loss {loss:.3f}")
    if device.type == "cuda":
        print(f"  peak GPU memory: {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
