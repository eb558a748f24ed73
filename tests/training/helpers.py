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
