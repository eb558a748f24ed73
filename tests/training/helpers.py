"""Small builders shared by the recipe tests."""

from __future__ import annotations

import json
import random
from pathlib import Path

GENERIC = ["It is important to note that", "At the end of the day,", "In today's fast-paced world,",
           "Needless to say,", "It goes without saying that"]
PLAIN = ["the baker opened the shop at six", "my sister painted the red door", "the captain sold the small boat",
         "our teacher found an old letter", "the rain stopped before noon", "a young poet lost the silver key",
         "the old man cleaned the garden gate", "his friend carried the heavy box"]


def reward_pairs(path: Path, count: int = 80, seed: int = 0) -> Path:
    """(original, edited) pairs where the edit removes a stock phrase and a repeated word: the edit is better."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            core = rng.choice(PLAIN)
            words = core.split()
            k = rng.randrange(1, len(words))
            padded = " ".join(words[:k] + [words[k - 1], "really", "really"] + words[k:])
            original = f"{rng.choice(GENERIC)} {padded}."
            edited = core[0].upper() + core[1:] + "."
            out.write(json.dumps({"original": original, "edited": edited, "source": f"s{i % 10}"}) + "\n")
    return path


def dpo_prompts(path: Path, count: int = 24) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            out.write(json.dumps({"prompt": f"{PLAIN[i % len(PLAIN)].capitalize()}, and then", "source": f"p{i}"}) + "\n")
    return path


def head(manifest: Path, out: Path, count: int) -> Path:
    out.write_text("".join(manifest.read_text(encoding="utf-8").splitlines(keepends=True)[:count]), encoding="utf-8")
    return out


SUBJECTS = ["the writer", "my sister", "the old man", "our teacher", "a young poet", "the captain", "the baker",
            "his friend"]
VERBS = ["opened", "closed", "painted", "sold", "found", "lost", "carried", "cleaned"]
OBJECTS = ["the window", "a red door", "the small boat", "an old letter", "the garden gate", "a blue book",
           "the heavy box", "a silver key"]


def write_author_corpus(folder: Path) -> Path:
    """An author's folder with a recognizable manner (short, repeated frames), every file in English with
    every fourth paragraph in Russian: whichever files a split holds out, both languages are trained on."""
    rng = random.Random(1)
    folder.mkdir(parents=True, exist_ok=True)
    english = ["In the morning {s} {v} {o}, and nobody said a word.", "Later {s} {v} {o} again, slowly."]
    russian = ["Утром {s} открыл окно, и никто не сказал ни слова.", "Потом {s} снова закрыл дверь, медленно."]
    ru_subjects = ["писатель", "капитан", "пекарь", "учитель"]
    for f in range(8):
        paras = []
        for p in range(10):
            if p % 4 == 3:
                paras.append(" ".join(t.format(s=rng.choice(ru_subjects)) for t in russian))
            else:
                paras.append(" ".join(t.format(s=rng.choice(SUBJECTS), v=rng.choice(VERBS), o=rng.choice(OBJECTS))
                                      for t in english))
        (folder / f"story{f}.txt").write_text("\n\n".join(paras), encoding="utf-8")
    return folder


def author_prompts(path: Path, count: int = 48, seed: int = 2) -> Path:
    """Openings in the author's manner, for candidates from the persona composition."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            opening = f"In the morning {rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}, and"
            out.write(json.dumps({"prompt": opening, "source": f"p{i}"}) + "\n")
    return path
