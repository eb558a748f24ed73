"""Clean dictation: hesitations dropped and spoken self-corrections resolved, before formatting.

Each is on by default and switchable (``[intent] drop_fillers``, ``resolve_corrections``,
``write_addresses``, ``write_numbers``). Each works on the words of one utterance and keeps the punctuation the
recognizer put around them tidy:

* "So, um, I think we should go." → "So I think we should go."; "Я, э-э, не знаю." → "Я не знаю."
  ("ну" only where it stands between commas or opens the utterance before a comma);
* "Meet at three, actually two." → "Meet at two."; "в три, то есть в два" → "в два"; "send it to John,
  I mean Mary" → "send it to Mary". A correction replaces as many words before the comma as it has (at
  most three), and only when the two are of a kind: both numbers, both names (capitalized), or both
  begin or end with the same word ("в три" / "в два", "3 units" / "4 units"). "I like it, actually it's
  great" stays as said;
* "anna dot k at example dot com" → "anna.k@example.com", "docs dot python dot org" → "docs.python.org"
  (a known top-level domain is required; "a dot com bubble" and "the site at example dot com" keep words);
* "twenty five percent" → "25%", "March third twenty twenty six" → "March 3, 2026", "at five pm" → "at 5 p.m.",
  "третьего марта" → "3 марта" (numbers.py says which numbers are written as digits and which stay words).
"""

from __future__ import annotations

import re

from pushkin.text.units import SENTENCE_TERMINATORS

from .grammar import FILLER_WORDS, NUMBER_WORDS, normalize_word
from .numbers import write_numbers

# Hesitations dropped wherever they stand. "ну" is a word as often as a filler (see _is_filler); "ah" and
# "eh" carry meaning inside a sentence ("It's cold, eh?"), so only a command or a lone utterance loses them.
_HESITATIONS = FILLER_WORDS - {"ну", "ah", "eh"}
# Spoken markers of a self-correction, as normalized word tuples; the longest is tried first.
CORRECTION_MARKERS: tuple[tuple[str, ...], ...] = tuple(sorted({
    ("actually",), ("i", "mean"), ("sorry",), ("no",), ("or", "rather"), ("rather",), ("make", "that"),
    ("то", "есть"), ("вернее",), ("точнее",), ("нет",), ("в", "смысле"), ("я", "имею", "в", "виду"),
}, key=len, reverse=True))
_MAX_CORRECTION_WORDS = 3
_TERMINAL = SENTENCE_TERMINATORS
_CLAUSE = ",;:"
_EN_NUMBER_WORDS = frozenset({"thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred",
                              "thousand", "noon", "midnight", "half"})


def _is_filler(tokens: list[str], index: int) -> bool:
    word = normalize_word(tokens[index])
    if word in _HESITATIONS:
        return True
    if word == "ну":  # "Ну, я думаю" / "я, ну, не знаю": a filler; "ну и что" is not
        return tokens[index].endswith(",") and (index == 0 or tokens[index - 1].endswith(","))
    return False


def drop_fillers(text: str) -> str:
    """``text`` without hesitation words, the commas that wrapped them merged away."""
    tokens = text.split()
    if not any(_is_filler(tokens, i) for i in range(len(tokens))):
        return text
    out: list[str] = []
    capitalize_next = False
    for index, token in enumerate(tokens):
        if not _is_filler(tokens, index):
            if capitalize_next and token[:1].islower():
                token = token[0].upper() + token[1:]
            capitalize_next = False
            out.append(token)
            continue
        ending = token[len(token.rstrip(_TERMINAL + _CLAUSE)):]
        if out and ending and ending[0] in _TERMINAL:
            out[-1] = out[-1].rstrip(_CLAUSE) + ending  # "and then, uh." → "and then."
        elif out and ending and out[-1][-1:] in _CLAUSE and out[-1][-1:] != ";":
            out[-1] = out[-1][:-1]  # "I was, uh, thinking" → "I was thinking"
        if not out or out[-1][-1:] in _TERMINAL:
            capitalize_next = token[:1].isupper()  # the filler began the sentence: its capital moves on
    return " ".join(out)


def _is_number(word: str) -> bool:
    word = normalize_word(word)
    return bool(word) and (word[0].isdigit() or word in NUMBER_WORDS or word in _EN_NUMBER_WORDS)


def _of_a_kind(replaced: list[str], correction: list[str]) -> bool:
    if all(_is_number(w) for w in replaced) and all(_is_number(w) for w in correction):
        return True
    if len(replaced) > 1 and (normalize_word(replaced[0]) == normalize_word(correction[0])
                              or normalize_word(replaced[-1]) == normalize_word(correction[-1])):
        return True  # "в три" / "в два", "3 units" / "4 units"
    return all(w[:1].isupper() for w in replaced) and all(w[:1].isupper() for w in correction)


