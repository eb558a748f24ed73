"""The speech-LLM front end against the cascade, clip by clip, on a held-out spoken manifest.

For each clip of the manifest (``pushkin.training.spoken_set``'s ``heldout.jsonl``, retargeted or not) the
cascade — faster-whisper with the daemon's recognizer defaults, then the intent engine's reading of the words
— and, with ``--adapter DIR``, the speech-LLM (the daemon's decoder path: Whisper encoder → projector →
Gemma with that audio adapter → one output-language line, mapped as the daemon maps it) decide the
utterance. Scored against the engine's reading of the words that were said (the record's ``text``):

* command classification accuracy: command vs dictation decided right;
* command exact match: the same engine command with the same arguments (free text compared without case
  and edge punctuation);
* commands fired on dictation;
* dictation WER (lowercase, punctuation dropped, spoken marks converted on both sides);
* decision latency, median and p90: processing time from the clip's end (the whole clip handed over at
  once) to the decision, on this machine; per language and per voice family; the machine's load.

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_speech_llm_vs_cascade.py /tmp/spoken_full/heldout.jsonl \\
        [--limit N] [--adapter DIR --gemma DIR] [--out bench/speech_llm_vs_cascade.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from figures import percentile, word_edit_distance  # noqa: E402  (bench/ is the script's folder)

Decision = tuple[str, dict[str, str]] | None  # (engine command, args), or None for dictation
_EDGE = ".,!?;:…\"'«»“”„ "


@dataclass(frozen=True)
class ClipResult:
    """One clip's decision by one front end."""

    language: str
    voice_family: str
    expected: Decision
    decided: Decision
    said: str  # the words said (the dictation reference)
    heard: str  # the dictation the front end would type ("" for a command)
    latency_s: float
    refused: bool = False  # the speech-LLM's line was outside the language (the cascade decided instead)


@dataclass
class Summary:
    clips: int = 0
    classification_accuracy: float = 0.0
    command_exact: float = 0.0
    commands: int = 0
    commands_fired_on_dictation: int = 0
    dictations: int = 0
    dictation_wer: float = 0.0
    latency_median_s: float = 0.0
    latency_p90_s: float = 0.0
    refused: int = 0
    groups: dict[str, dict] = field(default_factory=dict)


def voice_family(voice: str) -> str:
    """"espeak-ng:en-us+m6:s0.92:p+2.5" → "espeak-ng:en-us"; "piper:joe..." → "piper"."""
    engine, _, rest = voice.partition(":")
    return f"{engine}:{rest.split('+')[0].split(':')[0]}" if engine == "espeak-ng" else engine


def _words(text: str) -> list[str]:
    from pushkin.daemon.intent.formatting import convert_spoken_punctuation

    return re.sub(r"[^\w\s']", " ", convert_spoken_punctuation(text).lower().replace("ё", "е")).split()


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(word edit distance, reference length), both normalized by :func:`_words`."""
    ref = _words(reference)
    return word_edit_distance(ref, _words(hypothesis)), len(ref)


def same_command(expected: Decision, decided: Decision) -> bool:
    """The same command with the same arguments; free text compared without case and edge punctuation."""
    if expected is None or decided is None or expected[0] != decided[0]:
        return False
    norm = lambda args: {k: " ".join(v.lower().strip(_EDGE).split()) for k, v in args.items()}  # noqa: E731
    return norm(expected[1]) == norm(decided[1])


def summarize(results: list[ClipResult], group_by: Iterable[str] = ("language", "voice_family")) -> Summary:
    summary = _figures(results)
    for key in group_by:
        for value in sorted({getattr(r, key) for r in results}):
            summary.groups[f"{key}={value}"] = asdict(_figures([r for r in results if getattr(r, key) == value]))
    return summary


def _figures(results: list[ClipResult]) -> Summary:
    commands = [r for r in results if r.expected is not None]
    dictations = [r for r in results if r.expected is None]
    right_kind = sum(1 for r in results if (r.expected is None) == (r.decided is None))
    errors = [word_errors(r.said, r.heard) for r in dictations if r.decided is None]
    latencies = [r.latency_s for r in results]
    return Summary(
        clips=len(results), classification_accuracy=round(right_kind / max(1, len(results)), 4),
        command_exact=round(sum(same_command(r.expected, r.decided) for r in commands) / max(1, len(commands)), 4),
        commands=len(commands), commands_fired_on_dictation=sum(1 for r in dictations if r.decided is not None),
        dictations=len(dictations),
        dictation_wer=round(sum(e for e, _ in errors) / max(1, sum(n for _, n in errors)), 4),
        latency_median_s=round(statistics.median(latencies), 3) if latencies else 0.0,
        latency_p90_s=round(percentile(latencies, 90), 3) if latencies else 0.0,
        refused=sum(r.refused for r in results))


# ---- the two front ends ----------------------------------------------------------------------------


def engine_reading(text: str) -> Decision:
    """The intent engine's reading of words (proposal decisions and leading hesitations as the daemon takes them)."""
    from pushkin.training.spoken_commands import reading

    return reading(text)


def cascade_decider(recognizer) -> Callable[[object], tuple[Decision, str, bool]]:
    """faster-whisper, then the engine's reading of what it heard."""

    def decide(audio) -> tuple[Decision, str, bool]:
        heard = recognizer.transcribe(audio, final=True).text.strip()
        decided = engine_reading(heard) if heard else None
        return decided, ("" if decided is not None else heard), False

    return decide


