"""Spoken sessions through a real daemon: speech in, the document a careful editor expects out.

Each session of ``bench/speech_sessions.json`` (an initial document, utterances with the pause after
each, the exact expected document) is rendered with its voice (the Piper neural voice, or espeak-ng at a
voice and speed, or Festival's Russian voice from Debian's festvox-ru), streamed in real time through ``StreamAudio`` of a ``pushkin serve`` subprocess with a
real Whisper model, and edited in a real editor client (``EditorClient`` + ``EditorBuffer``) connected
to that daemon. Printed per group and per model: sessions exactly right, command and dictation accuracy
per utterance, false triggers (a command run on a dictated utterance), dictation WER, wrong-language
utterances, and end of speech → edit applied (median, p90) for commands and for dictation; plus the
machine's load.

    PUSHKIN_MODELS_DIR=/work/cache/real .venv/bin/python bench/bench_speech_sessions.py \\
        [--models whisper-base whisper-tiny.en] [--groups en-piper en-espeak ru-festival] [--limit N] [--show-failures]

Rendered clips are cached in $PUSHKIN_SPEECH_CACHE (default /tmp/pushkin-speech-cache). tiny.en is
English-only: it runs the English groups.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from figures import percentile, word_edit_distance  # noqa: E402  (bench/ is the script's folder)

HERE = Path(__file__).resolve().parent
SESSIONS = HERE / "speech_sessions.json"
RATE = 16000
LEAD_S = 0.6  # silence before the first utterance
TAIL_S = 1.2  # silence after the last pause, so the last utterance closes on its own
CHUNK_S = 0.03  # what a microphone hands over at a time


# ---- speech ---------------------------------------------------------------------------------------


def _cache() -> Path:
    folder = Path(os.environ.get("PUSHKIN_SPEECH_CACHE", "/tmp/pushkin-speech-cache"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as handle:
        return np.frombuffer(handle.readframes(handle.getnframes()), dtype=np.int16)


def _trim(samples: np.ndarray, threshold: float = 0.02) -> np.ndarray:
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > threshold * 32768)
    return samples[loud[0]:loud[-1] + 1] if len(loud) else samples


def render(text: str, voice: dict, models_dir: Path) -> np.ndarray:
    """The voice saying ``text``: int16 (T,) at 16 kHz, trimmed to the voice. Cached by content."""
    key = hashlib.sha256(json.dumps([text, voice], ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:20]
    cached = _cache() / f"{key}.wav"
    if not cached.exists():
        with tempfile.TemporaryDirectory() as folder:
            raw = Path(folder) / "raw.wav"
            if voice["engine"] == "piper":
                from piper import PiperVoice

                model = models_dir / "piper-joe" / f"{voice['name']}.onnx"
                with wave.open(str(raw), "wb") as out:
                    PiperVoice.load(str(model)).synthesize_wav(text, out)
            elif voice["engine"] == "festival":
                # Debian's festvox-ru (msu_ru_nsh_clunits): a recorded Russian voice that Whisper can read.
                script = Path(folder) / "text.txt"
                script.write_text(text, encoding="utf-8")
                subprocess.run(["text2wave", "-eval", f"(voice_{voice['name']})", str(script), "-o", str(raw)],
                               check=True, capture_output=True)
            else:
                subprocess.run(["espeak-ng", "-v", voice["name"], "-s", str(voice.get("speed", 170)), "-w", str(raw), text],
                               check=True, capture_output=True)
            subprocess.run(["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(cached)], check=True,
                           capture_output=True)
    return _trim(_read_wav(cached))


@dataclass(frozen=True)
class SessionAudio:
    audio: np.ndarray  # int16 (T,)
    spans: tuple[tuple[float, float], ...]  # per utterance, where its voice starts and ends (s)


def session_audio(session: dict, models_dir: Path) -> SessionAudio:
    pieces = [np.zeros(int(LEAD_S * RATE), dtype=np.int16)]
    spans, cursor = [], LEAD_S
    for utterance in session["utterances"]:
        clip = render(utterance["say"], session["voice"], models_dir)
        spans.append((cursor, cursor + len(clip) / RATE))
        pause = np.zeros(int(utterance["pause_after_s"] * RATE), dtype=np.int16)
        pieces += [clip, pause]
        cursor += (len(clip) + len(pause)) / RATE
    pieces.append(np.zeros(int(TAIL_S * RATE), dtype=np.int16))
    audio = np.concatenate(pieces)
    # A quiet room's noise floor (-60 dBFS): digital silence is not what a microphone gives.
    noise = np.random.default_rng(len(audio)).standard_normal(len(audio)) * 32768 * 10 ** (-60 / 20)
    return SessionAudio(np.clip(audio + noise, -32768, 32767).astype(np.int16), tuple(spans))


# ---- one session through the daemon ------------------------------------------------------------


@dataclass
class UtteranceOutcome:
    said: str
    expected_command: str  # "" for dictation
    heard: list[str] = field(default_factory=list)  # final transcripts whose speech fell in this utterance
    languages: list[str] = field(default_factory=list)
    decided: list[tuple[str, str]] = field(default_factory=list)  # (intent kind, command name)
    latency_s: float | None = None  # true end of speech -> the last of its edits applied


@dataclass
class SessionOutcome:
    session: dict
    final_text: str
    utterances: list[UtteranceOutcome]

    @property
    def exact(self) -> bool:
        return self.final_text == self.session["expected"]


async def run_session(address: str, session: dict, speech: SessionAudio, speed: float) -> SessionOutcome:
    from pushkin.clients.buffer import EditorBuffer
    from pushkin.clients.daemon_client import DaemonClient
    from pushkin.clients.editor import EditorClient, ReconnectPolicy
    from pushkin.proto.types import AudioStart, Selection, Transcript, UtteranceDecided

    initial = session["initial"]
    buffer = EditorBuffer(session["id"], text=initial, selection=Selection(len(initial), len(initial)))
    editor = EditorClient(address, editor_name="bench-speech", reconnect=ReconnectPolicy(enabled=False))
    await editor.start()
    await editor.open(buffer, focus=True)
    outcomes = [UtteranceOutcome(u["say"], u.get("command", "")) for u in session["utterances"]]
    step = int(CHUNK_S * RATE)
    started = 0.0

    async def pcm():
        nonlocal started
        started = time.perf_counter()
        for index, offset in enumerate(range(0, len(speech.audio), step)):
            due = started + index * CHUNK_S / speed
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            yield speech.audio[offset:offset + step].tobytes()

    def owner(end_s: float) -> UtteranceOutcome:
        """The scripted utterance a recognized stretch belongs to: the last one that started before it ended."""
        index = 0
        for position, (start, _) in enumerate(speech.spans):
            if start - 0.3 <= end_s:
                index = position
        return outcomes[index]

    transcripts: dict[str, Transcript] = {}
    language = session["language"] if session.get("pin_language") else ""
    async with DaemonClient(address) as daemon:
        async for update in daemon.stream_audio(pcm(), AudioStart(document_id=session["id"], language=language)):
            now = time.perf_counter()
            if isinstance(update, Transcript) and update.final and update.text:
                transcripts[update.utterance_id] = update
                outcome = owner(update.end_s)
                outcome.heard.append(update.text)
                outcome.languages.append(update.language)
            elif isinstance(update, UtteranceDecided):
                heard = transcripts.get(update.utterance_id)
                if heard is None:
                    continue
                outcome = owner(heard.end_s)
                intent = update.result.intent
                outcome.decided.append((intent.kind.value, intent.name))
                true_end = speech.spans[outcomes.index(outcome)][1]
                outcome.latency_s = (now - started) * speed - true_end
    await asyncio.sleep(0.05)
    text = buffer.text
    await editor.close()
    return SessionOutcome(session, text, outcomes)


# ---- figures ---------------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return re.sub(r"[^\w\s']", " ", text.lower().replace("ё", "е")).split()


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edit distance in words, reference length)."""
    ref = _words(reference)
    return word_edit_distance(ref, _words(hypothesis)), len(ref)


