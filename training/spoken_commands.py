"""Every spoken command of the intent grammar, with its variants, and the line the speech-LLM should write.

The variants come from the daemon's own tables, never a copy: each pattern of
:data:`pushkin.daemon.intent.grammar.BUILTIN_RULES` is expanded (every choice, with and without every
optional part), its slots are filled (numbers that agree with the noun after them, the slot vocabularies,
document words for free text), and the engine's :meth:`~pushkin.daemon.intent.engine.IntentEngine.classify`
must read the result as that rule's command, or the variant is dropped. The proposal decisions
(``ACCEPT_WORDS`` / ``REJECT_WORDS``) and the spoken punctuation marks said alone (``SPOKEN_MARKS``) are
commands too.

The target is the model's output language, ``command: <name> ...`` for every command
(:func:`output_line`, from :func:`pushkin.daemon.intent.decided.output_for`: the line the daemon maps back to
the same engine command with the same arguments); only a reading the language cannot say (a count over 99)
is written out as heard, ``dictate: <the words>``, so the daemon's grammar decides it.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from pushkin.daemon.intent.decided import output_for
from pushkin.daemon.intent.engine import IntentEngine
from pushkin.daemon.intent.formatting import SPOKEN_MARKS
from pushkin.daemon.intent.grammar import BUILTIN_RULES, FILLER_WORDS, NUMBER_WORDS, SLOT_VOCABULARY, GrammarRule
from pushkin.daemon.rewrite import ACCEPT_WORDS, REJECT_WORDS
from pushkin.model.output_language import format_output

from .spoken_text import split_held_out

_TOKEN = re.compile(r"\s*(\[|\]|\(|\)|\||<[a-z_]+>|[^\s\[\]()|<>]+)")
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
# Words the grammar writes without "ё" that a voice must say with it.
_SAID_WITH_YO = {"вперед": "вперёд", "ее": "её", "отмененное": "отменённое"}


@dataclass(frozen=True)
class CommandVariant:
    """One way to say a command: the words (``<slot>`` where a value goes), the rule or table it comes from."""

    language: str
    words: tuple[str, ...]
    command: str  # the engine's command name
    source: str  # the grammar pattern, or the table ("decision", "punctuation")

    @property
    def key(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True)
class SpokenCommand:
    """A filled variant: the words to say (in ``parts``; a pause may fall between two), and the target."""

    variant: CommandVariant
    parts: tuple[str, ...]
    target: str  # the output-language line
    intent: str  # the engine's reading, "name key=value ...", whatever the target

    @property
    def text(self) -> str:
        return " ".join(self.parts)


def language_of(text: str) -> str:
    return "ru" if _CYRILLIC.search(text) else "en"


def expand_pattern(pattern: str) -> list[tuple[str, ...]]:
    """Every word sequence a grammar pattern allows, slots left as ``<name>``:
    "undo [(that|it)]" → [("undo",), ("undo", "that"), ("undo", "it")]."""
    tokens = [match.group(1) for match in _TOKEN.finditer(pattern.strip())]
    sequences, index = _alternatives(tokens, 0)
    if index != len(tokens):
        raise ValueError(f"unbalanced pattern {pattern!r}")
    return list(dict.fromkeys(sequences))


def _alternatives(tokens: list[str], index: int) -> tuple[list[tuple[str, ...]], int]:
    branches, index = _sequence(tokens, index)
    while index < len(tokens) and tokens[index] == "|":
        more, index = _sequence(tokens, index + 1)
        branches += more
    return branches, index


def _sequence(tokens: list[str], index: int) -> tuple[list[tuple[str, ...]], int]:
    sequences: list[tuple[str, ...]] = [()]
    while index < len(tokens) and tokens[index] not in ("|", ")", "]"):
        token = tokens[index]
        if token in ("(", "["):
            inner, index = _alternatives(tokens, index + 1)
            index += 1  # the closing bracket
            options = inner + ([()] if token == "[" else [])
        else:
            options, index = [(token,)], index + 1
        sequences = [head + tail for head in sequences for tail in options]
    return sequences, index


@cache
def command_variants() -> tuple[CommandVariant, ...]:
    """Every variant of the built-in grammar, the proposal decisions and the spoken marks (both languages)."""
    variants = []
    for rule in BUILTIN_RULES:
        for words in expand_pattern(rule.pattern):
            variants.append(CommandVariant(language_of(rule.pattern), words, rule.command, rule.pattern))
    for phrase in sorted(ACCEPT_WORDS | REJECT_WORDS):
        command = "accept" if phrase in ACCEPT_WORDS else "reject"
        variants.append(CommandVariant(language_of(phrase), tuple(phrase.split()), command, "decision"))
    for words, mark in SPOKEN_MARKS.items():
        command = {"\n": "new_line", "\n\n": "new_paragraph"}.get(mark.text, "punctuation")
        variants.append(CommandVariant(language_of(words[0]), words, command, "punctuation"))
    return tuple(variants)


# Free text for <x>, <y>, <text>: words a document holds (Russian ones read the same in the accusative).
_FREE_TEXT = {
    "en": ("Monday", "Friday", "the red car", "Anna", "yesterday", "the old house", "twelve", "the harbour",
           "my sister", "the blue door", "October", "the second chapter", "coffee", "the garden", "Peter", "tea"),
    "ru": ("понедельник", "пятницу", "Анну", "вчера", "старый дом", "двенадцать", "порт", "сестру", "синюю дверь",
           "октябрь", "вторую главу", "кофе", "сад", "Петра", "чай", "машину"),
}
_LITERAL_TEXT = {
    "en": ("hello world", "Dear Sir", "see you soon", "Best regards", "TODO", "chapter one", "P.S.", "Hi Anna",
           "thanks again", "Yours truly", "Kind regards", "Dear Peter"),
    "ru": ("привет", "с уважением", "до встречи", "глава первая", "дорогая Анна", "спасибо", "здравствуйте",
           "всего доброго", "целую", "постскриптум", "привет всем", "дорогой Пётр"),
}
# Russian count nouns: (form after 1, after 2-4, after 5-20), and the gender the number takes.
_RU_COUNT_NOUNS = {("слово", "слова", "слов"): "n", ("символ", "символа", "символов"): "m"}
_RU_ONE = {"m": "один", "n": "одно", "f": "одну"}
_RU_TWO = {"m": "два", "n": "два", "f": "две"}
_EN_PLURAL_NOUNS = frozenset({"words", "times"})
_RU_GENDER_OF_UNIT = {"предложение": "n", "абзац": "m", "строку": "f"}


def _number_word(value: int, language: str, gender: str = "m") -> str:
    if language == "ru":
        if value == 1:
            return _RU_ONE[gender]
        if value == 2:
            return _RU_TWO[gender]
        return next(w for w, v in NUMBER_WORDS.items() if v == value and _CYRILLIC.search(w))
    return next(w for w, v in NUMBER_WORDS.items() if v == value and not _CYRILLIC.search(w))


def _ru_count_form(value: int) -> int:
    """Which of a Russian noun's count forms follows ``value`` (≤ 20): 0 after 1, 1 after 2-4, 2 after 5-20."""
    return 0 if value == 1 else 1 if 2 <= value <= 4 else 2