def speech_llm_decider(reader, cascade: Callable[[object], tuple[Decision, str, bool]]):
    """The speech-LLM's line mapped as the daemon maps it (:func:`pushkin.daemon.speech_llm.readings_of`); a line
    it refuses is decided by the cascade, as in the daemon (and counted as refused)."""
    from pushkin.daemon.speech_llm import UnusableLine, readings_of
    from pushkin.proto.types import IntentKind

    def decide(audio) -> tuple[Decision, str, bool]:
        output = reader.hear([audio])
        try:
            first = readings_of(output)[0]
        except UnusableLine:
            decided, heard, _ = cascade(audio)
            return decided, heard, True
        if first.kind is IntentKind.DICTATION:
            return None, first.text, False
        if first.command is None:  # a proposal decision: its word alone
            return engine_reading(first.text), "", False
        return (first.command.name, dict(first.command.args)), "", False

    return decide


def run(records: list[Mapping], decide: Callable[[object], tuple[Decision, str, bool]],
        load_audio: Callable[[Mapping], object]) -> list[ClipResult]:
    results = []
    for record in records:
        audio = load_audio(record)
        started = time.perf_counter()
        decided, heard, refused = decide(audio)
        latency = time.perf_counter() - started
        said = record.get("text") or record.get("transcript", "")
        expected = engine_reading(said) if record.get("kind") == "command" else None
        results.append(ClipResult(record.get("language", ""), voice_family(record.get("voice", "")), expected, decided,
                                  said if expected is None else "", heard, latency, refused))
    return results


def _manifest(path: Path, limit: int) -> list[dict]:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for record in records:
        if not Path(record["audio"]).is_absolute():
            record["audio"] = str(path.parent / record["audio"])
    if limit and limit < len(records):
        step = len(records) / limit  # spread over the manifest: every kind, language and voice
        records = [records[int(i * step)] for i in range(limit)]
    return records


def _load_audio(record: Mapping):
    import numpy as np
    import soundfile

    samples, rate = soundfile.read(record["audio"], dtype="float32")
    if rate != 16000:
        raise SystemExit(f"{record['audio']}: {rate} Hz, the recognizer takes 16000")
    return np.asarray(samples, dtype=np.float32)


def _speech_reader(adapter: str, gemma: str, recognizer):
    from pushkin.audio_lora.encoder import CTranslate2WhisperEncoder
    from pushkin.model.composed import ComposedModel
    from pushkin.model.loading import LoadOptions, load_base
    from pushkin.model.registry import AdapterRegistry
    from pushkin.model.speech import SpeechLLM

    loaded = load_base(LoadOptions(model=gemma, device="cpu", dtype="float32"))
    composed = ComposedModel(loaded, AdapterRegistry(adapter))
    return SpeechLLM(composed, CTranslate2WhisperEncoder(recognizer.whisper_model()))


def _load() -> dict:
    load1, load5, _ = os.getloadavg()
    return {"loadavg_1m": round(load1, 2), "loadavg_5m": round(load5, 2), "cpus": os.cpu_count()}


def _print(name: str, summary: Summary) -> None:
    print(f"{name}: {summary.clips} clips; classification {summary.classification_accuracy:.1%}; command exact "
          f"{summary.command_exact:.1%} of {summary.commands}; fired on dictation {summary.commands_fired_on_dictation}"
          f" of {summary.dictations}; dictation WER {summary.dictation_wer:.1%}; latency median "
          f"{summary.latency_median_s * 1000:.0f} ms, p90 {summary.latency_p90_s * 1000:.0f} ms"
          + (f"; refused {summary.refused}" if summary.refused else ""))
    for group, figures in summary.groups.items():
        print(f"  {group}: {figures['clips']} clips, classification {figures['classification_accuracy']:.1%}, "
              f"exact {figures['command_exact']:.1%} of {figures['commands']}, fired "
              f"{figures['commands_fired_on_dictation']}, WER {figures['dictation_wer']:.1%}, "
              f"{figures['latency_median_s'] * 1000:.0f}/{figures['latency_p90_s'] * 1000:.0f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--limit", type=int, default=0, help="this many clips, spread over the manifest (0: all)")
    parser.add_argument("--model", default="base", help="the cascade's Whisper (default base)")
    parser.add_argument("--threads", type=int, default=1, help="CTranslate2 CPU threads (default 1)")
    parser.add_argument("--adapter", default="", help="an adapter registry holding the audio adapter: run the speech-LLM")
    parser.add_argument("--gemma", default=str(Path.home() / ".local/share/pushkin/models/gemma-3-270m"))
    parser.add_argument("--out", type=Path, default=None, help="the JSON to write")
    args = parser.parse_args(argv)
    from pushkin.daemon.hearing.recognizer import FasterWhisperRecognizer
    from pushkin.daemon.hearing.settings import RecognizerSettings

    records = _manifest(args.manifest, args.limit)
    recognizer = FasterWhisperRecognizer(RecognizerSettings(model=args.model, cpu_threads=args.threads,
                                                            allow_download=False))
    recognizer.load()
    cascade = cascade_decider(recognizer)
    report: dict = {"manifest": str(args.manifest), "clips": len(records), "model": args.model,
                    "threads": args.threads, "load_before": _load()}
    front_ends = {"cascade": cascade}
    if args.adapter:
        front_ends["speech-llm"] = speech_llm_decider(_speech_reader(args.adapter, args.gemma, recognizer), cascade)
    for name, decide in front_ends.items():
        started = time.perf_counter()
        summary = summarize(run(records, decide, _load_audio))
        report[name] = asdict(summary) | {"seconds": round(time.perf_counter() - started, 1)}
        _print(name, summary)
    report["load_after"] = _load()
    print(f"machine load: {report['load_before']} -> {report['load_after']}")
    if args.out is not None:
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
