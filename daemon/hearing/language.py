"""English or Russian, decided on short utterances: detection restricted to the configured languages,
weighed by what the last utterances were.

Whisper's language detection is a guess from the first frames; on a two-word utterance it is often
wrong, and unrestricted it may pick a language the user never speaks. A user writes in one language for
a while, so the recent decisions are a prior; when the weighed guess is still unsure, the recognizer
decodes in each language and keeps the reading its decoder believes most (see ``FasterWhisperRecognizer``).
"""

from __future__ import annotations

import collections
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class LanguageGuess:
    language: str
    confidence: float  # the weighed probability of ``language`` among the allowed ones
    probabilities: Mapping[str, float]  # weighed, over the allowed languages, summing to 1
    pinned: bool = False  # a hint or a single configured language: nothing to detect


class LanguagePrior:
    """The last ``memory`` decided languages; ``weigh`` combines them with a detection."""

    def __init__(self, allowed: Iterable[str], memory: int = 4, weight: float = 0.35) -> None:
        self.allowed = tuple(allowed)
        self.weight = weight  # how much the history counts against the audio, 0..1
        self.document_weight = 4  # the document's language counts as this many recent utterances
        self._recent: collections.deque[str] = collections.deque(maxlen=max(1, memory))

    def remember(self, language: str) -> None:
        if language in self.allowed:
            self._recent.append(language)

    def prior(self, document: str = "") -> dict[str, float]:
        """The history's belief; ``document``, the language the target document is written in, counts as
        ``document_weight`` more recent utterances."""
        counts = collections.Counter(self._recent)
        if document in self.allowed:
            counts[document] += self.document_weight
        total = sum(counts.values())
        if not total:
            return {language: 1.0 / len(self.allowed) for language in self.allowed}
        # Never zero: one English word inside Russian work must still be heard as English.
        return {language: (counts[language] + 0.5) / (total + 0.5 * len(self.allowed)) for language in self.allowed}

    def weigh(self, detected: Mapping[str, float], hint: str = "", document: str = "") -> LanguageGuess:
        """``detected``: Whisper's probabilities (any languages); ``hint``: a pinned language, if allowed;
        ``document``: the target document's language ("" when unknown)."""
        if hint and hint in self.allowed:
            return LanguageGuess(hint, 1.0, {hint: 1.0}, pinned=True)
        if len(self.allowed) == 1:
            only = self.allowed[0]
            return LanguageGuess(only, 1.0, {only: 1.0}, pinned=True)
        audio = {language: detected.get(language, 0.0) for language in self.allowed}
        total = sum(audio.values())
        prior = self.prior(document)
        audio = {k: v / total for k, v in audio.items()} if total > 0 else prior
        # A weighted geometric mean of the audio's evidence and the history's.
        weighed = {k: (audio[k] ** (1 - self.weight)) * (prior[k] ** self.weight) for k in self.allowed}
        norm = sum(weighed.values()) or 1.0
        weighed = {k: v / norm for k, v in weighed.items()}
        best = max(weighed, key=weighed.__getitem__)
        return LanguageGuess(best, weighed[best], weighed)


_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)


def script_language(text: str, *, share: float = 0.6) -> str:
    """"ru" or "en" when that script holds at least ``share`` of the letters of ``text``, else ""."""
    cyrillic, latin = len(_CYRILLIC.findall(text)), len(_LATIN.findall(text))
    letters = cyrillic + latin
    if letters < 8:
        return ""
    if cyrillic >= share * letters:
        return "ru"
    if latin >= share * letters:
        return "en"
    return ""


# Whisper languages written in Cyrillic; every other language this daemon allows is written in Latin letters.
_CYRILLIC_LANGUAGES = frozenset({"ru", "uk", "be", "bg", "sr", "mk", "kk", "tt", "ba"})


def language_script(language: str) -> str:
    """The script of ``language`` named as :func:`script_language` names it: "ru" (Cyrillic) or "en" (Latin)."""
    return "ru" if language in _CYRILLIC_LANGUAGES else "en"