def _ru_which_gender(word: str) -> str:
    if word.endswith(("ую", "эту")):
        return "f"
    if word.endswith(("ее", "ое", "это")):
        return "n"
    return "m"


def _fill_count(words: tuple[str, ...], at: int, language: str, rng: random.Random) -> str | None:
    """A number word for the <n> at ``words[at]`` that agrees with its neighbours; None when none can."""
    after = words[at + 1] if at + 1 < len(words) else ""
    before = words[at - 1] if at else ""
    if language == "ru":
        for forms, gender in _RU_COUNT_NOUNS.items():
            if after in forms:
                wanted = forms.index(after)
                low = 2 if before.endswith("ие") else 1  # "последние" wants a plural count
                values = [v for v in range(low, 13) if _ru_count_form(v) == wanted]
                return _number_word(rng.choice(values), language, gender) if values else None
        return _number_word(rng.randint(2, 12), language)
    if after == "word":
        return _number_word(1, language)
    low = 2 if after in _EN_PLURAL_NOUNS else 1
    return _number_word(rng.randint(low, 10), language)


def _missing_count_is_ungrammatical(words: tuple[str, ...]) -> bool:
    """A count noun in a plural form with no number before it ("перейди на слов влево", "move left words")."""
    for i, word in enumerate(words):
        if word in ("words",) or any(word in forms[1:] for forms in _RU_COUNT_NOUNS):
            if i == 0 or words[i - 1] != "<n>":
                return True
    return False


