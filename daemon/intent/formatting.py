"""Dictation formatting: spoken punctuation, spacing and capitals, decided against the text around the cursor.

Only the few code points around the insertion point are read, so formatting costs the same on a 1 MB
document as on an empty one. The rules:

* spoken punctuation is converted wherever it is said ("Hello comma world" → "Hello, world"), as Dragon
  and macOS do, unless the word before or after makes it an ordinary word ("the trial period ends",
  see READ_AS_WORDS); the punctuation Whisper put around a spoken mark is dropped so it is not doubled;
* breaks follow the document's line ending (CRLF where its nearest line break is CRLF);
* "dash"/"тире" gives a spaced em dash " — ", "hyphen"/"дефис" a bare "-"; quotes are straight ``"`` in
  English and «ёлочки» in Russian;
* a space between words where needed and none before , . ? ! : ; ) or a closing quote;
* a capital at the start of the document, after . ? ! … and after a new line or paragraph; otherwise what
  Whisper capitalized is kept, except that a speech utterance inserted mid-sentence loses the capital
  Whisper gives every segment's first word (not "I", not all-caps words), and the period it ends every
  segment with when the sentence goes on after the cursor;
* Whisper's leading space is trimmed; a selection is replaced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pushkin.text.units import SENTENCE_TERMINATORS
from pushkin.text.units import words as text_words

from .grammar import normalize_word


@dataclass(frozen=True)
class Mark:
    """A spoken punctuation mark and how it spaces."""

    text: str
    space_before: bool
    space_after: bool
    ends_sentence: bool = False
    is_break: bool = False  # a new line or paragraph: no spaces, next word capitalized


_COMMA = Mark(",", False, True)
_PERIOD = Mark(".", False, True, ends_sentence=True)
_QUESTION = Mark("?", False, True, ends_sentence=True)
_EXCLAMATION = Mark("!", False, True, ends_sentence=True)
_COLON = Mark(":", False, True)
_SEMICOLON = Mark(";", False, True)
_DASH = Mark("—", True, True)
_HYPHEN = Mark("-", False, False)
_ELLIPSIS = Mark("…", False, True, ends_sentence=True)
NEW_LINE = Mark("\n", False, False, is_break=True)
NEW_PARAGRAPH = Mark("\n\n", False, False, is_break=True)

# Spoken words → mark. Multi-word phrases are matched before their prefixes ("точка с запятой" before
# "точка"). Keys are normalized words (lowercase, "ё" as "е").
SPOKEN_MARKS: dict[tuple[str, ...], Mark] = {
    ("comma",): _COMMA, ("period",): _PERIOD, ("full", "stop"): _PERIOD, ("question", "mark"): _QUESTION,
    ("exclamation", "mark"): _EXCLAMATION, ("exclamation", "point"): _EXCLAMATION, ("colon",): _COLON,
    ("semicolon",): _SEMICOLON, ("semi", "colon"): _SEMICOLON, ("dash",): _DASH, ("hyphen",): _HYPHEN,
    ("ellipsis",): _ELLIPSIS, ("dot", "dot", "dot"): _ELLIPSIS,
    ("open", "quote"): Mark('"', True, False), ("close", "quote"): Mark('"', False, True),
    ("open", "paren"): Mark("(", True, False), ("close", "paren"): Mark(")", False, True),
    ("open", "parenthesis"): Mark("(", True, False), ("close", "parenthesis"): Mark(")", False, True),
    ("new", "line"): NEW_LINE, ("new", "paragraph"): NEW_PARAGRAPH,
    ("запятая",): _COMMA, ("точка",): _PERIOD, ("вопросительный", "знак"): _QUESTION,
    ("восклицательный", "знак"): _EXCLAMATION, ("двоеточие",): _COLON, ("точка", "с", "запятой"): _SEMICOLON,
    ("тире",): _DASH, ("дефис",): _HYPHEN, ("многоточие",): _ELLIPSIS,
    ("открыть", "кавычки"): Mark("«", True, False), ("закрыть", "кавычки"): Mark("»", False, True),
    ("открой", "кавычки"): Mark("«", True, False), ("закрой", "кавычки"): Mark("»", False, True),
    ("открыть", "скобку"): Mark("(", True, False), ("закрыть", "скобку"): Mark(")", False, True),
    ("новая", "строка"): NEW_LINE, ("новый", "абзац"): NEW_PARAGRAPH, ("новый", "параграф"): NEW_PARAGRAPH,
}
_LONGEST_MARK = max(len(words) for words in SPOKEN_MARKS)

# When a mark's words are ordinary words: the word said just before them, or just after, makes them part of
# the sentence ("the trial period ends", "our new line of shoes", "точка зрения"). Keyed by the mark's
# normalized words; (words before, words after).
_DETERMINERS = frozenset({"a", "an", "the", "this", "that", "these", "those", "our", "my", "your", "their", "his",
                          "her", "its", "each", "every", "another", "any", "no", "same", "whole", "entire", "whose",
                          "which"})
_NOUN_PHRASE_GOES_ON = frozenset({"of", "is", "was", "are", "were", "will", "would", "has", "had", "ends", "ended",
                                  "begins", "began", "starts", "started", "lasts", "lasted", "expires", "expired",
                                  "sells", "sold", "includes", "when", "during", "for"})
READ_AS_WORDS: dict[tuple[str, ...], tuple[frozenset[str], frozenset[str]]] = {
    ("period",): (_DETERMINERS | {"trial", "grace", "waiting", "notice", "time", "test", "free", "billing", "cooling",
                                 "probation", "holiday", "transition", "reporting", "short", "long", "given", "study",
                                 "rest", "quiet", "sample", "payment", "warranty", "vesting", "first", "second", "third",
                                 "final", "last", "next"}, _NOUN_PHRASE_GOES_ON),
    ("new", "line"): (_DETERMINERS, _NOUN_PHRASE_GOES_ON),
    ("new", "paragraph"): (_DETERMINERS, _NOUN_PHRASE_GOES_ON),
    ("colon",): (_DETERMINERS | {"sigmoid", "transverse"}, frozenset({"cancer", "is", "was", "surgery"})),
    ("dash",): (_DETERMINERS | {"mad", "hundred", "yard", "metre", "meter"}, frozenset({"of", "cam", "board", "through", "to"})),
    ("точка",): (frozenset({"эта", "та", "наша", "моя", "ваша", "каждая", "любая", "контрольная", "исходная", "конечная"}),
                 frozenset({"зрения", "отсчета", "опоры", "кипения", "доступа", "роста", "невозврата"})),
    ("новая", "строка"): (frozenset({"наша", "моя", "ваша", "эта", "каждая"}), frozenset({"кода", "обуви", "товаров"})),
    ("новый", "абзац"): (frozenset({"наш", "мой", "ваш", "этот", "каждый"}), frozenset()),
}

_SENTENCE_END = SENTENCE_TERMINATORS
_CLOSERS = "\"'»”’)]"
_OPENERS = "([{«“„"
_NO_SPACE_BEFORE = ",.!?…:;)]}»”’%"
_WHISPER_TRAILING = ".,!?;:…"


def spoken_mark(utterance: str) -> Mark | None:
    """The mark an utterance consists of ("Comma." → ","), or None."""
    words = tuple(w for w in (normalize_word(t) for t in utterance.split()) if w)
    return SPOKEN_MARKS.get(words)


def convert_spoken_punctuation(text: str) -> str:
    """Replace spoken marks inside ``text`` by their characters, spacing them (no context needed)."""
    return _convert(text)[0]


def _convert(text: str) -> tuple[str, bool]:
    """The converted text, and whether it begins with a mark that takes no space before it."""
    tokens = text.split()
    pieces: list[str | Mark] = []
    index = 0
    while index < len(tokens):
        mark, length = _mark_at(tokens, index)
        if mark is None:
            pieces.append(tokens[index])
            index += 1
            continue
        # Whisper often punctuates around a spoken mark ("Hello, comma, world."): drop its punctuation.
        if pieces and isinstance(pieces[-1], str) and not mark.is_break:
            trimmed = pieces[-1].rstrip(_WHISPER_TRAILING)
            pieces[-1] = trimmed if trimmed else pieces[-1]
        pieces.append(mark)
        index += length
    attached = bool(pieces) and isinstance(pieces[0], Mark) and not pieces[0].space_before
    return _join(pieces), attached


def _mark_at(tokens: list[str], index: int) -> tuple[Mark | None, int]:
    for length in range(min(_LONGEST_MARK, len(tokens) - index), 0, -1):
        words = tuple(normalize_word(t) for t in tokens[index:index + length])
        mark = SPOKEN_MARKS.get(words)
        if mark is None:
            continue
        before, after = READ_AS_WORDS.get(words, (frozenset(), frozenset()))
        preceding = normalize_word(tokens[index - 1]) if index > 0 else ""
        following = normalize_word(tokens[index + length]) if index + length < len(tokens) else ""
        # Whisper's own mark after the word before ("Thanks. Period.") shows a pause: then it is a mark.
        paused = index > 0 and tokens[index - 1][-1:] in _WHISPER_TRAILING
        if (preceding in before and not paused) or following in after:
            continue
        return mark, length
    return None, 0


def _join(pieces: list[str | Mark]) -> str:
    out: list[str] = []
    capitalize_next = False
    previous: str | Mark | None = None
    for piece in pieces:
        if isinstance(piece, Mark):
            if out and piece.space_before and previous is not None and not (isinstance(previous, Mark) and (not previous.space_after or previous.is_break)):
                out.append(" ")
            out.append(piece.text)
            if piece.ends_sentence or piece.is_break:
                capitalize_next = True
        else:
            if out and previous is not None and not (isinstance(previous, Mark) and (not previous.space_after or previous.is_break)):
                out.append(" ")
            if capitalize_next:
                piece = capitalize_first(piece)
                capitalize_next = False
            out.append(piece)
        previous = piece
    return "".join(out)


def capitalize_first(text: str) -> str:
    """Upper-case the first letter, looking past opening quotes and brackets only."""
    for index, char in enumerate(text):
        if char.isalpha():
            word = re.match(r"\w*", text[index:]).group()  # type: ignore[union-attr]  # \w* always matches
            if any(c.isupper() for c in word[1:]):
                return text  # "iPhone", "eBay": a spelling, not a sentence start to fix
            return text[:index] + char.upper() + text[index + 1:]
        if char not in _OPENERS and char not in "\"'":
            return text
    return text


def lowercase_first_word(text: str) -> str:
    """Undo the capital Whisper gives a segment's first word, keeping "I", acronyms and mixed case."""
    match = re.match(r"([\"'«“(]*)(\w[\w'’]*)", text)
    if not match:
        return text
    word = match.group(2)
    if len(word) < 2 or not word[0].isupper() or not word[1:].islower():
        return text
    if word in ("I'm", "I'll", "I've", "I'd"):
        return text
    start = match.start(2)
    return text[:start] + word[0].lower() + text[start + 1:]


