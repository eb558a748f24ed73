"""Numbers, dates and times in dictation written as a writer would, where the reading is unambiguous.

English follows Chicago-style prose conventions, Russian the usual typographic ones:

* a spelled-out number of 10 or more becomes digits ("twenty five people" → "25 people", "двадцать пять
  человек" → "25 человек"); a smaller count stays a word ("I have two cats", "the one I like");
* a number with a percent, a currency or a unit of measure becomes digits whatever its size ("five percent" →
  "5%", "two hundred and fifty dollars" → "$250", "пять километров" → "5 километров", "двадцати пяти
  процентов" → "25 %"): Russian inflected numerals are read in every case;
* dates: "March third twenty twenty six" → "March 3, 2026", "the fifth of May" → "May 5", "третьего марта две
  тысячи двадцать шестого года" → "3 марта 2026 года", "в две тысячи двадцать шестом году" → "в 2026 году";
* times: "at five pm" / "5 PM" → "5 p.m.", "three thirty pm" → "3:30 p.m.", "at seven thirty" → "at 7:30",
  "в семь тридцать" → "в 7:30". An hour alone keeps its words ("at five", "в пять часов", "seven o'clock",
  "half past two"): without minutes or a.m./p.m. the clock time is not certain.

What stays as said: a number word that is capitalized (it opens a sentence, where writers spell numbers out,
or is part of a name: "Ocean's Eleven"); ordinals outside dates ("the twenty first century"); two numbers said
side by side ("one two three", "twenty twenty vision"), which are never merged; digits already written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .grammar import normalize_word

_PUNCTUATION = ".,!?;:…\"'«»“”„()[]{}¡¿—–*"
_NBSP = "\u00a0"


@dataclass(frozen=True)
class _Lexeme:
    """One number word: what it adds to a number and where it may stand."""

    kind: str  # unit (1-9), teen (10-19), tens (20-90), hundreds (сто..девятьсот), hundred, scale, and
    value: int
    language: str
    ordinal: bool = False


def _english_lexicon() -> dict[str, _Lexeme]:
    units = "one two three four five six seven eight nine".split()
    teens = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
    tens = "twenty thirty forty fifty sixty seventy eighty ninety".split()
    ordinal_units = "first second third fourth fifth sixth seventh eighth ninth".split()
    ordinal_teens = ("tenth eleventh twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth "
                     "nineteenth").split()
    words: dict[str, _Lexeme] = {}
    for kind, names, ordinals, first in (("unit", units, ordinal_units, 1), ("teen", teens, ordinal_teens, 10)):
        for offset, (name, ordinal) in enumerate(zip(names, ordinals)):
            words[name] = _Lexeme(kind, first + offset, "en")
            words[ordinal] = _Lexeme(kind, first + offset, "en", ordinal=True)
    for offset, name in enumerate(tens):
        words[name] = _Lexeme("tens", 20 + 10 * offset, "en")
        words[name[:-1] + "ieth"] = _Lexeme("tens", 20 + 10 * offset, "en", ordinal=True)
    words["hundred"] = _Lexeme("hundred", 100, "en")
    words["hundredth"] = _Lexeme("hundred", 100, "en", ordinal=True)
    for name, value in (("thousand", 10**3), ("million", 10**6), ("billion", 10**9)):
        words[name] = _Lexeme("scale", value, "en")
        words[name + "th"] = _Lexeme("scale", value, "en", ordinal=True)
    words["and"] = _Lexeme("and", 0, "en")
    return words


# Russian cardinals in all their cases; ordinals are a stem and an adjective ending.
_RU_CARDINALS: dict[int, str] = {
    1: "один одного одному одним одном одна одной одну одно одни одних", 2: "два две двух двум двумя",
    3: "три трех трем тремя", 4: "четыре четырех четырем четырьмя", 5: "пять пяти пятью",
    6: "шесть шести шестью", 7: "семь семи",  # "семью" is far more often "family" than "seven"
    8: "восемь восьми восемью восьмью",
    9: "девять девяти девятью", 10: "десять десяти десятью", 40: "сорок сорока", 90: "девяносто девяноста",
    100: "сто ста", 200: "двести двухсот двумстам двумястами двухстах",
    300: "триста трехсот тремстам тремястами трехстах", 400: "четыреста четырехсот четыремстам четырьмястами четырехстах",
}
_RU_TEEN_STEMS = "одиннадцат двенадцат тринадцат четырнадцат пятнадцат шестнадцат семнадцат восемнадцат девятнадцат"
_RU_FIVE_TO_NINE = {5: ("пяти", "пятью"), 6: ("шести", "шестью"), 7: ("семи", "семью"), 8: ("восьми", "восемью"),
                    9: ("девяти", "девятью")}
_RU_ORDINAL_STEMS = {
    1: "перв", 2: "втор", 4: "четверт", 5: "пят", 6: "шест", 7: "седьм", 8: "восьм", 9: "девят", 10: "десят",
    20: "двадцат", 30: "тридцат", 40: "сороков", 50: "пятидесят", 60: "шестидесят", 70: "семидесят",
    80: "восьмидесят", 90: "девяност", 100: "сот", 1000: "тысячн", 2000: "двухтысячн",
}
_RU_ADJECTIVE_ENDINGS = "ый ой ий ая ое ого ому ым ом ую ые ых ыми ей".split()
_RU_THIRD = "третий третья третье третьего третьему третьим третьем третьей третью третьи третьих"
_RU_THOUSAND = "тысяча тысячи тысяч тысячу тысячей тысяче тысячам тысячами тысячах"
_RU_MILLION = "миллион миллиона миллионов миллиону миллионом миллионе миллионам миллионами миллионах"
_RU_BILLION = "миллиард миллиарда миллиардов миллиарду миллиардом миллиарде миллиардам миллиардами миллиардах"
# "тысяча" alone is a thousand; "тысячи людей" ("thousands of people") is not a number.
_RU_LONE_THOUSAND = frozenset({"тысяча", "тысячу", "тысячей", "тысяче"})


def _russian_kind(value: int) -> str:
    return "unit" if value < 10 else "teen" if value < 20 else "tens" if value < 100 else "hundreds"


def _russian_lexicon() -> dict[str, _Lexeme]:
    forms: dict[int, list[str]] = {value: names.split() for value, names in _RU_CARDINALS.items()}
    for offset, stem in enumerate(_RU_TEEN_STEMS.split()):
        forms[11 + offset] = [stem + "ь", stem + "и", stem + "ью"]
    for value, stem in ((20, "двадцат"), (30, "тридцат")):
        forms[value] = [stem + "ь", stem + "и", stem + "ью"]
    for digit, (genitive, instrumental) in _RU_FIVE_TO_NINE.items():
        if digit < 9:  # 90 is "девяносто", listed above
            forms[digit * 10] = [genitive[:-1] + "ьдесят", genitive + "десяти", instrumental + "десятью"]
        forms[digit * 100] = [genitive[:-1] + "ьсот", genitive + "сот", genitive + "стам", instrumental + "стами",
                              genitive + "стах"]
    forms[50][0], forms[60][0] = "пятьдесят", "шестьдесят"
    forms[70][0], forms[80][0], forms[800][0] = "семьдесят", "восемьдесят", "восемьсот"
    words = {name: _Lexeme(_russian_kind(value), value, "ru") for value, names in forms.items() for name in names}
    for value, stem in _RU_ORDINAL_STEMS.items():
        kind = "scale" if value >= 1000 else _russian_kind(value)
        for ending in _RU_ADJECTIVE_ENDINGS:
            words[stem + ending] = _Lexeme(kind, value, "ru", ordinal=True)
    for offset, stem in enumerate(_RU_TEEN_STEMS.split()):
        for ending in _RU_ADJECTIVE_ENDINGS:
            words[stem + ending] = _Lexeme("teen", 11 + offset, "ru", ordinal=True)
    for name in _RU_THIRD.split():
        words[name] = _Lexeme("unit", 3, "ru", ordinal=True)
    for value, names in ((10**3, _RU_THOUSAND), (10**6, _RU_MILLION), (10**9, _RU_BILLION)):
        for name in names.split():
            words[name] = _Lexeme("scale", value, "ru")
    return words


_LEXICON = {**_english_lexicon(), **_russian_lexicon()}

# Which kind of word may follow which inside one number (None: the number's first word).
_MAY_FOLLOW: dict[str, frozenset[str | None]] = {
    "unit": frozenset({None, "tens", "hundred", "hundreds", "scale", "and"}),
    "teen": frozenset({None, "hundred", "hundreds", "scale", "and"}),
    "tens": frozenset({None, "hundred", "hundreds", "scale", "and"}),
    "hundreds": frozenset({None, "scale"}),
    "hundred": frozenset({"unit", "teen"}),
    "scale": frozenset({"unit", "teen", "tens", "hundred", "hundreds"}),
    "and": frozenset({"hundred", "scale"}),
}


@dataclass(frozen=True)
class _Number:
    """A spoken number over tokens [start, end)."""

    start: int
    end: int
    value: int
    ordinal: bool
    language: str
    scale_word: str = ""  # "million" when the number was said as "<n> million": written "5 million"


def _lexemes(token: str) -> list[_Lexeme] | None:
    word = normalize_word(token)
    parts = word.split("-") if "-" in word else [word]
    found = [_LEXICON.get(part) for part in parts]
    if not all(found) or (len(found) > 1 and any(lexeme.kind == "and" for lexeme in found if lexeme)):
        return None
    return [lexeme for lexeme in found if lexeme]


def _lead(token: str) -> str:
    return token[:len(token) - len(token.lstrip(_PUNCTUATION))]


def _trail(token: str) -> str:
    return token[len(token.rstrip(_PUNCTUATION)):]


def _number_at(tokens: list[str], start: int) -> _Number | None:
    """The longest number said from tokens[start], never across punctuation between its words."""
    total = group = 0
    last: str | None = None
    last_scale = 0
    language = ""
    best: _Number | None = None
    scale_word = ""
    index = start
    while index < len(tokens):
        if index > start and (_trail(tokens[index - 1]) or _lead(tokens[index])):
            break
        lexemes = _lexemes(tokens[index])
        if not lexemes or any(language and lexeme.language != language for lexeme in lexemes):
            break
        ended = False
        for lexeme in lexemes:
            language = lexeme.language
            # "тысяча" alone is a thousand, "двухтысячный" a year
            lone_thousand = last is None and (normalize_word(tokens[index]) in _RU_LONE_THOUSAND
                                              or lexeme.kind == "scale" and lexeme.ordinal and language == "ru")
            if ended or (last not in _MAY_FOLLOW[lexeme.kind] and not lone_thousand):
                return best
            if lexeme.kind == "hundred":
                if group >= 100:
                    return best
                group *= 100
            elif lexeme.kind == "scale":
                if last_scale and lexeme.value >= last_scale:
                    return best
                total += max(group, 1) * lexeme.value
                scale_word = normalize_word(tokens[index]) if group < 1000 and lexeme.value >= 10**6 else ""
                group, last_scale = 0, lexeme.value
            elif lexeme.kind != "and":
                group += lexeme.value
                scale_word = ""
            last = lexeme.kind
            ended = lexeme.ordinal
        if last != "and":
            best = _Number(start, index + 1, total + group, ended, language, scale_word)
        if ended:
            break
        index += 1
    return best


def _format(number: _Number) -> str:
    if number.scale_word:
        scale = next(v for v in (10**9, 10**6) if number.value % v == 0 and number.value // v < 1000)
        head = _Number(number.start, number.end, number.value // scale, False, number.language)
        return f"{_format(head)} {number.scale_word}"
    if number.language == "en":
        return f"{number.value:,}"
    if number.value >= 10_000:  # Russian groups digits by thousands from five digits on, with a fixed space
        return f"{number.value:,}".replace(",", _NBSP)
    return str(number.value)


def _is_number_like(token: str) -> bool:
    word = normalize_word(token)
    return bool(word) and (word[0].isdigit() or _lexemes(token) is not None and word != "and")


def _number_before(tokens: list[str], start: int) -> bool:
    """A number said right before tokens[start] ("twenty" in "twenty twenty", "hundred" in "a hundred and ten")."""
    if start == 0 or _trail(tokens[start - 1]) or _lead(tokens[start]):
        return False
    if normalize_word(tokens[start - 1]) == "and":
        return _number_before(tokens, start - 1)
    return _is_number_like(tokens[start - 1])


def _stands_alone(tokens: list[str], start: int, end: int) -> bool:
    """No number said right before or after [start, end): "one two three" is a list, not one number."""
    after = end < len(tokens) and not _trail(tokens[end - 1]) and not _lead(tokens[end])
    return not (_number_before(tokens, start) or (after and _is_number_like(tokens[end])))


# Idioms a writer keeps in words, as normalized words.
_IDIOMS = (("six", "feet", "under"), ("one", "foot", "in", "the", "grave"), ("на", "все", "сто"))


def _in_idiom(tokens: list[str], start: int, end: int) -> bool:
    for idiom in _IDIOMS:
        for first in range(max(0, end - len(idiom)), start + 1):
            words = tuple(normalize_word(token) for token in tokens[first:first + len(idiom)])
            if words == idiom:
                return True
    return False


def _capitalized(token: str) -> bool:
    return token.lstrip(_PUNCTUATION)[:1].isupper()


@dataclass(frozen=True)
class _Rewrite:
    """Tokens [start, end) written as ``text`` (the edge punctuation of the span is kept around it)."""

    start: int
    end: int
    text: str


# ---- dates ------------------------------------------------------------------------------------------

_MONTHS = ("January February March April May June July August September October November December").split()
_RU_MONTHS_GENITIVE = frozenset("января февраля марта апреля мая июня июля августа сентября октября ноября "
                                "декабря".split())
_DAY_DIGITS = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?", re.IGNORECASE)
_YEAR_DIGITS = re.compile(r"[12]\d{3}")


def _english_year(tokens: list[str], start: int) -> tuple[int, int] | None:
    """A year said in words from tokens[start] ("twenty twenty six", "nineteen oh five", "two thousand
    and five") as (year, end)."""
    whole = _number_at(tokens, start)
    if whole and whole.language == "en" and not whole.ordinal and 1000 <= whole.value <= 2999:
        return whole.value, whole.end
    century = whole if whole and whole.language == "en" and 10 <= whole.value <= 29 and not whole.ordinal else None
    if century is None or century.end >= len(tokens) or _trail(tokens[century.end - 1]):
        return None
    following = normalize_word(tokens[century.end])
    if following in ("oh", "o") and not _trail(tokens[century.end]):
        digit = _number_at(tokens, century.end + 1)
        if digit and digit.language == "en" and digit.value < 10 and not digit.ordinal:
            return century.value * 100 + digit.value, digit.end
        return None
    rest = _number_at(tokens, century.end)
    if rest and rest.language == "en" and 10 <= rest.value <= 99 and not rest.ordinal:
        return century.value * 100 + rest.value, rest.end
    return None


def _year_after(tokens: list[str], index: int) -> tuple[int, int, bool] | None:
    """A year at tokens[index] as (year, end, said in words)."""
    if index >= len(tokens):
        return None
    if _YEAR_DIGITS.fullmatch(tokens[index].rstrip(_PUNCTUATION)):
        return int(tokens[index].rstrip(_PUNCTUATION)), index + 1, False
    said = _english_year(tokens, index)
    return (said[0], said[1], True) if said else None


def _english_date(tokens: list[str], start: int) -> _Rewrite | None:
    month = tokens[start].strip(_PUNCTUATION)
    if month in _MONTHS and not _trail(tokens[start]) and start + 1 < len(tokens):
        return _month_first(tokens, start, month)
    index = start + 1 if normalize_word(tokens[start]) == "the" and not _trail(tokens[start]) else start
    if index >= len(tokens):
        return None
    day = _number_at(tokens, index)  # "[the] fifth of May [twenty twenty six]"
    if not (day and day.language == "en" and day.ordinal and 1 <= day.value <= 31) or day.end + 1 >= len(tokens):
        return None
    if normalize_word(tokens[day.end]) != "of" or _trail(tokens[day.end - 1]) or _trail(tokens[day.end]):
        return None
    month = tokens[day.end + 1].rstrip(_PUNCTUATION)
    if month not in _MONTHS:
        return None
    year = _year_after(tokens, day.end + 2) if _trail(tokens[day.end + 1]) in ("", ",") else None
    if year:
        return _Rewrite(start, year[1], f"{month} {day.value}, {year[0]}")
    return _Rewrite(start, day.end + 2, f"{month} {day.value}")


def _month_first(tokens: list[str], start: int, month: str) -> _Rewrite | None:
    """"March third [twenty twenty six]" → "March 3[, 2026]"; "March twenty twenty six" → "March 2026"."""
    day = _number_at(tokens, start + 1)
    digits = _DAY_DIGITS.fullmatch(tokens[start + 1].rstrip(_PUNCTUATION))
    if day and day.language == "en" and 1 <= day.value <= 31:
        value, end, said, ordinal = day.value, day.end, True, day.ordinal
    elif digits and 1 <= int(digits.group(1)) <= 31:
        value, end, said, ordinal = int(digits.group(1)), start + 2, False, True
    else:
        value = 0
    if value:
        year = _year_after(tokens, end) if _trail(tokens[end - 1]) in ("", ",") else None
        if year and (year[2] or said):  # something said in words is written
            return _Rewrite(start, year[1], f"{month} {value}, {year[0]}")
        if said and ordinal:
            return _Rewrite(start, end, f"{month} {value}")
    year = _year_after(tokens, start + 1)
    if year and year[2]:
        return _Rewrite(start, year[1], f"{month} {year[0]}")
    return None


def _is_year_word(token: str) -> bool:
    return normalize_word(token) in ("год", "года", "году", "годом", "годе")


def _russian_year(tokens: list[str], start: int) -> _Number | None:
    year = _number_at(tokens, start)
    if year and year.language == "ru" and year.ordinal and 1000 <= year.value <= 2999:
        return year
    return None


def _russian_date(tokens: list[str], start: int) -> _Rewrite | None:
    """"третьего марта [две тысячи двадцать шестого]" → "3 марта [2026]"; "в двухтысячном году" → "в 2000 году"."""
    year = _russian_year(tokens, start)
    if year and year.end < len(tokens) and not _trail(tokens[year.end - 1]) and _is_year_word(tokens[year.end]):
        return _Rewrite(start, year.end, str(year.value))
    day = _number_at(tokens, start)
    if not (day and day.language == "ru" and day.ordinal and 1 <= day.value <= 31) or day.end >= len(tokens):
        return None
    if _trail(tokens[day.end - 1]) or normalize_word(tokens[day.end]) not in _RU_MONTHS_GENITIVE:
        return None
    month = tokens[day.end].strip(_PUNCTUATION)
    year = _russian_year(tokens, day.end + 1) if day.end + 1 < len(tokens) and not _trail(tokens[day.end]) else None
    if year:
        return _Rewrite(start, year.end, f"{day.value} {month} {year.value}")
    return _Rewrite(start, day.end + 1, f"{day.value} {month}")


# ---- times --------------------------------------------------------------------------------------------

_MERIDIEM = {"am": "a.m.", "a.m": "a.m.", "pm": "p.m.", "p.m": "p.m."}
_GLUED_TIME = re.compile(r"(\d{1,2}(?::[0-5]\d)?)\s*(a\.?m\.?|p\.?m\.?)", re.IGNORECASE)
_HOUR_DIGITS = re.compile(r"(\d{1,2})(?::[0-5]\d)?")
_EN_TIME_CUES = frozenset({"at", "by", "until", "till", "from", "around", "before", "after", "since"})
_RU_TIME_CUES = frozenset({"в", "к", "до", "после", "с", "около", "от"})
_RU_HOUR_WORDS = frozenset({"час", "часа", "часов", "часам", "часу"})
_RU_MINUTE_WORDS = frozenset({"минут", "минуты", "минуту", "минута", "минутам"})
_ZERO = {"en": ("oh", "o", "zero"), "ru": ("ноль", "ноля", "нуля")}


def _minutes_at(tokens: list[str], index: int, language: str) -> tuple[int, int] | None:
    """Minutes said after an hour ("thirty", "forty five", "oh five", "ноль-ноль") as (minutes, end)."""
    if index >= len(tokens) or _lead(tokens[index]):
        return None
    word = normalize_word(tokens[index])
    zeros = _ZERO[language]
    if word in {f"{zero}-{zero}" for zero in zeros}:  # "ноль-ноль"
        return 0, index + 1
    if word in zeros and not _trail(tokens[index]) and index + 1 < len(tokens):
        if normalize_word(tokens[index + 1]) in zeros:
            return 0, index + 2
        digit = _number_at(tokens, index + 1)
        if digit and digit.language == language and digit.value < 10 and not digit.ordinal:
            return digit.value, digit.end
        return None
    minutes = _number_at(tokens, index)
    if minutes and minutes.language == language and 10 <= minutes.value <= 59 and not minutes.ordinal:
        return minutes.value, minutes.end
    return None


def _english_time(tokens: list[str], start: int) -> _Rewrite | None:
    """"five pm" / "5 PM" → "5 p.m."; "three thirty pm" → "3:30 p.m."; "at seven thirty" → "at 7:30"."""
    glued = _GLUED_TIME.fullmatch(tokens[start].rstrip(_PUNCTUATION))
    if glued and int(glued.group(1).split(":")[0]) <= 12 and not _lead(tokens[start]):
        meridiem = "a.m." if glued.group(2)[0].lower() == "a" else "p.m."
        return _Rewrite(start, start + 1, f"{glued.group(1)} {meridiem}")
    hour_digits = _HOUR_DIGITS.fullmatch(tokens[start].rstrip(_PUNCTUATION))
    if hour_digits and 1 <= int(hour_digits.group(1)) <= 12:
        clock, end, said = tokens[start].rstrip(_PUNCTUATION), start + 1, False
    else:
        hour = _number_at(tokens, start)
        if not (hour and hour.language == "en" and 1 <= hour.value <= 12 and not hour.ordinal) \
                or _capitalized(tokens[start]):
            return None
        minutes = _minutes_at(tokens, hour.end, "en") if not _trail(tokens[hour.end - 1]) else None
        clock, end, said = (f"{hour.value}:{minutes[0]:02d}", minutes[1], True) if minutes else (str(hour.value),
                                                                                               hour.end, True)
    if end < len(tokens) and not _trail(tokens[end - 1]) and normalize_word(tokens[end]) in _MERIDIEM:
        return _Rewrite(start, end + 1, f"{clock} {_MERIDIEM[normalize_word(tokens[end])]}")
    cued = start > 0 and normalize_word(tokens[start - 1]) in _EN_TIME_CUES and not _trail(tokens[start - 1])
    if said and ":" in clock and cued and _stands_alone(tokens, start, end):
        return _Rewrite(start, end, clock)
    return None


def _russian_time(tokens: list[str], start: int) -> _Rewrite | None:
    """"в семь тридцать" → "в 7:30", "к девяти часам пятнадцати минутам" → "к 9:15"."""
    if start == 0 or normalize_word(tokens[start - 1]) not in _RU_TIME_CUES or _trail(tokens[start - 1]):
        return None
    hour = _number_at(tokens, start)
    if not (hour and hour.language == "ru" and hour.value <= 23 and not hour.ordinal) or _trail(tokens[hour.end - 1]):
        return None
    index = hour.end
    if index < len(tokens) and normalize_word(tokens[index]) in _RU_HOUR_WORDS and not _trail(tokens[index]):
        index += 1
    minutes = _minutes_at(tokens, index, "ru")
    if minutes is None:
        return None
    end = minutes[1]
    if end < len(tokens) and not _trail(tokens[end - 1]) and normalize_word(tokens[end]) in _RU_MINUTE_WORDS:
        end += 1
    if not _stands_alone(tokens, start, end):
        return None
    return _Rewrite(start, end, f"{hour.value}:{minutes[0]:02d}")


# ---- quantities and plain numbers ----------------------------------------------------------------------

_EN_CURRENCY = {"dollars": "$", "dollar": "$", "euros": "€", "euro": "€"}
_EN_UNITS = frozenset((
    "kilometers kilometres kilometer kilometre km miles mile meters metres meter metre centimeters centimetres "
    "millimeters millimetres kilograms kilogram kg grams gram pounds pound ounces ounce liters litres liter litre "
    "degrees degree feet foot inches inch yards yard gigabytes gigabyte megabytes megabyte terabytes gb mb tb mph "
    "cents").split())
_RU_UNIT = re.compile(
    r"(?:процент|рубл|доллар|километр|метр|сантиметр|миллиметр|килограмм|грамм|литр|градус|гигабайт|мегабайт)"
    r"(?:а|ов|ы|у|ом|е|ам|ами|ах|ь|я|ей|ю|ем|ям|ями|ях)?|евро|копе(?:йка|йки|ек|йку|йкой|йкам|йками|йках)")
_DIGITS = re.compile(r"\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?")


def _quantity(tokens: list[str], start: int) -> _Rewrite | None:
    """A number with a percent, a currency or a unit: digits, however small."""
    if _number_before(tokens, start):
        return None
    if _DIGITS.fullmatch(tokens[start]):
        written, end, said = tokens[start], start + 1, False
    else:
        number = _number_at(tokens, start)
        if number is None or number.ordinal or _capitalized(tokens[start]):
            return None
        written, end, said = _format(number), number.end, True
    if end >= len(tokens) or _trail(tokens[end - 1]) or _lead(tokens[end]):
        return None
    unit = normalize_word(tokens[end])
    if unit == "percent":
        return _Rewrite(start, end + 1, f"{written}%")
    if unit == "per" and end + 1 < len(tokens) and normalize_word(tokens[end + 1]) == "cent" and not _trail(tokens[end]):
        return _Rewrite(start, end + 2, f"{written}%")
    if unit.startswith("процент") and _RU_UNIT.fullmatch(unit):
        return _Rewrite(start, end + 1, f"{written}{_NBSP}%")
    if unit in _EN_CURRENCY:
        cents = _cents_after(tokens, end + 1) if not _trail(tokens[end]) and " " not in written else None
        if cents:  # "twenty dollars and fifty cents" → "$20.50"
            return _Rewrite(start, cents[1], f"{_EN_CURRENCY[unit]}{written}.{cents[0]:02d}")
        return _Rewrite(start, end + 1, f"{_EN_CURRENCY[unit]}{written}")
    if said and written != "1" and (unit in _EN_UNITS or _RU_UNIT.fullmatch(unit)) \
            and not _in_idiom(tokens, start, end + 1):
        return _Rewrite(start, end, written)  # "one mile" stays: "one" is as often a word as a count
    return None


def _cents_after(tokens: list[str], index: int) -> tuple[int, int] | None:
    """"and fifty cents" at tokens[index] as (cents, end)."""
    if index + 2 >= len(tokens) or normalize_word(tokens[index]) != "and" or _trail(tokens[index]):
        return None
    if _DIGITS.fullmatch(tokens[index + 1]) and int(tokens[index + 1]) < 100:
        value, end = int(tokens[index + 1]), index + 2
    else:
        cents = _number_at(tokens, index + 1)
        if not (cents and cents.language == "en" and not cents.ordinal and cents.value < 100):
            return None
        value, end = cents.value, cents.end
    if end >= len(tokens) or _trail(tokens[end - 1]) or normalize_word(tokens[end]) not in ("cents", "cent"):
        return None
    return value, end + 1


# Clock readings and odds said with a second number: "ten to five", "twenty past two", "без двадцати пять".
_CLOCK_LINKS = frozenset({"to", "past"})
_RU_CLOCK_BEFORE = frozenset({"без"})


def _is_idiom_or_clock(tokens: list[str], start: int, number: _Number) -> bool:
    if (start > 0 and normalize_word(tokens[start - 1]) in _RU_CLOCK_BEFORE) or _in_idiom(tokens, start, number.end):
        return True
    if number.value > 30 or number.end + 1 >= len(tokens) or _trail(tokens[number.end - 1]):
        return False
    if normalize_word(tokens[number.end]) not in _CLOCK_LINKS or _trail(tokens[number.end]):
        return False
    hour = _number_at(tokens, number.end + 1)  # "twenty to five" is a clock; "twenty to thirty people" a range
    return hour is not None and hour.value <= 12


def _plain_number(tokens: list[str], start: int) -> _Rewrite | None:
    """A spelled-out cardinal of 10 or more in prose, standing alone and not opening the sentence."""
    number = _number_at(tokens, start)
    if number is None or number.ordinal or number.value < 10 or _capitalized(tokens[start]):
        return None
    if not _stands_alone(tokens, start, number.end):
        return None
    if number.end < len(tokens) and normalize_word(tokens[number.end]) == "o'clock":
        return None  # "ten o'clock" is written in words
    if number.value <= 12 and start > 0 and normalize_word(tokens[start - 1]) == "at":
        return None  # "at ten": a clock hour said without minutes is prose
    if _is_idiom_or_clock(tokens, start, number):
        return None
    return _Rewrite(start, number.end, _format(number))


_RULES = (_english_date, _russian_date, _english_time, _russian_time, _quantity, _plain_number)
_SPACE = re.compile(r"([ \t\r\n]+)")


def write_numbers(text: str) -> str:
    """``text`` with spoken numbers, dates and times written as a writer would (see the module doc)."""
    parts = _SPACE.split(text)
    tokens, spaces = parts[0::2], parts[1::2]
    if not any(_is_number_like(token) or _GLUED_TIME.search(token) for token in tokens if token):
        return text
    out: list[str] = []
    index = 0
    while index < len(tokens):
        rewrite = next((r for rule in _RULES if tokens[index] and (r := rule(tokens, index))), None)
        if rewrite is None:
            out.append(tokens[index] + (spaces[index] if index < len(spaces) else ""))
            index += 1
            continue
        first, last = tokens[rewrite.start], tokens[rewrite.end - 1]
        trail = _trail(last)
        if rewrite.text.endswith(".") and trail.startswith("."):
            trail = trail[1:]  # "5 p.m." ends the sentence with its own period
        end = rewrite.end
        out.append(_lead(first) + rewrite.text + trail + (spaces[end - 1] if end - 1 < len(spaces) else ""))
        index = end
    return "".join(out)