def resolve_corrections(text: str) -> str:
    """``text`` with "X, actually Y" resolved to Y where X and Y are of a kind (see the module doc)."""
    tokens = text.split()
    for index in range(1, len(tokens)):
        if not tokens[index - 1].endswith(","):
            continue
        for marker in CORRECTION_MARKERS:
            words = [normalize_word(t) for t in tokens[index:index + len(marker)]]
            if tuple(words) != marker:
                continue
            correction = tokens[index + len(marker):]
            if not correction or len(correction) > _MAX_CORRECTION_WORDS:
                break
            if tokens[index + len(marker) - 1][-1:] in _TERMINAL:
                break  # "It was three, actually." — nothing follows the marker in this sentence
            ending = correction[-1][len(correction[-1].rstrip(_TERMINAL)):]
            cleaned = [t.strip(_CLAUSE + _TERMINAL) for t in correction]
            before = tokens[:index]
            before[-1] = before[-1][:-1]
            if len(cleaned) > len(before) or not all(cleaned):
                break
            replaced = before[len(before) - len(cleaned):]
            if any(t[-1:] in _TERMINAL + _CLAUSE for t in replaced[:-1]) or not _of_a_kind(replaced, cleaned):
                break
            if replaced[0][:1].isupper() and index - 1 - len(cleaned) < 0:
                cleaned[0] = cleaned[0][:1].upper() + cleaned[0][1:]
            return " ".join(before[:len(before) - len(cleaned)] + cleaned[:-1] + [cleaned[-1] + ending])
    return text


# Spoken web addresses: "example dot com" → "example.com"; "anna dot k at example dot com" →
# "anna.k@example.com" ("собака" is Russian for @). Only a known top-level domain makes words an address,
# and "at" makes an e-mail address only after a cue or with a dotted or numbered mailbox.
_TLDS = "com|org|net|edu|gov|io|dev|info|me|co|uk|de|fr|ru|рф|su|by|ua|kz"
_DOT = r"\s+(?:dot|точка)\s+"
_LABEL = r"[^\W_][\w-]*"
_DOMAIN = re.compile(rf"(?<![\w.@])({_LABEL}(?:{_DOT}{_LABEL})*{_DOT}(?:{_TLDS}))(?![\w])", re.IGNORECASE)
_EMAIL = re.compile(rf"(?<![\w.@])({_LABEL}(?:{_DOT}{_LABEL})*)\s+(?:at|собака)\s+(\S+\.(?:{_TLDS}))(?![\w])", re.IGNORECASE)
_NOT_A_DOMAIN = frozenset({"a", "an", "the", "this", "that", "our", "my", "your", "its", "their", "his", "her", "one",
                           "это", "наш", "мой"})
# A single-word mailbox needs a cue before it ("write to anna at …"); a dotted or numbered one does not.
_MAILBOX_CUES = frozenset({"to", "email", "e-mail", "mail", "address", "is", "cc", "contact", "на", "почту", "адрес",
                           "адресу", "почта", "пишите", "напишите"})


def write_addresses(text: str) -> str:
    """Spoken domains and e-mail addresses written as addresses (see the patterns above)."""
    def domain(match: re.Match) -> str:
        labels = re.split(_DOT, match.group(1))
        if labels[0].lower() in _NOT_A_DOMAIN:  # "a dot com bubble"
            return match.group(0)
        return ".".join(labels).lower()

    text = _DOMAIN.sub(domain, text)

    def mailbox(match: re.Match) -> str:
        local = re.sub(_DOT, ".", match.group(1))
        before = re.search(r"(\S+)\s*$", match.string[:match.start()])
        cued = before is not None and normalize_word(before.group(1)) in _MAILBOX_CUES
        if not (cued or "." in local or any(c.isdigit() for c in local)):
            return match.group(0)  # "The docs are at docs.python.org": "are" is no mailbox
        return f"{local.lower()}@{match.group(2).lower()}"

    return _EMAIL.sub(mailbox, text)


def clean_dictation(text: str, *, fillers: bool, corrections: bool, addresses: bool = True,
                    numbers: bool = True) -> str:
    if fillers:
        text = drop_fillers(text)
    if corrections:
        text = resolve_corrections(text)
    if addresses:
        text = write_addresses(text)
    if numbers:  # after the corrections: "three, actually two" has become "two" before it is written
        text = write_numbers(text)
    return text