@dataclass(frozen=True)
class FormattedInsertion:
    """Text to put over [start, end) of the document (start may have moved back over spaces)."""

    start: int
    end: int
    text: str


def at_sentence_start(document: str, offset: int) -> bool:
    """Does a sentence begin at ``offset``? Looks back over spaces, closers and at most 64 code points."""
    position = offset - 1
    floor = max(0, offset - 64)
    while position >= floor and document[position] in " \t\u00a0":
        position -= 1
    if position < 0:
        return True
    if position < floor:
        return False
    char = document[position]
    if char in "\n\r":
        return True
    while position >= floor and document[position] in _CLOSERS:
        position -= 1
    if position < 0:
        return True
    return position >= floor and document[position] in _SENTENCE_END


def format_dictation(document: str, start: int, end: int, spoken: str, *, literal: bool = False,
                     speech: bool = False, lowercase_mid_sentence: bool = True) -> FormattedInsertion:
    """Format ``spoken`` for insertion over [start, end) of ``document`` (a cursor when start == end)."""
    body = spoken.strip()
    mark_attached = False
    if not literal:
        body, mark_attached = _convert(body)
    if not body:
        return FormattedInsertion(start, end, "")
    if not literal and "\n" in body and line_ending(document, start) == "\r\n":
        body = _BARE_LF.sub("\r\n", body)
    before = document[start - 1] if start > 0 else ""
    after = document[end] if end < len(document) else ""
    starts_attached = mark_attached or body[0] in _NO_SPACE_BEFORE or body[0] in "\r\n"

    # A mark said after a space the user typed ("Hello |" + "comma") pulls back over that space. Only
    # spaces: a tab (or any other character) is the user's text and stays.
    if starts_attached and before == " " and start == end:
        floor = max(0, start - 64)
        while start > floor and document[start - 1] == " ":
            start -= 1
        end = start if end < start else end
        before = document[start - 1] if start > 0 else ""

    if not literal:
        if at_sentence_start(document, start) and not starts_attached:
            body = capitalize_first(body)
        elif speech and lowercase_mid_sentence and not starts_attached and before not in ("",):
            body = lowercase_first_word(body)
        # Whisper ends every segment with a period; inside a sentence that continues, it is wrong.
        if speech and after and _continues_sentence(document, end) and body[-1] == "." and not body.endswith(".."):
            body = body[:-1]

    leading = ""
    if before and not before.isspace() and not starts_attached and not _opens(document, start - 1):
        leading = " "
    trailing = ""
    if after and not after.isspace() and after not in _NO_SPACE_BEFORE and not body[-1].isspace() and body[-1] not in _OPENERS and body[-1] != "-":
        trailing = " "
    return FormattedInsertion(start, end, leading + body + trailing)


