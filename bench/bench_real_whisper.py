"""Hearing on real weights: Whisper base and tiny.en from the models folder, speech from the Piper voice.

Prints, with the machine's load:
1. load time of each recognizer (the sha256 check the daemon does first, and faster-whisper's load);
2. the recognizer's real-time factor (decode seconds / audio seconds) on Piper sentences, int8 on the CPU;
3. end of speech → edit applied through a real daemon (`pushkin serve` subprocess, its default recognizer),
   for dictation and for commands: median and p90, with the VAD hangover (silence the daemon must hear before
   it may close an utterance) shown apart from the rest (recognition, intent, the editor round trip).

Weights come from `pushkin models fetch whisper-base whisper-tiny.en piper-joe` ($PUSHKIN_MODELS_DIR or the
user's models folder); nothing downloads.

    .venv/bin/python bench/bench_real_whisper.py [--rounds 6] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from figures import percentile  # noqa: E402  (bench/ is the script's folder)

from pushkin.model import catalog  # noqa: E402

RATE = 16000
DICTATIONS = [
    "The quick brown fox jumps over the lazy dog.",
    "We will meet at the station tomorrow morning.",
    "I told my editor to scratch that chapter.",
]
COMMAND = "Scratch that."


def machine() -> str:
    one, five, _ = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {one:.2f} (1 min) {five:.2f} (5 min)"


def model_path(name: str) -> Path:
    path = catalog.verified_path(name)
    if path is None:
        sys.exit(f"{name} is not in {catalog.models_dir()}: run `pushkin models fetch {name}`")
    return path


def piper(voice: Path, text: str, folder: Path) -> np.ndarray:
    """Piper speech at 16 kHz int16, with 0.3 s of silence before and 0.8 s after (zero noise: repeatable)."""
    raw, wav = folder / "raw.wav", folder / "speech.wav"
    subprocess.run([sys.executable, "-m", "piper", "-m", str(voice), "--noise-scale", "0", "--noise-w-scale", "0",
                    "-f", str(raw)], input=text.encode(), check=True, capture_output=True)
    subprocess.run(["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(wav), "pad", "0.3", "0.8"],
                   check=True, capture_output=True)
    import soundfile

    samples, _ = soundfile.read(wav, dtype="int16")
    return samples


def voiced_end_s(samples: np.ndarray, threshold: float = 0.02, window: int = 80) -> float:
    usable = len(samples) - len(samples) % window
    peaks = np.abs(samples[:usable].astype(np.int32)).reshape(-1, window).max(axis=1)
    loud = np.flatnonzero(peaks > threshold * 32768)
    return float((loud[-1] + 1) * window / RATE)


def bench_load_and_rtf(clips: dict[str, np.ndarray], repeats: int) -> None:
    from faster_whisper import WhisperModel

    from pushkin.daemon.hearing.recognizer import FasterWhisperRecognizer
    from pushkin.daemon.hearing.settings import RecognizerSettings

    print(f"\n1. load time (median of {repeats}; int8 on the CPU)")
    for name in ("whisper-base", "whisper-tiny.en"):
        entry = catalog.find(name)
        checks, loads = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            path = model_path(name)
            t1 = time.perf_counter()
            model = WhisperModel(str(path), device="cpu", compute_type="int8")
            t2 = time.perf_counter()
            del model
            checks.append(t1 - t0)
            loads.append(t2 - t1)
        size = catalog.installed(entry).size / 1e6
        print(f"  {name:16s} sha256 check {statistics.median(checks) * 1000:6.0f} ms ({size:.0f} MB)   "
              f"faster-whisper load {statistics.median(loads) * 1000:6.0f} ms")

    print(f"\n2. real-time factor on Piper speech (decode s / audio s; final decode, beam 1, median of {repeats})")
    audio_s = sum(len(c) for c in clips.values()) / RATE
    # base twice: choosing between en and ru costs a language-detection pass that a single language skips.
    for name, languages in (("whisper-base", ("en", "ru")), ("whisper-base", ("en",)), ("whisper-tiny.en", ("en",))):
        recognizer = FasterWhisperRecognizer(RecognizerSettings(model=str(model_path(name)), languages=languages,
                                                                allow_download=False))
        recognizer.load()
        recognizer.transcribe(next(iter(clips.values())).astype(np.float32) / 32768)  # warm-up
        totals, right = [], 0
        for _ in range(repeats):
            t0 = time.perf_counter()
            for text, samples in clips.items():
                heard = recognizer.transcribe(samples.astype(np.float32) / 32768, final=True)
                right += heard.text.strip() == text
            totals.append(time.perf_counter() - t0)
        median = statistics.median(totals)
        print(f"  {name:16s} RTF {median / audio_s:.3f}  ({median:.2f} s for {audio_s:.1f} s of speech, "
              f"languages {'+'.join(languages)}; exact transcripts {right}/{repeats * len(clips)})")


async def stream_realtime(client, samples: np.ndarray, start) -> tuple[float, list]:
    """Send ``samples`` paced like a microphone (30 ms chunks); returns (time sending began, events)."""
    chunk = int(0.03 * RATE)
    began = time.perf_counter()

    async def pcm():
        for index in range(0, len(samples), chunk):
            due = began + index / RATE
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            yield samples[index:index + chunk].tobytes()

    events = [(time.perf_counter(), event) async for event in client.stream_audio(pcm(), start)]
    return began, events


async def bench_end_to_end(address: str, clips: dict[str, np.ndarray], rounds: int, hangover_s: float) -> None:
    from pushkin.clients.buffer import EditorBuffer
    from pushkin.clients.daemon_client import DaemonClient
    from pushkin.clients.editor import EditorClient, ReconnectPolicy
    from pushkin.proto.types import AudioStart

    applied_at: list[float] = []

    def apply(buffer, batch):
        result = buffer.apply_batch(batch)
        applied_at.append(time.perf_counter())
        return result

    editor = EditorClient(address, editor_name="bench", apply=apply, reconnect=ReconnectPolicy(enabled=False))
    await editor.start()
    await editor.open(EditorBuffer("bench-doc", text="Start."), focus=True)
    from pushkin.proto.types import SpeechBoundary, Transcript

    latencies: dict[str, list[float]] = {"dictation": [], "command": []}
    # Where the time goes, for both kinds: end of speech -> the daemon says the utterance ended (the hangover
    # and any audio backlog) -> the edit is applied (recognition, intent, the editor's round trip). The final
    # transcript event reaches this client after the edit, so it marks no stage of its own.
    stages: dict[str, list[float]] = {"utterance closed": [], "then edit applied": []}
    interims: list[int] = []
    missed = 0
    async with DaemonClient(address) as daemon:
        for round_index in range(rounds):
            for kind, text in (("dictation", DICTATIONS[round_index % len(DICTATIONS)]), ("command", COMMAND)):
                samples = clips[text]
                applied_at.clear()
                began, events = await stream_realtime(daemon, samples, AudioStart(document_id="bench-doc", act=True))
                if len(applied_at) != 1:
                    missed += 1
                    continue
                end_of_speech = began + voiced_end_s(samples)
                latencies[kind].append(applied_at[0] - end_of_speech)
                closed = next((at for at, e in events if isinstance(e, SpeechBoundary) and not e.started), None)
                if closed is not None:
                    stages["utterance closed"].append(closed - end_of_speech)
                    stages["then edit applied"].append(applied_at[0] - closed)
                interims.append(sum(isinstance(e, Transcript) and not e.final for _, e in events))
    await editor.close()
    print(f"\n3. end of speech -> edit applied, through `pushkin serve` (whisper-base), {rounds} rounds"
          f"{f'; {missed} utterances applied no edit' if missed else ''}")
    print(f"  VAD hangover (silence before an utterance may close): {hangover_s * 1000:.0f} ms, included below")
    for kind, values in latencies.items():
        if not values:
            continue
        p50, p90 = statistics.median(values), percentile(values, 90)
        print(f"  {kind:9s} median {p50 * 1000:6.0f} ms  p90 {p90 * 1000:6.0f} ms   "
              f"without the hangover: median {(p50 - hangover_s) * 1000:6.0f} ms  p90 {(p90 - hangover_s) * 1000:6.0f} ms"
              f"  (n={len(values)})")
    print("  where it goes (median, both kinds): " + ", ".join(
        f"{stage} +{statistics.median(values) * 1000:.0f} ms" for stage, values in stages.items() if values)
        + f"; interim transcripts per utterance: {statistics.median(interims) if interims else 0:.0f}")


def start_daemon(folder: Path) -> tuple[subprocess.Popen, str]:
    import grpc

    from pushkin.proto.v1 import pushkin_pb2 as pb
    from pushkin.proto.v1 import pushkin_pb2_grpc as pb_grpc

    socket_path = folder / "d.sock"
    env = {**os.environ, "PUSHKIN_ADDRESS": f"unix://{socket_path}", "XDG_CONFIG_HOME": str(folder / "config")}
    process = subprocess.Popen([sys.executable, "-m", "pushkin.clients.cli", "serve", "--no-mic"], env=env,
                               stdout=open(folder / "serve.log", "wb"), stderr=subprocess.STDOUT)
    stub = pb_grpc.PushkinStub(grpc.insecure_channel(f"unix:{socket_path}"))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"pushkin serve exited: {(folder / 'serve.log').read_text()[-2000:]}")
        try:
            status = stub.GetStatus(pb.GetStatusRequest(), timeout=1)
            recognizer = next((c for c in status.components if c.name == "recognizer"), None)
            if recognizer and recognizer.state == "ready":
                return process, f"unix://{socket_path}"
            if recognizer and recognizer.state not in ("loading", ""):
                sys.exit(f"recognizer {recognizer.state}: {recognizer.detail}")
        except grpc.RpcError:
            pass
        time.sleep(0.1)
    sys.exit("the daemon's recognizer did not become ready within 120 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6, help="dictation + command pairs through the daemon")
    parser.add_argument("--repeats", type=int, default=3, help="repeats for load times and the RTF")
    args = parser.parse_args()
    from pushkin.daemon.hearing.settings import VadSettings

    print(f"machine: {machine()}")
    print(f"models folder: {catalog.models_dir()}")
    voice = model_path("piper-joe")
    folder = Path(tempfile.mkdtemp(prefix="bench-real-whisper-", dir="/tmp"))
    try:
        clips = {text: piper(voice, text, folder) for text in [*DICTATIONS, COMMAND]}
        bench_load_and_rtf(clips, args.repeats)
        process, address = start_daemon(folder)
        try:
            asyncio.run(bench_end_to_end(address, clips, args.rounds, VadSettings().hangover_ms / 1000))
        finally:
            process.terminate()
            process.wait(timeout=15)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\nmachine after: {machine()}")


if __name__ == "__main__":
    main()