def summarize(label: str, results: list[SessionOutcome]) -> dict:
    commands = [u for r in results for u in r.utterances if u.expected_command]
    dictation = [u for r in results for u in r.utterances if not u.expected_command]
    right_commands = sum(1 for u in commands if u.decided == [("command", u.expected_command)])
    right_dictation = sum(1 for u in dictation if u.decided and all(kind == "dictation" for kind, _ in u.decided))
    false_triggers = sum(1 for u in dictation if any(kind == "command" for kind, _ in u.decided))
    errors = [word_errors(u.said, " ".join(u.heard)) for u in dictation]
    wer = sum(e for e, _ in errors) / max(1, sum(n for _, n in errors))
    language = {r.session["language"] for r in results}
    wrong_language = sum(1 for r in results for u in r.utterances for lang in u.languages if lang != r.session["language"])
    lost = sum(1 for r in results for u in r.utterances if not u.heard)
    command_latency = [u.latency_s for u in commands if u.latency_s is not None]
    dictation_latency = [u.latency_s for u in dictation if u.latency_s is not None]
    exact = sum(r.exact for r in results)

    def latency(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:5.0f}/{percentile(values, 90) * 1000:5.0f}" if values else "  n/a"

    print(f"{label:28s} {exact:3d}/{len(results):<3d} {100 * exact / max(1, len(results)):5.1f}%  "
          f"cmd {right_commands:3d}/{len(commands):<3d} dict {right_dictation:3d}/{len(dictation):<3d} "
          f"false {false_triggers:2d}  WER {100 * wer:5.1f}%  wrong-lang {wrong_language:2d}  lost {lost:2d}  "
          f"latency ms cmd {latency(command_latency)} dict {latency(dictation_latency)}", flush=True)
    return {"label": label, "exact": exact, "sessions": len(results), "commands_right": right_commands,
            "commands": len(commands), "dictation_right": right_dictation, "dictation": len(dictation),
            "false_triggers": false_triggers, "wer": wer, "wrong_language": wrong_language, "lost": lost,
            "languages": sorted(language), "command_latency_s": command_latency, "dictation_latency_s": dictation_latency}


