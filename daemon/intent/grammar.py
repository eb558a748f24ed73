"""The command grammar: one declarative table of spoken patterns → command name + arguments.

A pattern is written the way people read it::

    "select [the] (last|previous) <n> words"

* plain words must be said as written (case, ``ё``/``е`` and the punctuation Whisper adds are ignored);
* ``[...]`` is optional, ``(a|b c)`` is a choice;
* ``<n>`` is a number (digits, or number words one to twenty in English and Russian);
* ``<which>``, ``<unit>``, ``<dir>``, ``<lang>`` are small vocabularies (see :data:`SLOT_VOCABULARY`) whose
  spoken word is replaced by a canonical value (``"previous"``, ``"sentence"``, ``"left"``, ``"ru"``);
* ``<text>`` is free text kept verbatim (for ``type <text>``); any other ``<name>`` is free text with the
  punctuation Whisper puts around it stripped (words of the document: ``replace <x> with <y>``).

Only a WHOLE utterance can match; a rule's fixed arguments are merged with its slots' values. The first
matching rule wins, so specific rules come before rules with free text, and the user's own rules (from the
``[intent]`` config section) are tried before the built-in table.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# Number words up to twenty. Russian lists the gender and case forms a count takes after a verb.
_EN_NUMBERS = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
]
_RU_NUMBERS = {
    1: ("один", "одно", "одна", "одну"), 2: ("два", "две"), 3: ("три",), 4: ("четыре",), 5: ("пять",),
    6: ("шесть",), 7: ("семь",), 8: ("восемь",), 9: ("девять",), 10: ("десять",), 11: ("одиннадцать",),
    12: ("двенадцать",), 13: ("тринадцать",), 14: ("четырнадцать",), 15: ("пятнадцать",),
    16: ("шестнадцать",), 17: ("семнадцать",), 18: ("восемнадцать",), 19: ("девятнадцать",), 20: ("двадцать",),
}
NUMBER_WORDS: dict[str, int] = {word: value for value, word in enumerate(_EN_NUMBERS) if value}
NUMBER_WORDS.update({word: value for value, words in _RU_NUMBERS.items() for word in words})
MAX_COUNT = 1000  # a spoken count above this is a mishearing, not an intent

# Spoken word → canonical argument value, per vocabulary slot. Russian adjectives appear in the three
# genders because the unit nouns differ (предложение n., абзац m., строка f.).
SLOT_VOCABULARY: dict[str, dict[str, str]] = {
    "which": {
        "last": "last", "previous": "previous", "prior": "previous", "this": "this", "current": "this",
        "next": "next", "following": "next",
        "последнее": "last", "последний": "last", "последнюю": "last",
        "предыдущее": "previous", "предыдущий": "previous", "предыдущую": "previous", "прошлое": "previous",
        "прошлый": "previous", "прошлую": "previous",
        "это": "this", "этот": "this", "эту": "this", "текущее": "this", "текущий": "this", "текущую": "this",
        "следующее": "next", "следующий": "next", "следующую": "next",
    },
    "unit": {
        "sentence": "sentence", "paragraph": "paragraph", "line": "line",
        "предложение": "sentence", "абзац": "paragraph", "строку": "line", "строка": "line",
    },
    "unit_of": {  # Russian genitive, after "начало"/"конец"
        "sentence": "sentence", "paragraph": "paragraph", "line": "line",
        "предложения": "sentence", "абзаца": "paragraph", "строки": "line",
    },
    "dir": {"left": "left", "right": "right", "back": "left", "forward": "right",
            "влево": "left", "вправо": "right", "назад": "left", "вперед": "right"},
    "lang": {"russian": "ru", "english": "en", "русский": "ru", "английский": "en"},
}

_NUMBER_ALTERNATIVES = "|".join(sorted((re.escape(w) for w in NUMBER_WORDS), key=len, reverse=True))


@dataclass(frozen=True)
class GrammarRule:
    """One line of the table: a pattern, the command it names, and fixed arguments."""

    pattern: str
    command: str
    args: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CommandMatch:
    """A whole utterance that matched a rule."""

    command: str
    args: Mapping[str, str]
    rule: GrammarRule | None = None  # None for matches made outside the table (spoken punctuation)


class GrammarError(ValueError):
    """A pattern that cannot be compiled (unbalanced brackets, unknown slot)."""


# The built-in table. Command names and the arguments each takes are documented in commands.COMMANDS.
_THAT = "(that|this|it)"
_RU_THAT = "(это|этот|эту|его|её)"
BUILTIN_RULES: tuple[GrammarRule, ...] = tuple(GrammarRule(p, c, a) for p, c, a in [
    # Modes
    ("(go to sleep|stop listening|sleep mode)", "sleep", {}),
    ("(wake up|start listening)", "wake", {}),
    ("dictation mode", "dictation_mode", {}),
    ("command mode", "command_mode", {}),
    # Stop what the language model is writing (the daemon cancels a running rewrite on any new utterance)
    ("(stop|stop it|stop that|стоп|хватит|остановись)", "stop", {}),
    ("(спи|усни|засыпай|перестань слушать|режим сна)", "sleep", {}),
    ("(проснись|просыпайся|начни слушать|слушай)", "wake", {}),
    ("режим диктовки", "dictation_mode", {}),
    ("режим команд", "command_mode", {}),
    # Undo / redo (voice-action groups)
    (f"undo [{_THAT}]", "undo", {}),
    (f"redo [{_THAT}]", "redo", {}),
    ("(отмени|отменить) [это]", "undo", {}),
    ("(верни|вернуть|верни обратно|повтори отменённое)", "redo", {}),
    # Reading aloud (the [voice] section): the selection, else the last dictated phrase
    (f"read {_THAT} [(aloud|out loud|back)]", "read_that", {}),
    ("(прочитай|прочти|зачитай) (это|вслух|это вслух)", "read_that", {}),
    # Correction
    (f"scratch {_THAT}", "scratch_that", {}),
    (f"(сотри|стереть|зачеркни) {_RU_THAT}", "scratch_that", {}),
    (f"(delete|remove) {_THAT}", "delete_that", {}),
    (f"(удали|удалить|убери|убрать) {_RU_THAT}", "delete_that", {}),
    # Selection
    (f"select {_THAT}", "select_that", {}),
    ("select all", "select_all", {}),
    ("(unselect|deselect|clear [the] selection|select none)", "unselect", {}),
    ("select [the] (previous|last) word", "select_words", {"direction": "back", "count": "1"}),
    ("select [the] next word", "select_words", {"direction": "forward", "count": "1"}),
    ("select [the] (last|previous) <n> words", "select_words", {"direction": "back"}),
    ("select [the] next <n> words", "select_words", {"direction": "forward"}),
    ("select [the] <which> <unit>", "select_unit", {}),
    (f"(выдели|выделить) {_RU_THAT}", "select_that", {}),
    ("(выдели|выделить) (все|весь текст)", "select_all", {}),
    ("(сними|снять|убери) выделение", "unselect", {}),
    ("(выдели|выделить) (предыдущее|прошлое|последнее) слово", "select_words", {"direction": "back", "count": "1"}),
    ("(выдели|выделить) следующее слово", "select_words", {"direction": "forward", "count": "1"}),
    ("(выдели|выделить) (последние|предыдущие) <n> (слова|слов|слово)", "select_words", {"direction": "back"}),
    ("(выдели|выделить) следующие <n> (слова|слов|слово)", "select_words", {"direction": "forward"}),
    ("(выдели|выделить) <which> <unit>", "select_unit", {}),
    # Deletion
    ("(delete|remove) [the] (previous|last) word", "delete_words", {"direction": "back", "count": "1"}),
    ("(delete|remove) [the] next word", "delete_words", {"direction": "forward", "count": "1"}),
    ("(delete|remove) [the] (last|previous) <n> words", "delete_words", {"direction": "back"}),
    ("(delete|remove) [the] next <n> words", "delete_words", {"direction": "forward"}),
    ("(delete|remove) [the] <which> <unit>", "delete_unit", {}),
    ("backspace", "backspace", {"count": "1"}),
    ("backspace <n> [times]", "backspace", {}),
    ("(удали|удалить) (предыдущее|прошлое|последнее) слово", "delete_words", {"direction": "back", "count": "1"}),
    ("(удали|удалить) следующее слово", "delete_words", {"direction": "forward", "count": "1"}),
    ("(удали|удалить) (последние|предыдущие) <n> (слова|слов|слово)", "delete_words", {"direction": "back"}),
    ("(удали|удалить) следующие <n> (слова|слов|слово)", "delete_words", {"direction": "forward"}),
    ("(удали|удалить) <which> <unit>", "delete_unit", {}),
    ("(забой|стереть символ|сотри символ)", "backspace", {"count": "1"}),
    ("(удали|сотри) <n> (символ|символа|символов)", "backspace", {}),
    # Navigation
    ("go to [the] (start|beginning|top) [of [the] document]", "go_to", {"where": "start"}),
    ("go to [the] (end|bottom) [of [the] document]", "go_to", {"where": "end"}),
    ("go to [the] (start|beginning) of [the] <unit>", "go_to_unit", {"edge": "start"}),
    ("go to [the] end of [the] <unit>", "go_to_unit", {"edge": "end"}),
    ("move <dir> [<n>] (word|words)", "move_words", {}),
    ("(в|перейди в|иди в) начало [документа|текста]", "go_to", {"where": "start"}),
    ("(в|перейди в|иди в) конец [документа|текста]", "go_to", {"where": "end"}),
    ("(в|перейди в|иди в) начало <unit_of>", "go_to_unit", {"edge": "start"}),
    ("(в|перейди в|иди в) конец <unit_of>", "go_to_unit", {"edge": "end"}),
    ("(перейди|сдвинься|курсор) [на] [<n>] (слово|слова|слов) <dir>", "move_words", {}),
    ("(перейди|сдвинься|курсор) <dir> [на] [<n>] (слово|слова|слов)", "move_words", {}),
    ("insert before <x>", "insert_at", {"side": "before"}),
    ("insert after <x>", "insert_at", {"side": "after"}),
    ("(вставь|вставить|вставка) перед <x>", "insert_at", {"side": "before"}),
    ("(вставь|вставить|вставка) после <x>", "insert_at", {"side": "after"}),
    # Formatting the selection, else the last dictated phrase
    (f"(cap|capitalize) {_THAT}", "format_that", {"style": "capitalize"}),
    (f"all caps {_THAT}", "format_that", {"style": "upper"}),
    (f"(lowercase|lower case|no caps) {_THAT}", "format_that", {"style": "lower"}),
    (f"[сделай] {_RU_THAT} с (большой|заглавной) буквы", "format_that", {"style": "capitalize"}),
    (f"(с большой буквы|с заглавной буквы) [{_RU_THAT}]", "format_that", {"style": "capitalize"}),
    (f"(заглавными|прописными|капсом) [{_RU_THAT}]", "format_that", {"style": "upper"}),
    (f"(строчными|маленькими буквами) [{_RU_THAT}]", "format_that", {"style": "lower"}),
    # Structure and punctuation said as an utterance of their own
    ("new line", "new_line", {}),
    ("new paragraph", "new_paragraph", {}),
    ("новая строка", "new_line", {}),
    ("(новый абзац|новый параграф)", "new_paragraph", {}),
    # Language-model commands: recognized here, executed by the language model (see engine.rewrite_plan)
    (f"(rephrase|reword|rewrite) {_THAT}", "rewrite", {"task": "rephrase"}),
    (f"make {_THAT} (more formal|formal)", "rewrite", {"task": "formal"}),
    (f"make {_THAT} (more casual|casual|less formal|more informal)", "rewrite", {"task": "casual"}),
    (f"(shorten {_THAT}|make {_THAT} shorter)", "rewrite", {"task": "shorten"}),
    (f"(expand {_THAT}|make {_THAT} longer)", "rewrite", {"task": "expand"}),
    (f"fix [the] grammar [(in|of) {_THAT}]", "rewrite", {"task": "fix_grammar"}),
    (f"(turn|make) {_THAT} into a (list|bulleted list|bullet list)", "rewrite", {"task": "list"}),
    (f"summarize {_THAT}", "rewrite", {"task": "summarize"}),
    (f"translate {_THAT} (to|into) <lang>", "rewrite", {"task": "translate"}),
    ("(continue|keep going|go on)", "rewrite", {"task": "continue"}),
    (f"(перефразируй|перефразировать|перепиши) [{_RU_THAT}]", "rewrite", {"task": "rephrase"}),
    (f"сделай {_RU_THAT} (формальнее|официальнее|более формальным)", "rewrite", {"task": "formal"}),
    (f"сделай {_RU_THAT} (проще|неформальнее|разговорнее|менее формальным)", "rewrite", {"task": "casual"}),
    (f"(сократи|укороти) [{_RU_THAT}]", "rewrite", {"task": "shorten"}),
    (f"(расширь|дополни|разверни) [{_RU_THAT}]", "rewrite", {"task": "expand"}),
    ("исправь (грамматику|ошибки) [в этом]", "rewrite", {"task": "fix_grammar"}),
    (f"(сделай|преврати) ({_RU_THAT}|из этого) [в] список", "rewrite", {"task": "list"}),
    (f"(резюмируй|перескажи кратко|кратко изложи) [{_RU_THAT}]", "rewrite", {"task": "summarize"}),
    (f"переведи [{_RU_THAT}] на <lang>", "rewrite", {"task": "translate"}),
    ("(продолжай|продолжи|пиши дальше)", "rewrite", {"task": "continue"}),
    # Personal vocabulary: the selection, else the last dictated phrase, for the recognizer
    (f"add {_THAT} to [the|my] (vocabulary|dictionary)", "add_vocabulary", {}),
    (f"(добавь|добавить) [{_RU_THAT}] в [мой] словарь", "add_vocabulary", {}),
    # The focused document's language, pinned for the recognizer (or left to detection again)
    ("dictate in <lang>", "pin_language", {}),
    ("(dictate in any language|detect the language|unpin the language)", "pin_language", {"lang": ""}),
    ("(диктуй|диктовка) (по-русски|по русски)", "pin_language", {"lang": "ru"}),
    ("(диктуй|диктовка) (по-английски|по английски)", "pin_language", {"lang": "en"}),
    ("(диктуй на любом языке|определяй язык [сам])", "pin_language", {"lang": ""}),
    # Literal insertion (never a command, never converted)
    ("(type|literal) <text>", "literal", {}),
    ("(напечатай|буквально) <text>", "literal", {}),
    # Free-text document commands last: their slots would swallow the specific phrases above.
    ("replace (every|all) <x> with <y> in this paragraph", "replace_all", {"scope": "paragraph"}),
    ("replace (every|all) <x> with <y> [everywhere]", "replace_all", {"scope": "document"}),
    ("замени (все|каждое) <x> на <y> в этом абзаце", "replace_all", {"scope": "paragraph"}),
    ("замени (все|каждое) <x> на <y> [везде]", "replace_all", {"scope": "document"}),
    ("replace <x> with <y>", "replace", {}),
    ("(замени|заменить) <x> на <y>", "replace", {}),
    ("select <x>", "select_text", {}),
    ("(выдели|выделить) <x>", "select_text", {}),
    ("(delete|remove) <x>", "delete_text", {}),
    ("(удали|удалить) <x>", "delete_text", {}),
])

# Spoken punctuation said alone is also a command; the same words inside dictation are converted by
# formatting.py, which owns the mark table.


# --------------------------------------------------------------------------------------------------
# Normalization: the utterance as words, each with its span in the original text
# --------------------------------------------------------------------------------------------------

_EDGE_PUNCTUATION = ".,!?;:…\"'«»“”„()[]{}¡¿—–-*"


@dataclass(frozen=True)
class Words:
    """An utterance split on whitespace: normalized words and where each came from."""

    original: str
    spans: tuple[tuple[int, int], ...]  # per word, its span in ``original``
    normalized: str  # " w1 w2 ... wn " (leading and trailing space make the rules' regexes simple)
    starts: tuple[int, ...]  # per word, its offset in ``normalized``


def normalize_word(word: str) -> str:
    return word.strip(_EDGE_PUNCTUATION).lower().replace("ё", "е")


def split_words(text: str) -> Words:
    spans = []
    parts = []
    starts = []
    position = 1
    for match in re.finditer(r"\S+", text):
        word = normalize_word(match.group())
        if not word:  # a lone "—" or "." between words
            continue
        spans.append(match.span())
        parts.append(word)
        starts.append(position)
        position += len(word) + 1
    normalized = " " + " ".join(parts) + " " if parts else " "
    return Words(text, tuple(spans), normalized, tuple(starts))


# --------------------------------------------------------------------------------------------------
# Compiling patterns
# --------------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(\[|\]|\(|\)|\||<[a-z_]+>|[^\s\[\]()|<>]+)")


def _compile(pattern: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    tokens = []
    position = 0
    stripped = pattern.strip()
    while position < len(stripped):
        match = _TOKEN.match(stripped, position)
        if not match:
            raise GrammarError(f"cannot read pattern {pattern!r} at {stripped[position:]!r}")
        tokens.append(match.group(1))
        position = match.end()
    if not tokens:
        raise GrammarError("empty pattern")
    slots: list[str] = []
    index = 0

    def alternatives(closer: str | None) -> str:
        nonlocal index
        branches = [sequence()]
        while index < len(tokens) and tokens[index] == "|":
            index += 1
            branches.append(sequence())
        if closer is not None:
            if index >= len(tokens) or tokens[index] != closer:
                raise GrammarError(f"unbalanced brackets in pattern {pattern!r}")
            index += 1
        return "(?:" + "|".join(branches) + ")"

    def sequence() -> str:
        nonlocal index
        parts = []
        while index < len(tokens) and tokens[index] not in ("|", "]", ")"):
            token = tokens[index]
            index += 1
            if token == "[":
                parts.append(alternatives("]") + "?")
            elif token == "(":
                parts.append(alternatives(")"))
            elif token.startswith("<"):
                parts.append(_slot(token[1:-1], slots, pattern))
            else:
                parts.append(re.escape(normalize_word(token) or token) + " ")
        return "".join(parts)

    body = alternatives(None)
    if index != len(tokens):
        raise GrammarError(f"unbalanced brackets in pattern {pattern!r}")
    return re.compile(" " + body), tuple(slots)


def _slot(name: str, slots: list[str], pattern: str) -> str:
    if name in slots:
        raise GrammarError(f"slot <{name}> appears twice in pattern {pattern!r}")
    slots.append(name)
    if name == "n":
        return rf"(?P<n>(?:{_NUMBER_ALTERNATIVES}|\d+) )"
    if name in SLOT_VOCABULARY:
        words = "|".join(sorted((re.escape(w) for w in SLOT_VOCABULARY[name]), key=len, reverse=True))
        return rf"(?P<{name}>(?:{words}) )"
    return rf"(?P<{name}>(?:\S+ )+?)"


def parse_count(word: str) -> int | None:
    value: int | None
    if word.isdigit():
        value = int(word)
    else:
        value = NUMBER_WORDS.get(word)
        if value is None:
            return None
    return value if 0 < value <= MAX_COUNT else None


# --------------------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------------------

_STRIP_FROM_SLOT = ".,!?;:…\"'«»“”„"


@dataclass(frozen=True)
class _CompiledRule:
    rule: GrammarRule
    regex: re.Pattern[str]
    slots: tuple[str, ...]
    first_words: frozenset[str] | None  # words a match can start with; None: any (a leading slot)


class Grammar:
    """The compiled table. ``match`` is a few microseconds: rules are indexed by their possible first word."""

    def __init__(self, rules: Iterable[GrammarRule]):
        self._rules: list[_CompiledRule] = []
        for rule in rules:
            regex, slots = _compile(rule.pattern)
            self._rules.append(_CompiledRule(rule, regex, slots, _first_words(rule.pattern)))

    @property
    def rules(self) -> tuple[GrammarRule, ...]:
        return tuple(compiled.rule for compiled in self._rules)

    def match(self, utterance: str) -> CommandMatch | None:
        words = split_words(utterance)
        if not words.spans:
            return None
        first = words.normalized[1:words.normalized.index(" ", 1)]
        for compiled in self._rules:
            if compiled.first_words is not None and first not in compiled.first_words:
                continue
            found = compiled.regex.fullmatch(words.normalized)
            if found is None:
                continue
            args = dict(compiled.rule.args)
            valid = True
            for slot in compiled.slots:
                if found.group(slot) is None:
                    continue
                value = found.group(slot).strip()
                if slot == "n":
                    count = parse_count(value)
                    if count is None:
                        valid = False
                        break
                    args["count"] = str(count)
                elif slot in SLOT_VOCABULARY:
                    args[slot.removesuffix("_of")] = SLOT_VOCABULARY[slot][value]
                else:
                    args[slot] = _original_slot_text(words, found.start(slot), found.end(slot), verbatim=slot == "text")
                    if not args[slot]:
                        valid = False
                        break
            if valid and not _reads_as_sentence(compiled.rule.command, args):
                return CommandMatch(compiled.rule.command, args, compiled.rule)
        return None


# Words that, opening a command's free text, show the utterance is a sentence that merely begins like
# the command: "Type your name in the first box." is an instruction to a reader, "type scratch that" a
# command. Keyed by command, then by the slot read.
SENTENCE_AFTER: Mapping[str, Mapping[str, frozenset[str]]] = {
    "literal": {"text": frozenset({
        "your", "the", "a", "an", "in", "into", "it", "its", "this", "these", "those", "my", "our", "his", "her",
        "their", "some", "any", "all", "up", "out", "on", "of", "what", "whatever", "something", "anything",
        "ваше", "ваш", "вашу", "свое", "свой", "свою", "в", "это", "что",
    })},
}

# Words that carry no meaning at the start of an utterance ("um, scratch that"), and make up an utterance
# that is only hesitation ("Uh."). "ну" counts only here, before a command or alone, never inside a sentence.
FILLER_WORDS: frozenset[str] = frozenset({
    "um", "umm", "uh", "uhh", "er", "erm", "ah", "hm", "hmm", "mm", "eh",
    "э", "э-э", "ээ", "эээ", "э-э-э", "эм", "ммм", "мм", "хм", "ну", "а-а",
})


def _reads_as_sentence(command: str, args: Mapping[str, str]) -> bool:
    for slot, words in SENTENCE_AFTER.get(command, {}).items():
        first = args.get(slot, "").split(maxsplit=1)
        if first and normalize_word(first[0]) in words:
            return True
    return False


def strip_leading_fillers(utterance: str) -> str:
    """``utterance`` without the hesitation words it begins with ("Um, scratch that." → "scratch that.")."""
    rest = utterance.strip()
    while rest:
        parts = rest.split(maxsplit=1)
        if normalize_word(parts[0]) not in FILLER_WORDS:
            break
        rest = parts[1].lstrip(_EDGE_PUNCTUATION + " ") if len(parts) > 1 else ""
    return rest


def _original_slot_text(words: Words, start: int, end: int, *, verbatim: bool) -> str:
    first = bisect.bisect_left(words.starts, start)
    last = bisect.bisect_left(words.starts, end) - 1
    text = words.original[words.spans[first][0]:words.spans[last][1]]
    if verbatim:
        return text
    return text.strip(_STRIP_FROM_SLOT + " ")


def _first_words(pattern: str) -> frozenset[str] | None:
    """The words a pattern can begin with, or None when it can begin with a slot or be all-optional."""
    # Expand the leading group by hand: enough for the table's shapes ("(a|b c) ...", "[x] y", "word").
    tokens = [t.group(1) for t in _TOKEN.finditer(pattern.strip())]
    result: set[str] = set()
    if not _collect_first(tokens, 0, result):
        return None
    return frozenset(result)


def _collect_first(tokens: list[str], index: int, result: set[str]) -> bool:
    """Add the possible first words starting at ``tokens[index]``; False when a slot or the end can come first."""
    if index >= len(tokens):
        return False
    token = tokens[index]
    if token.startswith("<") or token in ("|", ")", "]"):
        return False
    if token in ("(", "["):
        closer = ")" if token == "(" else "]"
        depth = 0
        branch_starts = [index + 1]
        end = index
        for position in range(index, len(tokens)):
            if tokens[position] in ("(", "["):
                depth += 1
            elif tokens[position] in (")", "]"):
                depth -= 1
                if depth == 0:
                    end = position
                    break
            elif tokens[position] == "|" and depth == 1:
                branch_starts.append(position + 1)
        for start in branch_starts:
            if tokens[start] in ("|", closer):  # an empty branch
                return False
            if not _collect_first(tokens, start, result):
                return False
        if token == "[":
            return _collect_first(tokens, end + 1, result)
        return True
    result.add(normalize_word(token) or token)
    return True
