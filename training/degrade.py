"""Rule-based damage to real sentences, English and Russian, for training pairs that need no model.

Two uses, two sets of rules:

* :func:`grammar_errors` — the slips a writer makes and a grammar fixer should undo: subject–verb
  agreement (is/are, was/were, has/have, do/does), a/an, homophones (its/it's, their/there, your/you're,
  then/than, lose/loose), a doubled or dropped article; in Russian -тся/-ться, «не» fused with a verb, a
  hyphen lost in кто-то/что-нибудь, the comma before что/который/когда dropped, adjective endings that no
  longer agree. The corrupted text → the original is a ``fix_grammar`` pair.
* :func:`degrade` — labelled damage for the writing-quality reward's human-vs-degraded pairs
  (:data:`DEGRADATIONS`): two words swapped, a word dropped or doubled, filler inserted, agreement broken,
  the text cut off, a phrase repeated.

Every rule returns None when it does not apply, and never returns the text unchanged.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

DEGRADATIONS = ("word_order", "dropped_word", "duplicated_word", "filler", "broken_agreement", "truncated",
                "repeated_phrase")

_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")


@dataclass(frozen=True)
class Damage:
    text: str
    kind: str


Rule = Callable[[str, random.Random], "str | None"]


# ----------------------------------------------------------------------------------------------------------
# Word-level helpers


def _keep_case(original: str, replacement: str) -> str:
    if original.isupper() and len(original) > 1:
        return replacement.upper()
    if original[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def _swap_one(text: str, pairs: dict[str, str], rng: random.Random) -> str | None:
    """Replace one (random) whole-word occurrence of a key of ``pairs`` (case-insensitive) by its value."""
    pattern = re.compile(r"(?<![\w'’-])(" + "|".join(map(re.escape, sorted(pairs, key=len, reverse=True)))
                         + r")(?![\w'’-])", re.IGNORECASE)
    hits = list(pattern.finditer(text))
    if not hits:
        return None
    hit = rng.choice(hits)
    word = hit.group(1)
    return text[:hit.start(1)] + _keep_case(word, pairs[word.lower()]) + text[hit.end(1):]


def _both_ways(pairs: dict[str, str]) -> dict[str, str]:
    return {**pairs, **{b: a for a, b in pairs.items()}}


def _word_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _WORD.finditer(text)]


# ----------------------------------------------------------------------------------------------------------
# Grammar errors a writer makes


EN_AGREEMENT = _both_ways({"is": "are", "was": "were", "has": "have", "does": "do", "doesn't": "don't",
                           "isn't": "aren't", "wasn't": "weren't"})
EN_HOMOPHONES = _both_ways({"its": "it's", "their": "there", "your": "you're", "then": "than", "lose": "loose",
                            "whose": "who's", "affect": "effect"})
_EN_ARTICLE = re.compile(r"(?<![\w'’-])(a|an)(\s+)(\w)", re.IGNORECASE)


def en_agreement(text: str, rng: random.Random) -> str | None:
    return _swap_one(text, EN_AGREEMENT, rng)


def en_homophone(text: str, rng: random.Random) -> str | None:
    return _swap_one(text, EN_HOMOPHONES, rng)


def en_article(text: str, rng: random.Random) -> str | None:
    """"a apple" / "an book": the article no longer fits the next sound."""
    hits = list(_EN_ARTICLE.finditer(text))
    if not hits:
        return None
    hit = rng.choice(hits)
    article = hit.group(1)
    wrong = "an" if article.lower() == "a" else "a"
    return text[:hit.start(1)] + _keep_case(article, wrong) + text[hit.end(1):]


def en_article_dropped(text: str, rng: random.Random) -> str | None:
    hits = list(re.finditer(r"(?<![\w'’-])the\s+(?=\w)", text))  # lowercase only: not at a sentence start
    if not hits:
        return None
    hit = rng.choice(hits)
    return text[:hit.start()] + text[hit.end():]


def doubled_short_word(text: str, rng: random.Random) -> str | None:
    """"the the": a short word typed twice (both languages)."""
    spans = [s for s in _word_spans(text) if 1 <= s[1] - s[0] <= 4 and s[0] > 0]
    if not spans:
        return None
    start, end = rng.choice(spans)
    return text[:end] + " " + text[start:end] + text[end:]


_RU_TSYA = re.compile(r"(?<=[а-яё])(ться|тся)(?![а-яё])")
_RU_NE_VERB = re.compile(r"(?<![\w-])([Нн]е) ([а-яё]{2,}(?:ет|ит|ют|ят|ть|ешь|ишь|ал|ил|ел|ла|ли|ло))(?![\w-])")
_RU_HYPHEN = re.compile(r"(?<=[а-яё])-(то|нибудь|либо)(?![\w-])|(?<![\w-])([Кк]ое)-(?=[а-яё])")
_RU_COMMA = re.compile(r", (что|чтобы|который|которая|которое|которые|когда|если|потому что|хотя|где)(?![\w-])")
_RU_ADJECTIVE = re.compile(r"(?<=[а-яё]{3})(ый|ая|ое|ые)(?![а-яё-])")  # not -ий: гений, сценарий
_RU_ADJECTIVE_SWAP = {"ый": "ая", "ая": "ый", "ое": "ый", "ые": "ая"}


def ru_tsya(text: str, rng: random.Random) -> str | None:
    """-тся ↔ -ться, the commonest slip in written Russian."""
    hits = list(_RU_TSYA.finditer(text))
    if not hits:
        return None
    hit = rng.choice(hits)
    return text[:hit.start()] + ("тся" if hit.group(1) == "ться" else "ться") + text[hit.end():]


def ru_ne_fused(text: str, rng: random.Random) -> str | None:
    """«не знает» → «незнает»: не written together with a verb."""
    hits = list(_RU_NE_VERB.finditer(text))
    if not hits:
        return None
    hit = rng.choice(hits)
    return text[:hit.start()] + hit.group(1) + hit.group(2) + text[hit.end():]


def ru_hyphen(text: str, rng: random.Random) -> str | None:
    """«кто-то» → «кто то»: the hyphen of -то/-нибудь/-либо/кое- lost."""
    hits = list(_RU_HYPHEN.finditer(text))
    if not hits:
        return None
    hit = rng.choice(hits)
    return text[:hit.start()] + hit.group(0).replace("-", " ") + text[hit.end():]


def ru_comma(text: str, rng: random.Random) -> str | None:
    """The comma before a subordinate clause (что, который, когда, ...) left out."""
    hits = list(_RU_COMMA.finditer(text))
    if not hits:
        return None
    hit = rng.choice(hits)
    return text[:hit.start()] + text[hit.start() + 1:]


def ru_agreement(text: str, rng: random.Random) -> str | None:
    """An adjective ending that no longer agrees with its noun («новый книга»)."""
    hits = list(_RU_ADJECTIVE.finditer(text))
    if not hits:
        return None
    hit = rng.choice(hits)
    return text[:hit.start()] + _RU_ADJECTIVE_SWAP[hit.group(1)] + text[hit.end():]


GRAMMAR_RULES: dict[str, dict[str, Rule]] = {
    "en": {"agreement": en_agreement, "homophone": en_homophone, "article": en_article,
           "dropped_article": en_article_dropped, "doubled_word": doubled_short_word},
    "ru": {"tsya": ru_tsya, "ne_fused": ru_ne_fused, "hyphen": ru_hyphen, "comma": ru_comma,
           "agreement": ru_agreement, "doubled_word": doubled_short_word},
}


def grammar_errors(text: str, language: str, rng: random.Random, count: int = 1) -> Damage | None:
    """``text`` with ``count`` different kinds of writer's errors (fewer when fewer apply); None when none
    applies. ``kind`` lists the kinds applied, joined by "+"."""
    # A doubled word applies to almost any text: it comes last, or it would crowd out the other slips.
    rules = [(name, rule) for name, rule in GRAMMAR_RULES[language].items() if name != "doubled_word"]
    rng.shuffle(rules)
    rules.append(("doubled_word", doubled_short_word))
    applied: list[str] = []
    damaged = text
    for name, rule in rules:
        if len(applied) == count:
            break
        changed = rule(damaged, rng)
        if changed is not None and changed != damaged:
            damaged, applied = changed, applied + [name]
    if not applied or damaged == text:
        return None
    return Damage(damaged, "+".join(sorted(applied)))


# ----------------------------------------------------------------------------------------------------------
# Degradations for the reward


FILLERS = {"en": ("basically", "you know,", "kind of", "actually", "like,", "sort of", "I mean,", "literally"),
           "ru": ("как бы", "типа", "в общем,", "короче,", "так сказать,", "ну,", "собственно,", "значит,")}


def word_order(text: str, rng: random.Random) -> str | None:
    """Two neighbouring words (not the first) trade places."""
    spans = _word_spans(text)
    candidates = [i for i in range(1, len(spans) - 1)
                  if text[spans[i][0]:spans[i][1]].lower() != text[spans[i + 1][0]:spans[i + 1][1]].lower()
                  and text[spans[i][1]:spans[i + 1][0]] == " "]
    if not candidates:
        return None
    i = rng.choice(candidates)
    (a0, a1), (b0, b1) = spans[i], spans[i + 1]
    return text[:a0] + text[b0:b1] + " " + text[a0:a1] + text[b1:]


def dropped_word(text: str, rng: random.Random) -> str | None:
    """A word of three letters or more (not the first) disappears with the space before it."""
    spans = [s for s in _word_spans(text)[1:] if s[1] - s[0] >= 3 and text[s[0] - 1] == " "]
    if not spans:
        return None
    start, end = rng.choice(spans)
    return text[:start - 1] + text[end:]


def duplicated_word(text: str, rng: random.Random) -> str | None:
    """A word (of any length, not the first) written twice."""
    spans = _word_spans(text)[1:]
    if not spans:
        return None
    start, end = rng.choice(spans)
    return text[:end] + " " + text[start:end] + text[end:]


def filler(text: str, rng: random.Random, language: str = "en") -> str | None:
    """A verbal filler ("basically", «как бы») inserted before a word."""
    spans = [s for s in _word_spans(text)[1:] if text[s[0] - 1] == " "]
    if not spans:
        return None
    start, _ = rng.choice(spans)
    return text[:start] + rng.choice(FILLERS[language]) + " " + text[start:]


def truncated(text: str, rng: random.Random) -> str | None:
    """The text cut off after 40–75 % of its words, mid-sentence, without a final stop."""
    spans = _word_spans(text)
    if len(spans) < 5:
        return None
    keep = max(2, int(len(spans) * rng.uniform(0.4, 0.75)))
    if keep >= len(spans):
        return None
    return text[:spans[keep - 1][1]]


def repeated_phrase(text: str, rng: random.Random) -> str | None:
    """A phrase of 2–4 words repeated right after itself."""
    spans = _word_spans(text)
    length = min(len(spans) - 1, rng.randint(2, 4))
    if length < 2:
        return None
    first = rng.randrange(0, len(spans) - length + 1)
    start, end = spans[first][0], spans[first + length - 1][1]
    return text[:end] + " " + text[start:end].lower() + text[end:]


def degrade(text: str, language: str, kind: str, rng: random.Random) -> str | None:
    """``text`` damaged in the way ``kind`` names (one of :data:`DEGRADATIONS`); None when it does not apply."""
    if kind == "filler":
        damaged = filler(text, rng, language)
    elif kind == "broken_agreement":
        rule = en_agreement if language == "en" else ru_agreement
        damaged = rule(text, rng)
        if damaged is None and language == "en":
            damaged = en_article(text, rng)
    else:
        rules: dict[str, Rule] = {"word_order": word_order, "dropped_word": dropped_word,
                                  "duplicated_word": duplicated_word, "truncated": truncated,
                                  "repeated_phrase": repeated_phrase}
        if kind not in rules:
            raise ValueError(f"unknown degradation {kind!r}; known: {', '.join(DEGRADATIONS)}")
        damaged = rules[kind](text, rng)
    return damaged if damaged is not None and damaged != text else None