def fill_variant(variant: CommandVariant, rng: random.Random, *, held_out: bool) -> tuple[str, ...] | None:
    """The variant's words with its slots filled (free text from the split's half of the lists); None when
    the variant cannot be said grammatically."""
    words = variant.words
    if "<n>" not in words and _missing_count_is_ungrammatical(words):
        return None
    language = variant.language
    said: list[str] = []
    unit_gender = None
    if "<unit>" in words and language == "ru":
        unit = rng.choice(sorted(_RU_GENDER_OF_UNIT))
        unit_gender = _RU_GENDER_OF_UNIT[unit]
    for i, word in enumerate(words):
        if word == "<n>":
            value = _fill_count(words, i, language, rng)
            if value is None:
                return None
            said.append(value)
        elif word == "<unit>" and unit_gender is not None:
            said.append(unit)
        elif word == "<which>" and unit_gender is not None:
            said.append(rng.choice(sorted(w for w in SLOT_VOCABULARY["which"]
                                          if _CYRILLIC.search(w) and _ru_which_gender(w) == unit_gender)))
        elif word[1:-1] in SLOT_VOCABULARY and word.startswith("<"):
            said.append(rng.choice(sorted(w for w in SLOT_VOCABULARY[word[1:-1]]
                                          if bool(_CYRILLIC.search(w)) == (language == "ru"))))
        elif word.startswith("<"):
            pool = _LITERAL_TEXT if word == "<text>" else _FREE_TEXT
            train, held = split_held_out(pool[language])
            said.append(rng.choice(train + held if held_out else train))
        else:
            said.append(_SAID_WITH_YO.get(word, word))
    return tuple(said)


def output_line(command: str, args: Mapping[str, str], spoken: str = "") -> str | None:
    """The output-language line for an engine reading (``spoken``: the words, for the marks), or None when the
    output language cannot say it (a count over 99, a text over 200 characters)."""
    output = output_for(command, args, spoken)
    return None if output is None else format_output(output)


@cache
def _engine() -> IntentEngine:
    return IntentEngine()


def reading(text: str) -> tuple[str, dict[str, str]] | None:
    """The engine's reading of an utterance: (command, args) — proposal decisions included — or None for
    dictation. Leading hesitations are ignored, as the engine ignores them."""
    from pushkin.daemon.intent.grammar import strip_leading_fillers
    from pushkin.daemon.rewrite import spoken_decision

    text = strip_leading_fillers(text)
    decision = spoken_decision(text)
    if decision is not None:
        return ("accept" if decision else "reject"), {}
    match = _engine().classify(text)
    return None if match is None else (match.command, dict(match.args))


def _rule_of(text: str) -> GrammarRule | None:
    match = _engine().classify(text)
    return None if match is None else match.rule


def say_command(variant: CommandVariant, rng: random.Random, *, held_out: bool, filler: bool = False,
                tries: int = 8) -> SpokenCommand | None:
    """The variant said once (its slots filled; a hesitation before it with ``filler``), checked: the engine
    must read it as the variant's own rule (or table entry). None when no filling of it does."""
    for _ in range(tries):
        words = fill_variant(variant, rng, held_out=held_out)
        if words is None:
            return None
        text = " ".join(words)
        read = reading(text)
        if read is None or read[0] != variant.command:
            continue
        if variant.source not in ("decision", "punctuation") and (rule := _rule_of(text)) is not None \
                and rule.pattern != variant.source:
            continue  # an earlier rule takes these words: they are that rule's, not this one's
        command, args = read
        intent = " ".join([command] + [f"{k}={v}" for k, v in sorted(args.items())])
        # No period added: a literal's text is typed exactly as said.
        target = output_line(command, args, text) or f"dictate: {text[0].upper()}{text[1:]}"
        parts: tuple[str, ...] = (text,)
        if filler:
            fillers = sorted(w for w in FILLER_WORDS if bool(_CYRILLIC.search(w)) == (variant.language == "ru")
                             and "-" not in w)
            parts = (rng.choice(fillers) + ",", text)
        return SpokenCommand(variant, parts, target, intent)
    return None


def sayable_variants() -> tuple[CommandVariant, ...]:
    """The variants that can be said and that the engine reads as their own command (deterministic)."""
    rng = random.Random(0)
    return tuple(v for v in command_variants() if say_command(v, rng, held_out=False) is not None)
