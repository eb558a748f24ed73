"""Personal vocabulary: the names and terms the recognizer is told about before it decodes.

Three sources, merged by :func:`merge_vocabulary`: ``[hearing.recognizer] vocabulary`` from the settings,
the user's list (:class:`UserVocabulary`, a file in the data folder that "add that to the vocabulary"
grows), and the names and terms of the user's indexed writing (:func:`persona_vocabulary`).

A term from the writing is a word written with a capital where no sentence begins ("Vronsky", "Kubernetes",
"Москва") or a word with a capital or digit inside it ("gRPC", "k8s"), seen at least ``min_count`` times;
capitalised words that follow each other are kept as one name ("Anya Karenina"). Common words written
with a capital only at a sentence start never qualify.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from pushkin.text import units

log = logging.getLogger(__name__)

PERSONA_TERMS = 48  # the decoder reads ~220 prompt tokens; names from the writing get about half
USER_TERMS = 200
MAX_TERM_CHARS = 60

# Words a writer capitalises mid-sentence that are no term (the pronoun, days and months stay out too:
# Whisper already writes them well).
_NOT_TERMS = frozenset(
    "i i'm i'll i've i'd ok mr mrs ms dr monday tuesday wednesday thursday friday saturday sunday january "
    "february march april may june july august september october november december".split()
)


def _is_term_shape(word: str) -> bool:
    inner = word[1:]
    return any(c.isupper() for c in inner) or any(c.isdigit() for c in word)


def extract_terms(texts: Iterable[str], *, limit: int = PERSONA_TERMS, min_count: int = 2) -> tuple[str, ...]:
    """The names and terms of ``texts`` (paragraphs), most frequent first, at most ``limit``."""
    sentences = [([(m.group(), m.start(), m.end()) for m in units.WORD.finditer(sentence)], sentence)
                 for text in texts for sentence in units.sentences(text)]
    # First pass: which capitalised words appear where no sentence begins (names), which in lowercase.
    named: set[str] = set()
    lowercase_seen: set[str] = set()
    for words, _ in sentences:
        for index, (word, _, _) in enumerate(words):
            if word[:1].islower() and not _is_term_shape(word):
                lowercase_seen.add(word.lower())
            elif word[:1].isupper() and (index > 0 or _is_term_shape(word)):
                named.add(word)
    named = {word for word in named if word.lower() not in lowercase_seen and word.lower() not in _NOT_TERMS
             and len(word) > 1}
    # Second pass: count the names (neighbours joined into one) wherever they stand, and odd-shaped terms.
    counts: Counter[str] = Counter()
    for words, sentence in sentences:
        run: list[str] = []
        previous_end = -1
        for word, start, end in words:
            if word in named:
                if run and sentence[previous_end:start] != " ":
                    _flush(run, counts)
                    run = []
                run.append(word)
            else:
                _flush(run, counts)
                run = []
                if word[:1].islower() and _is_term_shape(word):
                    counts[word] += 1
            previous_end = end
        _flush(run, counts)
    ranked = [term for term, count in counts.most_common() if count >= min_count]
    # A name seen whole ("Anya Karenina") covers its parts seen alone.
    parts = {part for term in ranked if " " in term for part in term.split()}
    return tuple([term for term in ranked if " " in term or term not in parts][:limit])


def _flush(run: list[str], counts: Counter[str]) -> None:
    if run:
        counts[" ".join(run[:4])] += 1


def persona_vocabulary(store_path: Path, *, limit: int = PERSONA_TERMS) -> tuple[str, ...]:
    """The terms of the paragraphs indexed in the persona store at ``store_path``; () when there is none
    (a store that cannot be read is logged, never an error: hearing works without it)."""
    if not Path(store_path).is_file():
        return ()
    from pushkin.persona.store import PersonaStore, StoreError

    try:
        with PersonaStore(store_path) as store:
            return extract_terms(store.iter_texts(), limit=limit)
    except (StoreError, OSError) as exc:
        log.warning("the persona store %s gave no vocabulary: %s", store_path, exc)
        return ()


class VocabularyError(ValueError):
    """A term that cannot be added (empty, too long, a whole sentence)."""


def clean_term(text: str) -> str:
    """``text`` as a vocabulary term: edge punctuation and extra spaces gone; raises VocabularyError."""
    term = " ".join(text.split()).strip(".,!?;:…\"'«»“”()[]—–- ")
    if not term:
        raise VocabularyError("there are no words to add")
    if len(term) > MAX_TERM_CHARS or len(term.split()) > 5:
        raise VocabularyError(f"“{term[:40]}…” is too long for a vocabulary term (at most 5 words)")
    if "\n" in term:
        raise VocabularyError("a term is one line")
    return term


class UserVocabulary:
    """The user's own terms, one a line in ``path`` (UTF-8); written whole through a temporary file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def terms(self) -> tuple[str, ...]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return ()
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("the vocabulary file %s cannot be read: %s", self.path, exc)
            return ()
        return tuple(dict.fromkeys(line.strip() for line in lines if line.strip() and not line.startswith("#")))

    def add(self, text: str) -> tuple[str, bool]:
        """Add ``text`` as a term: (the term, whether it was new); raises VocabularyError or OSError."""
        term = clean_term(text)
        terms = self.terms()
        if term in terms:
            return term, False
        if len(terms) >= USER_TERMS:
            raise VocabularyError(f"the vocabulary holds {USER_TERMS} terms; remove some from {self.path}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text("".join(t + "\n" for t in terms + (term,)), encoding="utf-8")
        os.replace(temporary, self.path)
        return term, True


def merge_vocabulary(settings_terms: Iterable[str], user_terms: Iterable[str],
                     persona_terms: Iterable[str]) -> tuple[str, ...]:
    """One list, without repeats: the writing's names first, the user's own last (the decoder's prompt is
    cut from the front when too long, so the user's words are the last to go)."""
    merged: dict[str, None] = {}
    for term in list(persona_terms) + list(settings_terms) + list(user_terms):
        term = term.strip()
        if term:
            merged.pop(term, None)
            merged[term] = None
    return tuple(merged)


def default_user_vocabulary_path() -> Path:
    from pushkin.persona.settings import data_home

    return data_home() / "pushkin" / "vocabulary.txt"


class PersonalVocabulary:
    """The recognizer's terms from all three sources; the writing is read once, the user's file on each
    change (``add``)."""

    def __init__(self, settings_terms: Iterable[str] = (), user: UserVocabulary | None = None,
                 persona_store: Path | None = None) -> None:
        self.settings_terms = tuple(settings_terms)
        self.user = user
        self.persona_terms = persona_vocabulary(persona_store) if persona_store is not None else ()

    def terms(self) -> tuple[str, ...]:
        return merge_vocabulary(self.settings_terms, self.user.terms() if self.user else (), self.persona_terms)

    def add(self, text: str) -> tuple[str, bool]:
        """Add ``text`` to the user's list: (the term, whether it was new); raises VocabularyError, OSError."""
        if self.user is None:
            raise VocabularyError("there is no vocabulary file to add to")
        return self.user.add(text)
