"""Words, sentences and paragraphs of English and Russian text: one definition for every layer.

Editing (the intent engine's "delete the last sentence"), the rewrite guards, the persona's documents and
style metrics, hearing's term extraction and training's text all split text here, so that a "sentence"
or a "word" means the same thing to each of them.
"""

from __future__ import annotations

import re

Span = tuple[int, int]

# What an editor calls a word: letters, digits or _, with inner apostrophes or hyphens (don't, кто-то).
WORD = re.compile(r"\w+(?:['’\-]\w+)*")
# What style statistics count: a run of letters with inner apostrophes or hyphens, or a number (3.14
# whole). Digits and _ split letter words, so "well_done" is two tokens and "3.14" one.
STYLE_TOKEN = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*|\d+(?:[.,]\d+)*")

SENTENCE_TERMINATORS = ".!?…"  # the characters that end a sentence
_TERMINATORS = rf"[{re.escape(SENTENCE_TERMINATORS)}]+[\"'»”’)\]]*"  # a run of them and the closing quotes after
# A sentence: from a non-space character to a run of terminators followed by whitespace or the end (so
# "3.14" and "e.g" stay inside), or to the end of its line.
SENTENCE = re.compile(rf"\S(?:[^\r\n]*?(?:{_TERMINATORS}(?=\s|\Z)|(?=\r?\n)|\Z))?")
_SENTENCE_END = re.compile(rf"({_TERMINATORS})\s+")
# What can begin a sentence of prose: a capital or digit, maybe after an opening quote or a dialogue dash.
_OPENS_SENTENCE = re.compile(r"[\"'«“(\[]?[—–-]?\s?[A-ZА-ЯЁ0-9]")
# One or more blank lines (spaces and tabs on them allowed); the next line's indentation is not part of it.
PARAGRAPH_BREAK = re.compile(r"\r?\n[ \t]*\r?\n(?:[ \t]*\r?\n)*")
_WHITESPACE = re.compile(r"\s+")


def words(text: str) -> list[str]:
    """The words of ``text`` (see WORD), as written."""
    return WORD.findall(text)


def sentence_spans(text: str, lo: int = 0, hi: int | None = None) -> list[Span]:
    """The (start, end) of each sentence within ``text[lo:hi]``; a line break always ends a sentence."""
    return [m.span() for m in SENTENCE.finditer(text, lo, len(text) if hi is None else hi)]


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` (see sentence_spans) as strings."""
    return [text[start:end] for start, end in sentence_spans(text)]


def fold_whitespace(text: str) -> str:
    """Every run of whitespace (line breaks included) as one space, the ends trimmed."""
    return _WHITESPACE.sub(" ", text).strip()


def paragraphs(text: str) -> list[str]:
    """The paragraphs of ``text`` (separated by blank lines), whitespace folded, empty ones dropped."""
    folded = (fold_whitespace(block) for block in PARAGRAPH_BREAK.split(text))
    return [block for block in folded if block]


def prose_sentences(text: str) -> list[str]:
    """Sentences of running prose, for statistics: a paragraph's lines are joined, and a terminator ends a
    sentence only before something that can begin one (so the author's words after direct speech,
    "— Куда? — спросила она.", stay in its sentence). Pieces without a word are dropped.

    Abbreviations before a capital ("Mr. Smith") are split too; on prose that costs little, and the rule
    stays language-neutral.
    """
    found: list[str] = []
    for block in paragraphs(text):
        start = 0
        for end in _SENTENCE_END.finditer(block):
            if _OPENS_SENTENCE.match(block, end.end()):
                found.append(block[start:end.end(1)])
                start = end.end()
        found.append(block[start:])
    return [sentence for sentence in found if STYLE_TOKEN.search(sentence)]