_BARE_LF = re.compile(r"(?<!\r)\n")


def line_ending(document: str, offset: int) -> str:
    """The line ending the document uses near ``offset``: "\r\n" when its nearest line break is CRLF."""
    position = document.rfind("\n", 0, offset)
    if position < 0:
        position = document.find("\n", offset)
    return "\r\n" if position > 0 and document[position - 1] == "\r" else "\n"


def _opens(document: str, position: int) -> bool:
    """Is the character at ``position`` an opening bracket or quote (so no space goes after it)?"""
    char = document[position]
    if char in _OPENERS:
        return True
    if char in "\"'":  # a straight quote opens when it follows a space or starts the text
        return position == 0 or document[position - 1].isspace() or document[position - 1] in _OPENERS
    return False


def _continues_sentence(document: str, offset: int) -> bool:
    """Does the text after ``offset`` go on with the same sentence (a lowercase word or a comma)?"""
    limit = min(len(document), offset + 16)
    position = offset
    while position < limit and document[position] in " \t":
        position += 1
    if position >= limit:
        return False
    char = document[position]
    return char.islower() or char in ",;:"


# A part the VAD cut at a pause: does it end its sentence? Words a sentence cannot end with, and words a
# sentence rarely opens with, say it goes on; a subject pronoun after an unmarked part says a new one begins.
_CANNOT_END = frozenset(  # only words that cannot end a sentence in any reading ("that", "her", "in" can)
    "a an the of to and or but nor with into onto from than because if whose my your our their its "
    "every very".split()
    + "и а но или в во на с со к ко по из от до о об у для при через чтобы если который которая которое "
    "которые этот эта эти очень".split()
)
_RARELY_OPENS = frozenset(
    "of than to into onto from whose whom".split() + "чем которого которой которым которых".split()
)
_OPENS_SENTENCE = frozenset(
    "i we you he she they it there this these those".split() + "я мы ты вы он она оно они это там".split()
)
SENTENCE_PAUSE_S = 1.0  # an unmarked part followed by a pause this long ended its sentence


