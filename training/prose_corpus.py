"""Real prose that every Debian machine can install offline: quotations in English and Russian.

Three Debian packages hold the text (``scripts/setup.sh`` installs them):

* ``fortunes`` — BSD fortune's English quotation files under ``/usr/share/games/fortunes``: quips,
  aphorisms and short passages by many authors, each record ended by a ``%`` line, the attribution on an
  indented ``-- Author`` line. The offensive files live in the separate ``fortunes-off`` package, which is
  never installed here; of the rest only the files of ordinary prose are read (:data:`ENGLISH_FILES`).
* ``fortunes-ru`` — the same format in Russian (UTF-8) under ``.../fortunes/ru``; the files of aphorisms
  are read (:data:`RUSSIAN_FILES`), not the ones of verse, advertising slogans, politics or quips about
  women and men.
* ``dict-gcide`` — Webster 1913 (GCIDE): its literary citations (an indented quotation followed by
  ``--Author.``) are English sentences from three centuries of books.

Cleaning keeps real running sentences: attributions, dialogue (``Q:``/``A:``, lines opening with a dash),
numbered lists, verse (most lines short), markup and code-like records are dropped; line wraps are joined.
Each :class:`Passage` names its ``source`` as ``<package>/<file>`` (GCIDE: ``gcide/<headword letter>``), so
a split by source keeps a whole file on one side.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pushkin.text.units import fold_whitespace, prose_sentences, words

FORTUNES_DIR = Path("/usr/share/games/fortunes")
GCIDE_FILE = Path("/usr/share/dictd/gcide.dict.dz")

# Files of general prose. Left out: verse (songs-poems), riddles and dialogue, technical jargon (computers,
# linux, perl, debian), nonsense (zippy), dictionary-style definitions, and files the Offensive notes of
# the package would flag (ethnic, drugs, men-women, politics).
ENGLISH_FILES = ("art", "cookie", "education", "food", "fortunes", "humorists", "kids", "law", "literature",
                 "love", "magic", "medicine", "miscellaneous", "news", "people", "pets", "platitudes",
                 "science", "sports", "wisdom", "work")
# Aphorisms and short prose. Left out: verse (feano, haiku), slogans and parodies (adv, adv_v, fomenko),
# politics and religion (polit, russia_today, treason, religion), ethnic jokes (armenian), drink, sex and
# the files of quips about women and men (b*, d*, e*, fidelity, flirt, lovers, love_s, man_and_woman,
# relations), and computing (M$, computer, programming).
RUSSIAN_FILES = ("2001.03", "2001.04", "2001.05", "2001.06", "2001.07", "2001.08", "2001.09", "2001.10",
                 "2001.11", "2001.12", "2002.01", "2002.02", "2002.03", "2002.04", "2002.05", "2002.06",
                 "2002.07", "2002.08", "2002.09", "2002.10", "2002.11", "2002.12", "2003.01", "2003.02",
                 "2003.03", "2003.04", "2003.05", "2003.06", "2003.07", "2006.03", "art", "book", "citates",
                 "conscience", "disa", "education", "ego_and_alt", "eshe", "foolish", "freewill", "friendship",
                 "future", "genious", "happy", "human_being", "if", "ill", "innocence", "knowledge", "life",
                 "life_k", "love", "other", "polyakov", "success", "sympathy", "time", "truth", "truth_and_lie",
                 "war", "wealth", "work")

MIN_WORDS = 5  # a passage shorter than this is a fragment, not prose
MAX_CHARS = 600  # longer records are stories or lists; the tasks want a few sentences

_ATTRIBUTION = re.compile(r"^\s+--?\s*\S")  # "		-- Mark Twain" (and "	- Автор")
_DIALOGUE = re.compile(r"^\s*(?:[QA]:|[—–-]\s|\w{1,12}:\s)")
_LIST_ITEM = re.compile(r"^\s*(?:\(?\d+[.)]|[*•])\s")
_NOT_PROSE = re.compile(r"[{}<>|\\_=#@~^$`]|\[|\]|https?:|\.\w{2,4}/|\d{3,}-\d|[A-Z]{5,}")
_SENTENCE_END = re.compile(r"[.!?…][\"'»”)]*$")
_CYRILLIC = re.compile(r"[А-Яа-яЁё]")
_LATIN = re.compile(r"[A-Za-z]")


@dataclass(frozen=True)
class Passage:
    text: str
    source: str  # <package>/<file>: the unit a split keeps on one side
    language: str  # "en" | "ru"


class ProseMissing(RuntimeError):
    """The Debian prose packages are not installed; the message says which and how to install them."""


def language_of(text: str) -> str:
    return "ru" if len(_CYRILLIC.findall(text)) > len(_LATIN.findall(text)) else "en"


def clean_record(record: str, language: str) -> str | None:
    """One fortune record as a line of prose, or None when it is not running prose in ``language``."""
    lines = [line.rstrip() for line in record.replace("\r", "").split("\n")]
    lines = [line for line in lines if line.strip()]
    # The attribution and anything after it (a source title on the next line) go.
    for index, line in enumerate(lines):
        if _ATTRIBUTION.match(line) and index > 0:
            lines = lines[:index]
            break
    if not lines:
        return None
    if any(_DIALOGUE.match(line) or _LIST_ITEM.match(line) for line in lines):
        return None
    # Verse: several lines and most of them short (a prose record is wrapped near 72 columns).
    if len(lines) >= 3 and sum(len(line.strip()) < 45 for line in lines[:-1]) * 2 > len(lines) - 1:
        return None
    return clean_sentence_text(" ".join(line.strip() for line in lines), language)


def clean_sentence_text(text: str, language: str) -> str | None:
    """``text`` with whitespace folded, or None when it is not whole sentences of prose in ``language``."""
    text = fold_whitespace(text).replace(" ,", ",")
    if len(text) > MAX_CHARS or len(words(text)) < MIN_WORDS or _NOT_PROSE.search(text):
        return None
    if not _SENTENCE_END.search(text) or not (text[0].isupper() or text[0] in "\"'«“"):
        return None
    if language_of(text) != language:
        return None
    if language == "ru" and _LATIN.search(text):  # a Russian aphorism with Latin letters is mostly a pun or code
        return None
    return text


def parse_fortune_file(path: Path, source: str, language: str) -> list[Passage]:
    """The prose records of one fortune file (records end with a ``%`` line)."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    records = re.split(r"^%\s*$", raw, flags=re.MULTILINE)
    passages = []
    for record in records:
        text = clean_record(record, language)
        if text is not None and "\ufffd" not in text:
            passages.append(Passage(text, source, language))
    return passages


