"""Whisper encoder precision, training against serving: does the speech-LLM decide the same?

Training encodes its clips with the CTranslate2 encoder in float32 (`training.audio_data.open_encoder`); the
daemon's speech-LLM reuses the recognizer's faster-whisper model, which runs int8 on a CPU (float16 on
CUDA). On the same espeak-ng clips this measures, for each serving precision against float32:

  features  — relative L2 error and cosine similarity of the encoder frames (mean, and the worst frame),
              next to the same figures between two different clips, for scale;
  projected — the same for the audio adapter's projector output (what Gemma reads);
  decision  — the share of utterances whose speech-LLM answer line (greedy) is the same.

By default the models are the tiny random-weight ones the tests use (a "tiny-test" Whisper converted with
CTranslate2, the tiny Gemma 3 with random persona/audio/task adapters); ``--whisper`` takes a real Whisper
folder for the encoder figures. A random Gemma answers the same line for (nearly) every clip, so the
decision column only means something with a trained audio adapter; the number of different float32
answers is printed to show it.

    .venv/bin/python bench/bench_encoder_precision.py [--precisions int8,int8_float32] [--device cpu]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SENTENCES = (
    "Scratch that.",
    "Make it more formal.",
    "The quick brown fox jumps over the lazy dog.",
    "Delete the last sentence.",
    "She opened the window and the evening air came in.",
    "Accept.",
    "Undo.",
    "New paragraph.",
)


def _compare(pairs) -> str:
    """Mean relative L2 error, mean and worst per-frame cosine over (reference, other) tensor pairs."""
    import torch

    errors, means, worst = [], [], []
    for a, b in pairs:
        frames = min(len(a), len(b))
        a, b = a[:frames], b[:frames]
        errors.append(float((a - b).norm() / a.norm()))
        cosine = torch.nn.functional.cosine_similarity(a, b, dim=-1)
        means.append(float(cosine.mean()))
        worst.append(float(cosine.min()))
    return f"{sum(errors) / len(errors):>9.2e} {sum(means) / len(means):>9.6f} {min(worst):>9.6f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--precisions", default="int8,int16",
                        help="CTranslate2 compute types to compare with float32 (comma-separated)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--whisper", default="", help="a real CTranslate2 Whisper folder (e.g. the models folder's "
                        "whisper-base) instead of the tiny random one")
    parser.add_argument("--tokens", type=int, default=24, help="most tokens of each answer")
    args = parser.parse_args(argv)

    import torch

    from pushkin.audio_lora.encoder import CTranslate2WhisperEncoder
    from pushkin.audio_lora.whisper_tiny import SHAPES, build_whisper
    from pushkin.daemon.hearing.front_end import float_audio
    from pushkin.model.composed import ComposedModel
    from pushkin.model.loading import LoadOptions, load_base
    from pushkin.model.registry import AdapterRegistry
    from pushkin.model.speech import SpeechLLM, find_audio_adapter, load_audio_parts
    from pushkin.model.tiny import build_tiny_gemma, build_tiny_registry
    from tests.hearing.speech import speak

    torch.set_num_threads(1)
    folder = Path(tempfile.mkdtemp(prefix="pushkin-bench-precision-"))
    whisper = Path(args.whisper).expanduser() if args.whisper else build_whisper(folder / "whisper", SHAPES["tiny-test"])
    width = CTranslate2WhisperEncoder(str(whisper), device=args.device, compute_type="float32").output_dim
    base = build_tiny_gemma(folder / "base")
    registry = AdapterRegistry(build_tiny_registry(base, folder / "adapters", whisper_width=width))
    composed = ComposedModel(load_base(LoadOptions(model=str(base), device="cpu", dtype="float32")), registry)
    parts = load_audio_parts(find_audio_adapter(registry), device=composed.device, dtype=torch.float32)
    clips = [float_audio(speak(sentence)) for sentence in SENTENCES]

    def measure(compute_type: str):
        encoder = CTranslate2WhisperEncoder(str(whisper), device=args.device, compute_type=compute_type)
        speech = SpeechLLM(composed, encoder, parts)
        frames = [encoder.encode(clip) for clip in clips]
        with torch.inference_mode():
            projected = [parts.projector(f.unsqueeze(0))[0] for f in frames]
        answers = [speech.hear([clip], max_new_tokens=args.tokens).raw_line for clip in clips]
        return frames, projected, answers

    reference = measure("float32")
    print(f"{len(clips)} espeak-ng clips; Whisper {args.whisper or 'tiny-test (random)'} (width {width}) on {args.device}; "
          f"answers of at most {args.tokens} tokens, greedy")
    print(f"{'against float32':<22} {'what':<10} {'rel. L2':>9} {'cos mean':>9} {'cos min':>9}  same answer")
    # The scale: how far apart two different clips' features are (random weights may barely tell them apart).
    shifted = list(zip(reference[0], reference[0][1:] + reference[0][:1]))
    print(f"{'(a different clip)':<22} {'features':<10} {_compare(shifted)}  "
          f"{len(set(reference[2]))} different answers in float32")
    for compute_type in [p.strip() for p in args.precisions.split(",") if p.strip()]:
        frames, projected, answers = measure(compute_type)
        same = sum(a == b for a, b in zip(reference[2], answers))
        print(f"{compute_type:<22} {'features':<10} {_compare(zip(reference[0], frames))}")
        print(f"{compute_type:<22} {'projected':<10} {_compare(zip(reference[1], projected))}  {same}/{len(clips)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
