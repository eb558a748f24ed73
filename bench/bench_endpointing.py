"""End-pointing delay: true end of speech -> utterance closed, over 200 synthesized utterances.

Each utterance is an espeak-ng sentence (English or Russian, random gain) after a random silence; the
segmenter is fed 30 ms at a time as a microphone would, and the delay is the stream time at which the
utterance closed minus the clip's true end. Target: median <= hangover + 40 ms.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pushkin.daemon.hearing.settings import VadSettings  # noqa: E402
from pushkin.daemon.hearing.vad import UtteranceClosed, VadSegmenter  # noqa: E402
from tests.hearing.speech import RATE, speak  # noqa: E402

SENTENCES = [
    ("en", "Scratch that."),
    ("en", "Delete the last sentence."),
    ("en", "The rain kept falling on the empty street."),
    ("en", "Make it more formal."),
    ("en", "New paragraph."),
    ("ru", "Удали последнее предложение."),
    ("ru", "Вечером пошёл дождь."),
    ("ru", "Сделай это короче."),
    ("ru", "Новый абзац."),
    ("en", "She closed the book and looked out of the window."),
]


def main(count: int = 200) -> None:
    settings = VadSettings()
    clips = [speak(text, voice) for voice, text in SENTENCES]
    rng = np.random.default_rng(7)
    segmenter = VadSegmenter(settings)
    frame = RATE * 30 // 1000
    delays, missed, clock = [], 0, 0
    for i in range(count):
        clip = clips[i % len(clips)]
        gain = rng.uniform(0.3, 1.0)
        lead = np.zeros(int(rng.uniform(0.6, 1.2) * RATE), dtype=np.int16)
        tail = np.zeros(int((settings.hangover_ms / 1000 + 0.5) * RATE), dtype=np.int16)
        audio = np.concatenate([lead, (clip * gain).astype(np.int16), tail])
        true_end = (clock + len(lead) + len(clip)) / RATE
        closed_at = None
        for start in range(0, len(audio), frame):
            events = segmenter.feed(audio[start : start + frame].tobytes())
            if closed_at is None and any(isinstance(e, UtteranceClosed) for e in events):
                closed_at = (clock + start + frame) / RATE
        clock += len(audio)
        if closed_at is None:
            missed += 1
        else:
            delays.append(closed_at - true_end)
    ms = sorted(d * 1000 for d in delays)
    median = statistics.median(ms)
    target = settings.hangover_ms + 40
    print(f"end-pointing delay over {len(ms)} utterances ({missed} missed), hangover {settings.hangover_ms} ms, 30 ms frames")
    print(f"  median {median:.0f} ms   p90 {ms[int(0.9 * len(ms))]:.0f} ms   max {ms[-1]:.0f} ms   min {ms[0]:.0f} ms")
    print(f"  target median <= {target} ms: {'met' if median <= target and not missed else 'NOT met'}")


if __name__ == "__main__":
    main()
