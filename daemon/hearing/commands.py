"""The command grammar as the recognizer sees it: concrete phrases to score against an utterance's audio.

The intent engine matches a transcript against patterns; the recognizer needs the other direction — the
finite phrases a user might have said ("Undo that.", "Delete the last sentence.", "Запятая.") so that,
when Whisper's free transcript is close to one of them ("And do that.", "Belief the last sentence."),
the audio can decide between the two (see :mod:`.rescoring`). Patterns with free text (``replace <x>
with <y>``) expand to nothing: their words come from the document, not from a table.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..intent.formatting import SPOKEN_MARKS
from ..intent.grammar import _TOKEN, BUILTIN_RULES, SLOT_VOCABULARY, Grammar, GrammarRule, normalize_word, split_words

# Counts a spoken command most often carries; enough to score "delete the last three words".
_SPOKEN_COUNTS = {"en": ("two", "three", "four", "five"), "ru": ("два", "три", "четыре", "пять")}
_MAX_PHRASES_PER_RULE = 48
_CYRILLIC = re.compile(r"[а-яё]")


@dataclass(frozen=True)
class CommandPhrase:
    """One concrete phrase: the words as the grammar spells them, and the text Whisper would write."""

    words: str  # normalized, space-separated
    text: str  # "Delete the last sentence."
    language: str  # "en" or "ru"
    letters: str  # the words without spaces: what the similarity shortlist compares


def phrase_language(words: str) -> str:
    return "ru" if _CYRILLIC.search(words) else "en"


def _written(words: str) -> str:
    return words[:1].upper() + words[1:] + "."


def _phrase(words: str) -> CommandPhrase:
    return CommandPhrase(words, _written(words), phrase_language(words), words.replace(" ", ""))


def expand_pattern(pattern: str) -> list[str]:
    """Every phrase a pattern without free text can be said as (capped); [] when it has a free-text slot."""
    tokens = [m.group(1) for m in _TOKEN.finditer(pattern.strip())]
    position = 0

    def alternatives(closer: str | None) -> list[list[str]] | None:
        nonlocal position
        branches: list[list[str]] = []
        while True:
            sequence = sequence_of()
            if sequence is None:
                return None
            branches.extend(sequence)
            if position < len(tokens) and tokens[position] == "|":
                position += 1
                continue
            break
        if closer is not None:
            position += 1  # the grammar compiled this pattern, so the closer is there
        return branches

    def sequence_of() -> list[list[str]] | None:
        nonlocal position
        results: list[list[str]] = [[]]
        while position < len(tokens) and tokens[position] not in ("|", "]", ")"):
            token = tokens[position]
            position += 1
            if token in ("[", "("):
                inner = alternatives("]" if token == "[" else ")")
                if inner is None:
                    return None
                options = inner + ([[]] if token == "[" else [])
            elif token.startswith("<"):
                slot = token[1:-1]
                if slot == "n":
                    options = [[w] for language in _SPOKEN_COUNTS for w in _SPOKEN_COUNTS[language]]
                elif slot in SLOT_VOCABULARY:
                    options = [[w] for w in SLOT_VOCABULARY[slot]]
                else:
                    return None
            else:
                options = [[normalize_word(token) or token]]
            results = [r + o for r in results for o in options][: _MAX_PHRASES_PER_RULE * 8]
        return results

    expanded = alternatives(None)
    if expanded is None:
        return []
    phrases: list[str] = []
    seen: set[str] = set()
    for words in expanded:
        text = " ".join(w for w in words if w)
        # One language per phrase: a count or vocabulary word of the other language makes nonsense.
        if text and text not in seen and len({phrase_language(w) for w in words if w}) == 1:
            seen.add(text)
            phrases.append(text)
    return phrases[:_MAX_PHRASES_PER_RULE]


class CommandVocabulary:
    """The grammar's rules (the user's first) as a matcher and as a list of concrete phrases."""

    def __init__(self, user_rules: Iterable[GrammarRule] = ()) -> None:
        rules = list(user_rules) + list(BUILTIN_RULES)
        self.grammar = Grammar(rules)
        self._fixed_rules = {rule.pattern for rule in rules if expand_pattern(rule.pattern)}
        seen: set[str] = set()
        phrases: list[CommandPhrase] = []
        for words in self._all_words(rules):
            if words not in seen:
                seen.add(words)
                phrases.append(_phrase(words))
        self.phrases: tuple[CommandPhrase, ...] = tuple(phrases)

    @staticmethod
    def _all_words(rules: list[GrammarRule]) -> Iterator[str]:
        for rule in rules:
            yield from expand_pattern(rule.pattern)
        for mark_words in SPOKEN_MARKS:
            yield " ".join(mark_words)

    def is_command(self, text: str) -> bool:
        """True when the whole text already is a command of the table (fixed words, not free text) or a mark."""
        words = split_words(text).normalized.strip()
        if tuple(words.split()) in SPOKEN_MARKS:
            return True
        match = self.grammar.match(text)
        return match is not None and match.rule is not None and match.rule.pattern in self._fixed_rules

    def shortlist(self, text: str, language: str, *, limit: int = 4, min_similarity: float = 0.55,
                  max_words: int = 6) -> list[CommandPhrase]:
        """The phrases of ``language`` whose letters are closest to the utterance's, best first.

        Only a short utterance has any: a sentence of dictation is never compared with commands.
        """
        words = split_words(text).normalized.split()
        if not words or len(words) > max_words:
            return []
        letters = "".join(words)
        scored = []
        for phrase in self.phrases:
            if phrase.language != language or abs(len(phrase.words.split()) - len(words)) > 2:
                continue
            matcher = difflib.SequenceMatcher(None, letters, phrase.letters, autojunk=False)
            if matcher.real_quick_ratio() < min_similarity or matcher.quick_ratio() < min_similarity:
                continue
            similarity = matcher.ratio()
            if similarity >= min_similarity:
                # A phrase of the same length is the likelier reading of a misheard one.
                scored.append((similarity - 0.05 * abs(len(phrase.words.split()) - len(words)), phrase))
        scored.sort(key=lambda pair: -pair[0])
        return [phrase for _, phrase in scored[:limit]]
