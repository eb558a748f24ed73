"""Recognition compute at real sizes: Whisper "base"- and "small"-shaped random-weight models, converted
to CTranslate2 as real checkpoints are, int8 on this CPU: the encoder on a 3 s utterance (300 mel frames,
not a padded 30 s window) plus a fixed 16-token greedy decode. Weight values do not change compute.

Models are cached under $PUSHKIN_BENCH_CACHE (default /tmp/pushkin-bench-whisper).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pushkin.audio_lora.whisper_tiny import SHAPES, build_whisper  # noqa: E402

CACHE = Path(os.environ.get("PUSHKIN_BENCH_CACHE", "/tmp/pushkin-bench-whisper"))
REPEATS = 5


def measure(shape_name: str) -> None:
    import ctranslate2
    from faster_whisper.feature_extractor import FeatureExtractor

    started = time.perf_counter()
    folder = build_whisper(CACHE / shape_name, SHAPES[shape_name])
    built = time.perf_counter() - started
    model = ctranslate2.models.Whisper(str(folder), device="cpu", compute_type="int8", intra_threads=os.cpu_count() or 1)
    extractor = FeatureExtractor(feature_size=80)
    rng = np.random.default_rng(0)
    audio = (rng.standard_normal(3 * 16000) * 0.05).astype(np.float32)
    mel = extractor(audio)[:, :300]  # (80, 300): 3 s
    features = ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[None]))
    vocabulary = model  # the ids below are Whisper's layout, which the builder reproduces
    sot, en, transcribe, no_ts, eot = 50258, 50259, 50359, 50363, 50257
    encode_ms, total_ms = [], []
    for _ in range(REPEATS + 1):
        t0 = time.perf_counter()
        encoded = model.encode(features, to_cpu=True)
        t1 = time.perf_counter()
        result = model.generate(encoded, [[sot, en, transcribe, no_ts]], beam_size=1, max_length=32, suppress_tokens=[eot], suppress_blank=False)
        t2 = time.perf_counter()
        assert len(result[0].sequences_ids[0]) == 16, len(result[0].sequences_ids[0])
        encode_ms.append((t1 - t0) * 1000)
        total_ms.append((t2 - t0) * 1000)
    del vocabulary
    print(
        f"{shape_name:5s}: encoder {statistics.median(encode_ms[1:]):6.0f} ms   encoder + 16-token decode "
        f"{statistics.median(total_ms[1:]):6.0f} ms   (median of {REPEATS}, {os.cpu_count()} threads; built/cached in {built:.0f} s)"
    )


def main() -> None:
    print("Whisper, random weights, CTranslate2 int8 on CPU, 3 s utterance")
    for name in ("base", "small"):
        measure(name)


if __name__ == "__main__":
    main()