# ---- the daemon -------------------------------------------------------------------------------------


class DaemonProcess:
    def __init__(self, model: Path, languages: list[str], extra: list[str]) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="pk-speech-"))
        self.socket = self.folder / "daemon.sock"
        self.log = open(self.folder / "daemon.log", "w")
        langs = "[" + ", ".join(f'"{lang}"' for lang in languages) + "]"
        command = [sys.executable, "-m", "pushkin.clients.cli", "serve", "--socket", str(self.socket), "--no-mic",
                   "--set", f"hearing.recognizer.model={model}",
                   "--set", f"hearing.recognizer.languages={langs}", "--set", "hearing.recognizer.allow_download=false",
                   "--set", "hearing.recognizer.cpu_threads=2"]
        for item in extra:
            command += ["--set", item]
        env = {**os.environ, "XDG_CONFIG_HOME": str(self.folder), "XDG_DATA_HOME": str(self.folder),
               "HF_HUB_OFFLINE": "1"}
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    @property
    def address(self) -> str:
        return f"unix://{self.socket}"

    async def ready(self, timeout_s: float = 120.0) -> None:
        from pushkin.clients.daemon_client import DaemonClient

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the daemon exited: {(self.folder / 'daemon.log').read_text()[-2000:]}")
            if self.socket.exists():
                try:
                    async with DaemonClient(self.address) as daemon:
                        status = await daemon.status()
                    states = {c.name: c.state for c in status.components}
                    if states.get("recognizer") == "ready":
                        return
                    if states.get("recognizer") == "missing":
                        self.stop()
                        raise SystemExit(f"the recognizer is missing: {status}")
                except (ConnectionError, RuntimeError, OSError) as error:
                    self.last_error = error
            await asyncio.sleep(0.3)
        raise RuntimeError("the daemon did not become ready: " + (self.folder / "daemon.log").read_text()[-2000:])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def load_sessions(groups: list[str] | None = None, limit: int | None = None) -> list[dict]:
    sessions = json.loads(SESSIONS.read_text(encoding="utf-8"))["sessions"]
    if groups:
        sessions = [s for s in sessions if s["group"] in groups]
    if limit:
        by_group: dict[str, list[dict]] = {}
        for session in sessions:
            by_group.setdefault(session["group"], []).append(session)
        sessions = [s for group in by_group.values() for s in group[:limit]]
    return sessions


async def run_model(model_dir: Path, sessions: list[dict], models_dir: Path, speed: float, extra: list[str],
                    show_failures: bool) -> list[SessionOutcome]:
    english_only = not (model_dir / "vocabulary.json").exists() or model_dir.name.endswith(".en")
    if english_only:
        sessions = [s for s in sessions if s["language"] == "en"]
    languages = ["en"] if english_only else ["en", "ru"]
    daemon = DaemonProcess(model_dir, languages, extra)
    results = []
    try:
        await daemon.ready()
        for session in sessions:
            outcome = await run_session(daemon.address, session, session_audio(session, models_dir), speed)
            results.append(outcome)
            if show_failures and not outcome.exact:
                print(f"  {session['id']}: got {outcome.final_text!r}, expected {session['expected']!r}; heard "
                      f"{[(u.heard, u.decided) for u in outcome.utterances]}", flush=True)
    finally:
        daemon.stop()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["whisper-base", "whisper-tiny.en"])
    parser.add_argument("--groups", nargs="+", default=None)
    parser.add_argument("--limit", type=int, default=None, help="at most this many sessions per group")
    parser.add_argument("--speed", type=float, default=1.0, help="stream faster than real time (latency is then not real)")
    parser.add_argument("--set", action="append", default=[], dest="overrides", help="passed to `pushkin serve --set`")
    parser.add_argument("--show-failures", action="store_true")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args(argv)
    models_dir = Path(os.environ.get("PUSHKIN_MODELS_DIR", Path.home() / ".local/share/pushkin/models"))
    sessions = load_sessions(args.groups, args.limit)
    print(f"spoken sessions: {len(sessions)}; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; "
          f"latency = true end of speech -> edit applied, median/p90", flush=True)
    figures = []
    for model in args.models:
        results = asyncio.run(run_model(models_dir / model, sessions, models_dir, args.speed, args.overrides,
                                        args.show_failures))
        for group in sorted({r.session["group"] for r in results}):
            figures.append(summarize(f"{model} {group}", [r for r in results if r.session["group"] == group]))
        figures.append(summarize(f"{model} all", results))
    print(f"load after: {os.getloadavg()[0]:.2f}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
