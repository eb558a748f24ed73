"""Checks on what a rewrite would write into the user's document; a refused rewrite leaves the text alone.

A small base model (and a half-trained adapter) fails in recognisable ways: it writes nothing, copies the
prompt's instructions or examples, loops on one line, emits separators such as U+2028, answers in the
other language, or writes far more or less than the task asks. :func:`check_rewrite` names the first such
failure in words (for the editor's message) or returns None when the text may be applied.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from pushkin.text import units

from .tasks import EXAMPLES, LABELS, RewriteTask, is_mostly_cyrillic, output_language

# Characters a rewrite must never insert: line/paragraph separators, controls other than newline and tab,
# format characters other than the joiners some scripts need, private use, unassigned, replacement char.
_ALLOWED_CONTROLS = {"\n", "\t"}
_ALLOWED_FORMAT = {"\u200c", "\u200d"}  # zero-width non-joiner and joiner
_REFUSED_CATEGORIES = {"Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp"}
_TURN_MARKERS = ("<start_of_turn>", "<end_of_turn>", "<bos>", "<eos>", "<pad>")


@dataclass(frozen=True)
class LengthBounds:
    """A result's length as a multiple of the source's (code points), with ``slack`` code points either way
    so that very short sources are not held to ratios."""

    low: float
    high: float
    slack: int = 24


# How long a sane result is, by task. "expand" may grow a lot; "summarize" and "shorten" must not grow.
LENGTH_BOUNDS: dict[str, LengthBounds] = {
    "rephrase": LengthBounds(0.4, 2.2),
    "formal": LengthBounds(0.4, 2.5),
    "casual": LengthBounds(0.3, 2.2),
    "shorten": LengthBounds(0.05, 1.1),
    "expand": LengthBounds(0.8, 6.0),
    "fix_grammar": LengthBounds(0.6, 1.5),
    "list": LengthBounds(0.4, 2.5),
    "summarize": LengthBounds(0.02, 1.1),
    "translate_ru": LengthBounds(0.4, 2.5),
    "translate_en": LengthBounds(0.4, 2.5),
}


def bad_character(text: str) -> str | None:
    """The first character a rewrite must not insert, described (``U+2028 LINE SEPARATOR``), or None."""
    for char in text:
        if char in _ALLOWED_CONTROLS or char in _ALLOWED_FORMAT:
            continue
        if unicodedata.category(char) in _REFUSED_CATEGORIES or char == "\ufffd":
            name = unicodedata.name(char, "unnamed character")
            return f"U+{ord(char):04X} {name}"
    return None


def _normal(text: str) -> str:
    return " ".join(units.words(text.lower()))


def echoed_prompt(task: RewriteTask, source: str, output: str) -> str | None:
    """What of the prompt ``output`` copies (an instruction, a block label, a turn marker, an example), or None."""
    lowered = output.lower()
    for marker in _TURN_MARKERS:
        if marker in lowered:
            return f"a turn marker ({marker})"
    for labels in LABELS.values():
        for label in labels:
            if re.search(rf"(^|\n)\s*{re.escape(label.lower())}", lowered):
                return f"the prompt's “{label}” label"
    said = _normal(output)
    for instruction in (task.instruction_en, task.instruction_ru):
        if instruction and _normal(instruction) in said:
            return "the task's instruction"
    source_words = _normal(source)
    for examples in EXAMPLES.get(task.name, {}).values():
        for example in examples:
            for part in example:
                words = _normal(part)
                if len(words) >= 12 and words in said and words not in source_words:
                    return "one of the prompt's examples"
    return None


def repetition(output: str, source: str) -> str | None:
    """How ``output`` repeats itself (a sentence or line twice, a phrase over and over), or None.

    Repeats the source already had are not held against the output.
    """
    seen: dict[str, int] = {}
    for piece in units.sentences(output):
        words = _normal(piece)
        if len(words) >= 8:
            seen[words] = seen.get(words, 0) + 1
    source_counts: dict[str, int] = {}
    for piece in units.sentences(source):
        words = _normal(piece)
        source_counts[words] = source_counts.get(words, 0) + 1
    for words, count in seen.items():
        if count > max(1, source_counts.get(words, 0)):
            return f"the sentence “{words[:40]}” {count} times"
    output_words = _normal(output).split()
    grams: dict[tuple[str, ...], int] = {}
    for i in range(len(output_words) - 3):
        gram = tuple(output_words[i:i + 4])
        grams[gram] = grams.get(gram, 0) + 1
    source_words = _normal(source).split()
    source_grams = {tuple(source_words[i:i + 4]) for i in range(len(source_words) - 3)}
    for gram, count in grams.items():
        if count >= 3 and gram not in source_grams:
            return f"the phrase “{' '.join(gram)}” {count} times"
    return None


def wrong_language(task: RewriteTask, source: str, output: str) -> str | None:
    letters = [c for c in output if c.isalpha()]
    if len(letters) < 4:
        return None
    wanted = output_language(task, source)
    got = "ru" if is_mostly_cyrillic(output) else "en"
    if got != wanted:
        names = {"ru": "Russian", "en": "English"}
        return f"it is in {names[got]}, not {names[wanted]}"
    return None


def length_problem(task: RewriteTask, source: str, output: str) -> str | None:
    bounds = LENGTH_BOUNDS.get(task.name)
    if bounds is None:
        return None
    n, m = len(source.strip()), len(output)
    low, high = max(1, int(bounds.low * n) - bounds.slack), int(bounds.high * n) + bounds.slack
    if m < low:
        return f"it is {m} characters long, far shorter than expected for {n} ({low}–{high})"
    if m > high:
        return f"it is {m} characters long, far longer than expected for {n} ({low}–{high})"
    return None


def check_rewrite(task: RewriteTask, source: str, output: str) -> str | None:
    """Why ``output`` (already cleaned) must not replace ``source`` (or, for "continue", be inserted), or None.

    ``source``: the text being rewritten; for "continue", the text before the cursor.
    """
    if not output.strip():
        return "the model returned no text"
    character = bad_character(output)
    if character is not None:
        return f"it contains {character}"
    if task.replaces and "\n" in output and "\n" not in source.strip() and task.name != "list":
        return "it adds line breaks the text did not have"
    echo = echoed_prompt(task, source, output)
    if echo is not None:
        return f"it repeats {echo}"
    repeated = repetition(output, source if task.replaces else "")
    if repeated is not None:
        return f"it repeats {repeated}"
    language = wrong_language(task, source[-400:], output)
    if language is not None:
        return language
    if task.replaces:
        return length_problem(task, source, output)
    return None
