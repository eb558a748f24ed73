"""The answering voice's cost: first-reply load time and synthesis real-time factor (seconds of compute
per second of speech) for Piper joe and espeak-ng, on this CPU, with the machine's load printed.

    PUSHKIN_MODELS_DIR=/work/cache/real .venv/bin/python bench/bench_voice.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from pushkin.daemon.voice import EspeakEngine, PiperEngine, VoiceSettings

SENTENCES = [
    "Read that.",
    "Nothing to scratch.",
    "Please send the quarterly report to Maria before Friday afternoon.",
    "The meeting moves to Friday, and the draft goes out on Monday morning after the review.",
]


def machine_load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"machine load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def measure(name: str, engine, repeats: int) -> None:
    started = time.perf_counter()
    engine.synthesize("Ready.", "en")  # the first reply loads the voice
    print(f"{name}: first reply (load + synthesis) {time.perf_counter() - started:.2f} s")
    for sentence in SENTENCES:
        times, audio = [], None
        for _ in range(repeats):
            started = time.perf_counter()
            audio = engine.synthesize(sentence, "en")
            times.append(time.perf_counter() - started)
        median = statistics.median(times)
        print(f"  {len(sentence):3d} chars, {audio.duration_s:5.2f} s of speech: synthesis median {median * 1000:6.0f} ms, "
              f"real-time factor {median / audio.duration_s:.3f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    print(machine_load())
    measure("piper joe (medium)", PiperEngine(VoiceSettings(enabled=True)), args.repeats)
    measure("espeak-ng", EspeakEngine(), args.repeats)
    print(machine_load())


if __name__ == "__main__":
    main()
