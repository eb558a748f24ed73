"""A LanguageModel (the daemon's seam) that rewrites by moving words: for daemon plumbing tests.

The tiny random model writes noise, which the rewrite guards now refuse (tests/daemon/test_daemon_rewrite.py
proves they do); these tests are about what happens to an accepted rewrite, so they need text that is a
plausible rewrite. The parrot reads the real few-shot prompt, takes the text after its last "Text:" label and
rotates the words by one more place on each call (so best-of-n candidates differ). The real tier runs the
same paths on Gemma 3 270M.
"""

from __future__ import annotations

import re

from pushkin.model.composed import CompositionStatus
from pushkin.text_lora.tasks import LABELS


class ParrotModel:
    def __init__(self) -> None:
        self.calls = 0
        self.prompts: list[str] = []

    def compose(self, mode, task=""):
        return CompositionStatus(mode, task, (), (), False)

    def stream(self, prompt, options, cancel=None):
        self.prompts.append(prompt)
        self.calls += 1
        blocks = [prompt.rsplit(f"{source}\n", 1) for source, _ in LABELS.values() if f"{source}\n" in prompt]
        if blocks:
            source = max((b[1] for b in blocks), key=len).split("\n")[0]
            words = source.rstrip(".!?").split()
            shift = self.calls % max(1, len(words))
            text = " ".join(words[shift:] + words[:shift]) + "."
        else:  # "continue": the prompt is the text before the cursor
            text = " " + " ".join(prompt.split()[-3:])
        for piece in re.findall(r"\s*\S+", text):
            if cancel is not None and cancel.is_set():
                return
            yield piece
