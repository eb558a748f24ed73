"""The spoken training set for the speech-LLM, made offline: ``python -m pushkin.training.spoken_set --out DIR``.

What it holds (``--size`` utterances, 3,200 by default; a fifth held out):

* open dictation in English and Russian, composed from word lists (:mod:`.spoken_text`), and sentences that
  say the grammar's words as ordinary words ("The trial period ends next week.");
* every command variant of the intent grammar, the proposal decisions and the spoken marks
  (:mod:`.spoken_commands`), each in training at least once when the set is large enough, some after a
  hesitation ("um, scratch that");
* some utterances spoken in two pieces with a 0.4–1.2 s pause between them, where the silence tokens matter;
* voices (:mod:`.speakers`): the Piper voice and espeak-ng voices for English, espeak-ng and Festival's
  Russian voice for Russian, at several speeds and pitches; every clip in a room (:mod:`.mixing`: pink or
  brown noise at 10–30 dB SNR, gain −12..+6 dB, never clipped).

The held-out split uses espeak-ng voices and speeds/pitches that training never has, and sentences that
hold a word-list entry training never uses. ``train.jsonl`` and ``heldout.jsonl`` are audio manifests in
the format :func:`pushkin.training.audio_data.read_manifest` reads (a user's own recordings go in the same
form), with fields saying how each clip was made; ``report.json`` counts them. Everything follows from
``--seed``; clips are stored by content, so a rebuild with the same settings synthesizes nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from pushkin.daemon.intent.grammar import strip_leading_fillers

from . import speakers
from .mixing import NOISE_COLOURS, mix
from .speakers import FESTIVAL_RU_VOICE, Voice
from .spoken_commands import CommandVariant, output_line, reading, say_command, sayable_variants
from .spoken_text import generate_sentence

SPLITS = ("train", "heldout")
# espeak-ng formant variants: training's and held-out's never meet.
TRAIN_VARIANTS = ("m1", "m3", "m5", "m7", "f1", "f3", "f4", "f5")
HELDOUT_VARIANTS = ("m2", "f2", "m4", "m6")
TRAIN_SPEEDS = (0.85, 1.0, 1.15)
HELDOUT_SPEEDS = (0.92, 1.25)
TRAIN_PITCHES = (-1.5, 0.0, 1.5)
HELDOUT_PITCHES = (-2.5, 2.5)


@dataclass(frozen=True)
class SpokenSetOptions:
    out_dir: str
    size: int = 3200
    heldout_fraction: float = 0.2
    seed: int = 0
    russian_fraction: float = 0.35  # of dictation; commands follow the grammar's variants
    command_fraction: float = 0.4
    command_words_fraction: float = 0.12  # dictation that says command words
    pause_fraction: float = 0.3  # utterances of two pieces spoken with a pause between them
    filler_fraction: float = 0.15  # of commands: a hesitation first
    neural_fraction: float = 0.4  # of each language: Piper (en) or Festival (ru) instead of espeak-ng
    snr_db: tuple[float, float] = (10.0, 30.0)
    gain_db: tuple[float, float] = (-12.0, 6.0)
    pause_s: tuple[float, float] = (0.4, 1.2)
    piper_voice: str = ""  # a Piper .onnx; "" = the installed piper-joe, or none
    festival: bool = True  # Festival's Russian voice, when installed
    cache_dir: str = ""  # the synthesized pieces; "" = <out_dir>/cache


@dataclass(frozen=True)
class PlannedUtterance:
    """One clip of the set, before it is synthesized; every choice made from the seed."""

    split: str
    language: str
    kind: str  # "dictation", "command-words", "command"
    pieces: tuple[str, ...]  # each spoken separately; a pause between two
    spoken: str  # all that is said
    target: str  # the output-language line
    intent: str  # the engine's reading of a command ("" for dictation)
    voice: Voice
    pauses_s: tuple[float, ...]
    lead_s: float
    tail_s: float
    noise: str
    snr_db: float
    gain_db: float
    noise_seed: int
    variant: str = ""  # the command variant ("select [the] <which> <unit>" expanded), for coverage

    def content_key(self) -> str:
        fields = [self.voice.label, self.voice.name, "|".join(self.pieces), repr(self.pauses_s), self.lead_s,
                  self.tail_s, self.noise, self.snr_db, self.gain_db, self.noise_seed]
        return hashlib.sha256(repr(fields).encode()).hexdigest()[:24]


def default_piper_voice() -> str:
    """The installed piper-joe voice file, or "" when it is not installed (or does not check out)."""
    from pushkin.model import catalog

    try:
        found = catalog.verified_path("piper-joe")
    except catalog.CatalogError:
        return ""
    if found is None:
        return ""
    path = Path(found)
    return str(path if path.is_file() else path / "en_US-joe-medium.onnx")


def voice_pool(split: str, language: str, options: SpokenSetOptions) -> tuple[list[Voice], list[Voice]]:
    """(espeak-ng voices, neural voices) a split may use for a language."""
    variants = TRAIN_VARIANTS if split == "train" else HELDOUT_VARIANTS
    speeds = TRAIN_SPEEDS if split == "train" else HELDOUT_SPEEDS
    pitches = TRAIN_PITCHES if split == "train" else HELDOUT_PITCHES
    base = "en-us" if language == "en" else "ru"
    espeak = [Voice("espeak-ng", f"{base}+{v}", language, s, p) for v in variants for s in speeds for p in pitches]
    neural: list[Voice] = []
    if language == "en" and options.piper_voice:
        neural = [Voice("piper", options.piper_voice, "en", s, p) for s in speeds for p in pitches]
    if language == "ru" and options.festival:
        neural = [Voice("festival", FESTIVAL_RU_VOICE, "ru", s, p) for s in speeds for p in pitches]
    return espeak, neural


def _split_sizes(options: SpokenSetOptions) -> dict[str, int]:
    held = round(options.size * options.heldout_fraction)
    return {"train": options.size - held, "heldout": held}


def _kinds(count: int, options: SpokenSetOptions, rng: random.Random) -> list[str]:
    commands = round(count * options.command_fraction)
    command_words = round(count * options.command_words_fraction)
    kinds = ["command"] * commands + ["command-words"] * command_words
    kinds += ["dictation"] * (count - len(kinds))
    rng.shuffle(kinds)
    return kinds


def plan(options: SpokenSetOptions) -> list[PlannedUtterance]:
    """Every utterance of the set, deterministic from ``options.seed``."""
    variants = list(sayable_variants())
    planned: list[PlannedUtterance] = []
    for split_index, (split, count) in enumerate(_split_sizes(options).items()):
        rng = random.Random(f"{options.seed}:{split_index}")
        order = variants[:]
        rng.shuffle(order)  # training walks this order first, so every variant is in it when it is large enough
        command_index = 0
        for kind in _kinds(count, options, rng):
            if kind == "command":
                variant = order[command_index] if split == "train" and command_index < len(order) else rng.choice(variants)
                command_index += 1
                planned.append(_command(split, variant, rng, options))
            else:
                language = "ru" if rng.random() < options.russian_fraction else "en"
                planned.append(_dictation(split, language, kind, rng, options))
    return planned


def _dictation(split: str, language: str, kind: str, rng: random.Random, options: SpokenSetOptions) -> PlannedUtterance:
    from pushkin.daemon.intent.formatting import convert_spoken_punctuation

    while True:
        sentence = generate_sentence(language, rng, held_out=split == "heldout", command_words=kind == "command-words")
        # Only sentences the engine types as they are: no whole-utterance command, no spoken mark inside.
        if reading(sentence.text) is None and convert_spoken_punctuation(sentence.text) == sentence.text:
            break
    parts = list(sentence.parts)
    parts[0] = parts[0][0].upper() + parts[0][1:]
    return _finish(split, language, kind, parts, f"dictate: {sentence.text}", "", rng, options)


def _command(split: str, variant: CommandVariant, rng: random.Random, options: SpokenSetOptions) -> PlannedUtterance:
    said = None
    while said is None:  # sayable variants always have a filling; a few draws find one
        said = say_command(variant, rng, held_out=split == "heldout", filler=rng.random() < options.filler_fraction)
    parts = list(said.parts)
    words = said.text.split()
    if len(parts) == 1 and len(words) >= 3 and rng.random() < options.pause_fraction / 2:
        cut = rng.randrange(1, len(words))  # a pause inside the command ("delete the last ... three words")
        parts = [" ".join(words[:cut]), " ".join(words[cut:])]
    return _finish(split, variant.language, "command", parts, said.target, said.intent, rng, options,
                   variant=f"{variant.source} :: {variant.key}")


def _finish(split: str, language: str, kind: str, parts: list[str], target: str, intent: str, rng: random.Random,
            options: SpokenSetOptions, variant: str = "") -> PlannedUtterance:
    espeak, neural = voice_pool(split, language, options)
    voice = rng.choice(neural if neural and rng.random() < options.neural_fraction else espeak)
    paused = len(parts) > 1 and (kind == "command" or rng.random() < options.pause_fraction)
    pieces = tuple(parts) if paused else (" ".join(parts),)
    pauses = tuple(round(rng.uniform(*options.pause_s), 3) for _ in pieces[1:])
    return PlannedUtterance(
        split=split, language=language, kind=kind, pieces=pieces, spoken=" ".join(parts), target=target, intent=intent,
        voice=voice, pauses_s=pauses, lead_s=round(rng.uniform(0.25, 0.6), 3), tail_s=round(rng.uniform(0.4, 0.8), 3),
        noise=rng.choice(NOISE_COLOURS), snr_db=round(rng.uniform(*options.snr_db), 2),
        gain_db=round(rng.uniform(*options.gain_db), 2), noise_seed=rng.randrange(2**31), variant=variant)


def manifest_record(utterance: PlannedUtterance, audio: str, gain_db: float) -> dict:
    """The manifest line: the existing format (audio, transcript | command, source) plus how it was made."""
    record: dict = {"audio": audio}
    if utterance.target.startswith("command: "):
        record["command"] = utterance.target[len("command: "):]
    else:
        record["transcript"] = utterance.target[len("dictate: "):]
    record.update({
        "text": utterance.spoken, "source": utterance.voice.label, "split": utterance.split,
        "language": utterance.language, "kind": utterance.kind, "voice": utterance.voice.label,
        "engine": utterance.voice.engine, "speed": utterance.voice.speed, "pitch": utterance.voice.pitch,
        "noise": utterance.noise, "noise_db": utterance.snr_db, "gain_db": round(gain_db, 2),
        "pauses_s": list(utterance.pauses_s),
    })
    if utterance.intent:
        record["intent"] = utterance.intent
    return record


def build(options: SpokenSetOptions, progress=None) -> dict:
    """Synthesize the set into ``options.out_dir``; returns the report (also written as report.json)."""
    started = time.monotonic()
    out = Path(options.out_dir)
    cache = Path(options.cache_dir) if options.cache_dir else out / "cache"
    clips = out / "clips"
    clips.mkdir(parents=True, exist_ok=True)
    utterances = plan(options)
    planned_s = time.monotonic() - started
    todo = [u for u in utterances if not (clips / f"{u.content_key()}.wav").is_file()]
    # Festival loads its voice once per process: say all of each Festival voice's pieces together first.
    by_voice: dict[Voice, set[str]] = {}
    for utterance in todo:
        if utterance.voice.engine == "festival":
            by_voice.setdefault(utterance.voice, set()).update(utterance.pieces)
    for voice, texts in by_voice.items():
        speakers.render_many(voice, sorted(texts), cache)
    records: dict[str, list[dict]] = {split: [] for split in SPLITS}
    gains: dict[str, float] = _stored_gains(out)
    for number, utterance in enumerate(utterances, 1):
        key = utterance.content_key()
        path = clips / f"{key}.wav"
        if key not in gains or not path.is_file():
            pieces = [speakers.render(utterance.voice, text, cache) for text in utterance.pieces]
            clip = mix(pieces, utterance.pauses_s, lead_s=utterance.lead_s, tail_s=utterance.tail_s,
                       noise=utterance.noise, snr_db=utterance.snr_db, gain_db=utterance.gain_db,
                       rng=np.random.default_rng(utterance.noise_seed))
            speakers.write_wav(path, clip.samples)
            gains[key] = clip.gain_db
        records[utterance.split].append(manifest_record(utterance, f"clips/{key}.wav", gains[key]))
        if progress and number % 250 == 0:
            progress(f"{number}/{len(utterances)} utterances, {time.monotonic() - started:.0f} s")
    for split, lines in records.items():
        with (out / f"{split}.jsonl").open("w", encoding="utf-8") as handle:
            for line in lines:
                handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    (out / "gains.json").write_text(json.dumps(gains, sort_keys=True), encoding="utf-8")
    report = _report(utterances, records, options, synthesized=len(todo), planned_s=planned_s,
                     seconds=time.monotonic() - started)
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return report


def retarget(out_dir: str | Path, to_dir: str | Path | None = None) -> dict:
    """Rewrite a built set's manifests with today's targets, synthesizing nothing: every command record's
    target is made again from the engine's reading of its words (:func:`pushkin.training.spoken_commands.reading`
    of the record's ``text``), and its ``intent`` with it. ``to_dir`` (default: in place) takes the new
    manifests, their audio paths made absolute so that they still find the clips. Returns the counts."""
    out = Path(out_dir)
    to = Path(to_dir) if to_dir is not None else out
    to.mkdir(parents=True, exist_ok=True)
    counts: Counter[str] = Counter()
    for split in SPLITS:
        source = out / f"{split}.jsonl"
        if not source.is_file():
            continue
        lines = []
        for line in source.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            record = retargeted_record(json.loads(line), counts)
            if to != out and not Path(record["audio"]).is_absolute():
                record["audio"] = str((out / record["audio"]).resolve())
            lines.append(json.dumps(record, ensure_ascii=False))
        written = to / f"{split}.jsonl"
        partial = written.with_suffix(".jsonl.partial")
        partial.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        partial.replace(written)
    return dict(counts)


def retargeted_record(record: dict, counts: Counter[str]) -> dict:
    """A manifest record with the target its words have today (a dictation record is left as it is)."""
    if record.get("kind") != "command":
        counts["dictation"] += 1
        return record
    spoken = record.get("text", "")
    read = reading(spoken)
    if read is None:  # the grammar no longer takes these words: dictate them as said
        counts["no_longer_a_command"] += 1
        target = f"dictate: {spoken}"
        intent = ""
    else:
        command, args = read
        intent = " ".join([command] + [f"{k}={v}" for k, v in sorted(args.items())])
        said = strip_leading_fillers(spoken)
        target = output_line(command, args, said) or f"dictate: {said[:1].upper()}{said[1:]}"
    record = {k: v for k, v in record.items() if k not in ("command", "transcript", "intent")}
    if target.startswith("command: "):
        record = {"audio": record["audio"], "command": target[len("command: "):], **record}
        counts["command_target"] += 1
    else:
        record = {"audio": record["audio"], "transcript": target[len("dictate: "):], **record}
        counts["dictate_target"] += 1
    if intent:
        record["intent"] = intent
    return record


def _stored_gains(out: Path) -> dict[str, float]:
    """The gains clips got when they were written (a clip's gain may be lowered to avoid clipping)."""
    path = out / "gains.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _report(utterances: Sequence[PlannedUtterance], records: dict[str, list[dict]], options: SpokenSetOptions, *,
            synthesized: int, planned_s: float, seconds: float) -> dict:
    import soundfile

    variants = {f"{v.source} :: {v.key}" for v in sayable_variants()}
    train_variants = {u.variant for u in utterances if u.split == "train" and u.variant}
    per_split = {}
    for split, lines in records.items():
        duration = sum(soundfile.info(str(Path(options.out_dir) / line["audio"])).duration for line in lines)
        per_split[split] = {
            "utterances": len(lines), "hours": round(duration / 3600, 3),
            "language": dict(Counter(line["language"] for line in lines)),
            "kind": dict(Counter(line["kind"] for line in lines)),
            "engine": dict(Counter(line["engine"] for line in lines)),
            "voices": len({line["voice"] for line in lines}),
            "with_pause": sum(1 for line in lines if line["pauses_s"]),
            "per_voice": dict(sorted(Counter(line["voice"] for line in lines).items())),
        }
    return {
        "options": asdict(options), "utterances": len(utterances), "synthesized": synthesized,
        "build_seconds": round(seconds, 1), "plan_seconds": round(planned_s, 1), "splits": per_split,
        "command_variants": len(variants), "command_variants_in_train": len(train_variants & variants),
        "commands_in_train": sorted({u.intent.split()[0] for u in utterances if u.split == "train" and u.intent}),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pushkin.training.spoken_set", description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="the folder for clips/, train.jsonl, heldout.jsonl, report.json")
    parser.add_argument("--size", type=int, default=SpokenSetOptions.size, help="utterances in all (default 3200)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", default="", help="where synthesized pieces are kept (default OUT/cache)")
    parser.add_argument("--piper-voice", default=None, help="a Piper .onnx (default: the installed piper-joe)")
    parser.add_argument("--no-piper", action="store_true", help="English from espeak-ng only")
    parser.add_argument("--no-festival", action="store_true", help="Russian from espeak-ng only")
    parser.add_argument("--retarget", action="store_true",
                        help="rewrite OUT's manifests with today's targets (no synthesis) and stop")
    parser.add_argument("--retarget-to", default=None,
                        help="with --retarget: write the manifests here (audio paths made absolute), not in OUT")
    args = parser.parse_args(argv)
    if args.retarget:
        print(json.dumps(retarget(args.out, args.retarget_to)))
        return 0
    piper = "" if args.no_piper else (args.piper_voice or default_piper_voice())
    festival = not args.no_festival and speakers.festival_voice_installed()
    options = SpokenSetOptions(out_dir=args.out, size=args.size, seed=args.seed, cache_dir=args.cache,
                               piper_voice=piper, festival=festival)
    if not piper:
        print("no Piper voice (pushkin models fetch piper-joe): English from espeak-ng only", file=sys.stderr)
    if not festival and not args.no_festival:
        print("no Festival Russian voice (apt-get install festival festvox-ru): Russian from espeak-ng only",
              file=sys.stderr)
    report = build(options, progress=lambda line: print(line, file=sys.stderr))
    print(json.dumps({k: report[k] for k in ("utterances", "synthesized", "build_seconds", "command_variants",
                                             "command_variants_in_train")}))
    for split, counts in report["splits"].items():
        print(f"{split}: {counts['utterances']} utterances, {counts['hours']} h, {counts['language']}, "
              f"{counts['kind']}, {counts['engine']}, {counts['voices']} voices, {counts['with_pause']} with a pause")
    return 0


if __name__ == "__main__":
    sys.exit(main())
