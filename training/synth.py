"""A closed set of spoken commands and dictation, synthesized with espeak-ng, for the audio proof of learning.

About 20 command phrases and 20 short dictation sentences (a few of each in Russian), spoken by several
espeak-ng voices at several speeds. The voices and speeds are split: the training manifest holds some,
the held-out manifest others, so the audio adapter is scored on voices and speeds it never heard. Audio
is written as 16 kHz mono 16-bit WAV (espeak-ng speaks at 22.05 kHz; sox resamples) and cached by content,
so a second build in the same cache costs nothing.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .data import write_jsonl

# Commands: (language, spoken phrase, the command in the model's output language). Dictation: (language,
# sentence); its target is the sentence as it should be typed.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("en", "scratch that", "scratch_that"), ("en", "undo that", "undo"), ("en", "redo that", "redo"),
    ("en", "stop", "stop"), ("en", "accept", "accept"), ("en", "reject", "reject"),
    ("en", "delete the last sentence", "delete unit=sentence"), ("en", "delete the last word", "delete unit=word"),
    ("en", "delete the last three words", "delete unit=word count=3"), ("en", "select all", "select unit=all"),
    ("en", "select the last paragraph", "select unit=paragraph"), ("en", "new line", "new_line"),
    ("en", "new paragraph", "new_paragraph"), ("en", "go to sleep", "sleep"), ("en", "wake up", "wake"),
    ("en", "rephrase that", "rewrite task=rephrase"), ("en", "make that more formal", "rewrite task=formal"),
    ("en", "shorten that", "rewrite task=shorten"),
    ("ru", "новая строка", "new_line"), ("ru", "перефразируй это", "rewrite task=rephrase"),
)
DICTATION: tuple[tuple[str, str], ...] = (
    ("en", "The rain stopped before noon."), ("en", "She opened the window."),
    ("en", "We walked along the river."), ("en", "My brother writes letters."),
    ("en", "The train was late again."), ("en", "I like strong black coffee."),
    ("en", "The garden smells of lilacs."), ("en", "He forgot his old umbrella."),
    ("en", "The meeting starts at nine."), ("en", "Our cat sleeps all day."),
    ("en", "The book has twelve chapters."), ("en", "Snow covered the quiet town."),
    ("en", "They sold the blue house."), ("en", "Call me after dinner."),
    ("en", "The sea was calm tonight."), ("en", "A dog barked in the yard."),
    ("en", "Please send the draft tomorrow."),
    ("ru", "Вечером пошёл дождь."), ("ru", "Она читает новую книгу."), ("ru", "Мы поехали к морю."),
)




@dataclass(frozen=True)
class Voice:
    """An espeak-ng voice: language voice + variant (e.g. "en-us" + "m3"), at a speed in words per minute."""

    variant: str
    speed: int
    pitch: int = 50

    def espeak_name(self, language: str) -> str:
        base = "ru" if language == "ru" else "en-us"
        return f"{base}+{self.variant}"

    @property
    def label(self) -> str:
        return f"{self.variant}-s{self.speed}-p{self.pitch}"


# Training voices/speeds surround the held-out ones, so held-out utterances are new voices and speeds
# within the range the adapter heard (formant variants, pitch and tempo all differ).
TRAIN_VOICES: tuple[Voice, ...] = tuple(
    Voice(v, s, p)
    for v, p in (("m1", 40), ("m3", 55), ("m5", 50), ("m7", 45), ("f1", 60), ("f3", 70), ("f4", 65), ("f5", 58))
    for s in (135, 165, 195)
)
HELDOUT_VOICES: tuple[Voice, ...] = (Voice("m2", 150, 50), Voice("f2", 180, 62), Voice("m4", 175, 48),
                                     Voice("m6", 155, 56))


def require_tools() -> None:
    """Raise a clear error when espeak-ng or sox is missing."""
    missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
    if missing:
        raise RuntimeError(f"{' and '.join(missing)} not found: install the Debian packages espeak-ng and sox")


def synthesize(text: str, language: str, voice: Voice, cache_dir: str | Path) -> Path:
    """A 16 kHz mono WAV of ``text`` in ``voice``, from the cache when it is there."""
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(f"{language}|{voice.label}|{text}".encode()).hexdigest()[:20]
    path = cache_dir / f"{key}.wav"
    if path.is_file():
        return path
    raw = cache_dir / f"{key}.raw.wav"
    subprocess.run(["espeak-ng", "-v", voice.espeak_name(language), "-s", str(voice.speed), "-p", str(voice.pitch),
                    "-w", str(raw), text], check=True, capture_output=True)
    # Half a second of silence around the speech, as a microphone would hear it, so the VAD finds edges.
    tmp = cache_dir / f"{key}.tmp.wav"
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(tmp), "pad", "0.4", "0.4"],
                   check=True, capture_output=True)
    raw.unlink()
    tmp.replace(path)
    return path


def phrases() -> list[tuple[str, str, str]]:
    """(language, spoken text, target line) for every phrase of the closed set."""
    return ([(lang, spoken, f"command: {command}") for lang, spoken, command in COMMANDS]
            + [(lang, text, f"dictate: {text}") for lang, text in DICTATION])


def build_closed_set(
    out_dir: str | Path,
    *,
    cache_dir: str | Path | None = None,
    train_voices: Sequence[Voice] = TRAIN_VOICES,
    heldout_voices: Sequence[Voice] = HELDOUT_VOICES,
) -> tuple[Path, Path]:
    """Synthesize the closed set; write ``train.jsonl`` and ``heldout.jsonl`` manifests; return their paths.

    Each manifest line: {"audio", "target", "text" (what was spoken), "source": the voice label, "language"}.
    """
    require_tools()
    out_dir = Path(out_dir)
    cache = Path(cache_dir) if cache_dir else out_dir / "wav"
    manifests = []
    for name, voices in (("train", train_voices), ("heldout", heldout_voices)):
        records = []
        for voice in voices:
            for language, text, target in phrases():
                path = synthesize(text, language, voice, cache)
                records.append({"audio": str(path), "target": target, "text": text, "source": voice.label,
                                "language": language})
        manifest = out_dir / f"{name}.jsonl"
        write_jsonl(manifest, records)
        manifests.append(manifest)
    return manifests[0], manifests[1]