def fortune_passages(folder: Path = FORTUNES_DIR) -> list[Passage]:
    """English and Russian passages from the installed fortune files (an absent file is skipped)."""
    passages = []
    for name in ENGLISH_FILES:
        if (folder / name).is_file():
            passages += parse_fortune_file(folder / name, f"fortunes/{name}", "en")
    for name in RUSSIAN_FILES:
        if (folder / "ru" / name).is_file():
            passages += parse_fortune_file(folder / "ru" / name, f"fortunes-ru/{name}", "ru")
    return passages


# GCIDE: a citation is a block indented by 9+ spaces whose last line ends in "--Author." (the author may sit
# on the line alone). Headwords start a line at column 0.
_HEADWORD = re.compile(r"^([A-Za-z])[^\s\\]*\s*\\")
_CITATION_LINE = re.compile(r"^ {9,}(\S.*?)\s*$")
_SPEAKER = re.compile(r"(?:^|[.!?] )[A-Z][a-z]?\. ")
_CITED_BY = re.compile(r"\s+--\s?[A-Z][^\s].*$|^--\s?[A-Z].*$")


def gcide_passages(lines: Iterable[str]) -> Iterator[Passage]:
    """Literary citations from the lines of the GCIDE dictionary text."""
    letter = "a"
    block: list[str] = []
    for line in lines:
        head = _HEADWORD.match(line)
        if head:
            letter = head.group(1).lower()
        match = _CITATION_LINE.match(line)
        if not match:
            block = []
            continue
        content = match.group(1)
        cited = _CITED_BY.search(content)
        if cited is None:
            block.append(content)
            continue
        block.append(content[:cited.start()])
        text = clean_sentence_text(" ".join(part for part in block if part), "en")
        block = []
        # GCIDE writes Greek and unknown characters as "?" and accents as [=e]-style markup.
        # A drama's speaker tags ("R. For now his son is duke. W. Barely...") mark dialogue, not prose.
        if text is not None and "?" not in text[:-1] and "\"" not in text and not _SPEAKER.search(text):
            yield Passage(text, f"gcide/{letter}", "en")


def read_gcide(path: Path = GCIDE_FILE) -> list[Passage]:
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as stream:
        return list(gcide_passages(stream))


def debian_prose(*, fortunes: Path = FORTUNES_DIR, gcide: Path | None = GCIDE_FILE) -> list[Passage]:
    """Every passage of the installed packages (GCIDE's when ``gcide`` names a file that is there).

    Raises :class:`ProseMissing` when the English or the Russian fortunes are not there.
    """
    passages = fortune_passages(fortunes)
    languages = {p.language for p in passages}
    if languages != {"en", "ru"}:
        missing = [pkg for pkg, lang in (("fortunes", "en"), ("fortunes-ru", "ru")) if lang not in languages]
        raise ProseMissing(f"no prose from {' and '.join(missing)} under {fortunes}: "
                           f"apt-get install {' '.join(missing)} (scripts/setup.sh installs them)")
    if gcide is not None and gcide.is_file():
        passages += read_gcide(gcide)
    return passages


def deduplicate(passages: Iterable[Passage]) -> tuple[list[Passage], int]:
    """The passages without exact repeats (same words, case and punctuation aside; the first one stays),
    and how many were removed. The fortune files quote the same lines in several places."""
    seen: set[str] = set()
    unique = []
    removed = 0
    for passage in passages:
        key = " ".join(words(passage.text.lower()))
        if key in seen:
            removed += 1
            continue
        seen.add(key)
        unique.append(passage)
    return unique, removed


def split_sentences(text: str) -> list[str]:
    """The sentences of a passage (the text module's rule for running prose)."""
    return [s.strip() for s in prose_sentences(text) if s.strip()]