def continues_sentence(previous: str, continuation: str, pause_before_s: float = 0.0) -> bool:
    """Does ``continuation`` (heard after a pause) go on with the sentence ``previous`` (the part before)?

    Whisper ends every part with a period and starts every part with a capital, so neither alone says
    where the sentence ends: the words at the cut do, and a long pause does when they cannot.
    """
    previous = previous.rstrip()
    words = text_words(previous)
    following = text_words(continuation)
    if not words or not following:
        return False
    if previous[-1] in "!?…":
        return False
    if continuation.lstrip()[:1].islower():  # the recognizer itself heard no sentence start
        return True
    if normalize_word(words[-1]) in _CANNOT_END or normalize_word(following[0]) in _RARELY_OPENS:
        return True
    if previous[-1] == ".":
        return False
    return not (normalize_word(following[0]) in _OPENS_SENTENCE or pause_before_s >= SENTENCE_PAUSE_S)


def continue_phrase(document: str, phrase_start: int, phrase_end: int, formatted: FormattedInsertion,
                    continuation: str, pause_before_s: float) -> FormattedInsertion:
    """``formatted`` (dictation right after the last dictated phrase [phrase_start, phrase_end)) joined to
    that phrase's sentence, or begun as a new sentence, as :func:`continues_sentence` decides."""
    if formatted.start < phrase_end or document[phrase_end:formatted.start].strip(" \t\u00a0") \
            or not formatted.text.strip():
        return formatted  # not right after the phrase on its line (a line break, the user's text between)
    previous = document[phrase_start:phrase_end]
    if not (previous[-1:].isalnum() or previous.endswith(".")):
        return formatted  # after a spoken comma, dash or bracket the formatting's own rules stand
    body = formatted.text.lstrip()
    if continues_sentence(previous, continuation, pause_before_s):
        start = phrase_end - 1 if previous.endswith(".") and not previous.endswith("..") else phrase_end
        return FormattedInsertion(start, formatted.end, " " + lowercase_first_word(body))
    if previous.rstrip()[-1:] in _SENTENCE_END + _CLOSERS:
        return formatted
    return FormattedInsertion(phrase_end, formatted.end, ". " + capitalize_first(body))
