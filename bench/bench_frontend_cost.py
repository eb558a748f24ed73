"""Front-end cost: capture hand-off + webrtcvad + streamed Silero, as % of one core in real time.

There is no sound card here, so a thread plays PortAudio's part: every 30 ms it hands a block of real
speech-and-silence audio to the event loop with ``call_soon_threadsafe`` into a bounded queue, exactly as
the microphone callback does; the loop runs the VAD segmenter on each block. CPU time of the whole
process over wall time is the cost. Target: <= 3 % of one core.

Three scenes, each 20 s of real time over a -60 dBFS noise floor: ``dense`` (speech about 65 % of the
time, the worst case), ``dictation`` (a sentence, then a 4 s pause to think) and ``quiet`` (one sentence in
20 s, what a daemon hears most of the day). Silero rests through silences (``silero_idle_ms``), so the
quieter the room the less it costs. ``--scene NAME`` runs one.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pushkin.daemon.hearing.vad import VadSegmenter  # noqa: E402
from tests.hearing.speech import RATE, compose, speak  # noqa: E402

SECONDS = 20.0
BLOCK = RATE * 30 // 1000


def scene_audio(name: str) -> np.ndarray:
    """``SECONDS`` of int16 audio for the named scene."""
    clip = speak("The rain kept falling on the empty street, and nobody came.")
    clip_s = len(clip) / RATE
    pieces = {"dense": [0.8, clip, 1.2, clip, 0.6],
              "dictation": [0.5, clip, 4.0],
              "quiet": [2.0, clip, SECONDS - 2.0 - clip_s]}[name]
    scene = compose(pieces, noise_dbfs=-60.0)
    return np.tile(scene.audio, int(SECONDS * RATE / len(scene.audio)) + 1)[: int(SECONDS * RATE)]


async def run(audio: np.ndarray) -> tuple[float, float, int]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=200)
    segmenter = VadSegmenter()
    utterances = 0

    def callback_thread() -> None:
        next_at = time.perf_counter()
        for start in range(0, len(audio), BLOCK):
            loop.call_soon_threadsafe(queue.put_nowait, audio[start : start + BLOCK].tobytes())
            next_at += BLOCK / RATE
            time.sleep(max(0.0, next_at - time.perf_counter()))
        loop.call_soon_threadsafe(queue.put_nowait, None)

    cpu0, wall0 = time.process_time(), time.perf_counter()
    threading.Thread(target=callback_thread, name="fake-portaudio", daemon=True).start()
    while (block := await queue.get()) is not None:
        utterances += sum(type(e).__name__ == "UtteranceClosed" for e in segmenter.feed(block))
    return time.process_time() - cpu0, time.perf_counter() - wall0, utterances


SCENES = ("dense", "dictation", "quiet")


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scene", choices=SCENES, action="append", help="run only this scene (repeatable)")
    args = parser.parse_args(argv)
    VadSegmenter()  # load the ONNX model before measuring
    for name in args.scene or SCENES:
        cpu, wall, utterances = asyncio.run(run(scene_audio(name)))
        share = 100 * cpu / wall
        print(f"{name:>9}: front-end cost over {wall:.1f} s of real-time audio ({utterances} utterances): "
              f"{share:.2f} % of one core; target <= 3 %: {'met' if share <= 3 else 'NOT met'}")


if __name__ == "__main__":
    main()
