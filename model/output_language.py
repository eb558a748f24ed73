"""The model's output language: one line, ``dictate: <text>``, ``command: <name> [key=value ...]``, or two of
those joined by `` then ``.

Whatever the model writes (the speech-LLM path, open-ended command classification) is parsed here by a
strict parser: one line, one or two operations, a command name the grammar knows, only the argument names
that command declares, values matching their patterns. Anything else raises
:class:`OutputLanguageError` — free text from the model is never executed, and the caller falls back to
what the recognizer heard.

Arguments: ``key=value`` for a word from the argument's vocabulary (``unit=sentence``, ``count=3``), and
``key="text"`` for free text (a command's text arguments, and only those, are quoted; ``\\"`` and ``\\\\``
escape a quote and a backslash): ``command: replace x="the red car" y="the blue van"``.

Two operations: ``<op> then <op>`` (``dictate: The meeting is at noon. then command: sleep``). A dictation's
text runs to the end of the line unless `` then command: `` follows it; after a command, ``then`` ends its
arguments. Never more than two, and never two dictations.

The command set is a :class:`CommandGrammar`; :data:`DEFAULT_GRAMMAR` holds a form for every command of the
intent engine (:mod:`pushkin.daemon.intent.decided` maps each to the engine's command and back).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

MAX_LINE_CHARS = 2000
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_ARG = re.compile(r'([a-z][a-z0-9_]*)=(?:"((?:[^"\\]|\\["\\])*)"|([^\s="\\]+))(?= |$)')
_UNESCAPE = re.compile(r'\\(["\\])')
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_DICTATE = "dictate: "
_COMMAND = "command: "
_THEN = " then "


class OutputLanguageError(ValueError):
    """A model output outside the grammar; never executed."""


@dataclass(frozen=True)
class CommandSpec:
    """A command the model may name: each argument's value pattern (a full-match regex); ``required`` ones;
    ``text`` ones take free text, written quoted."""

    name: str
    args: Mapping[str, str] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    text: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CommandGrammar:
    commands: Mapping[str, CommandSpec]

    @classmethod
    def of(cls, specs: Mapping[str, Mapping[str, str]] | list[CommandSpec]) -> CommandGrammar:
        if isinstance(specs, list):
            return cls({s.name: s for s in specs})
        return cls({name: CommandSpec(name, dict(args), frozenset(args)) for name, args in specs.items()})

    def describe(self) -> str:
        """The grammar in one line per command, for prompts."""
        lines = []
        for spec in self.commands.values():
            args = " ".join(f'{k}="<text>"' if k in spec.text else f"{k}=<{v}>" for k, v in spec.args.items())
            lines.append(f"command: {spec.name}{' ' + args if args else ''}")
        return "\n".join(lines)


@dataclass(frozen=True)
class DictateOutput:
    text: str


@dataclass(frozen=True)
class CommandOutput:
    name: str
    args: Mapping[str, str]


@dataclass(frozen=True)
class SequenceOutput:
    """Two operations in order (``<first> then <second>``); never two dictations."""

    first: DictateOutput | CommandOutput
    second: DictateOutput | CommandOutput

    @property
    def operations(self) -> tuple[DictateOutput | CommandOutput, DictateOutput | CommandOutput]:
        return (self.first, self.second)


ModelOutput = DictateOutput | CommandOutput | SequenceOutput


def operations_of(output: ModelOutput) -> tuple[DictateOutput | CommandOutput, ...]:
    """The operations an output asks for, in order."""
    return output.operations if isinstance(output, SequenceOutput) else (output,)


_REWRITE_TASKS = "rephrase|formal|casual|shorten|expand|fix_grammar|list|summarize|translate_ru|translate_en|continue"
_COUNT = "[1-9][0-9]?"
_UNIT = "sentence|paragraph|line"
# Free text (words of the document, a literal to type): written quoted, at most 200 characters, no edge spaces.
TEXT = r"\S(?:.{0,198}\S)?"
# Spoken punctuation said alone; the angle quotes are the Russian «» the grammar gives "открыть кавычки".
PUNCTUATION_MARKS = ("comma", "period", "question_mark", "exclamation_mark", "colon", "semicolon", "dash", "hyphen",
                     "ellipsis", "open_quote", "close_quote", "open_angle_quote", "close_angle_quote", "open_paren",
                     "close_paren")


def _spec(name: str, args: Mapping[str, str] | None = None, required: tuple[str, ...] = (),
          text: tuple[str, ...] = ()) -> CommandSpec:
    return CommandSpec(name, dict(args or {}), frozenset(required), frozenset(text))


# Every command of the intent engine has a form here (docs/language-model.md lists them with the words that
# say them); ``delete``/``select`` cover the engine's delete_words/delete_unit and select_words/select_unit/
# select_all, the forms the first adapters were trained on.
DEFAULT_GRAMMAR = CommandGrammar.of([
    _spec("rewrite", {"task": _REWRITE_TASKS}, ("task",)),
    _spec("scratch_that"), _spec("undo"), _spec("redo"), _spec("stop"), _spec("accept"), _spec("reject"),
    _spec("delete", {"unit": f"word|{_UNIT}", "which": "last|previous|this|next", "count": _COUNT}, ("unit",)),
    _spec("select", {"unit": f"word|{_UNIT}|all", "which": "last|previous|this|next", "count": _COUNT}, ("unit",)),
    _spec("new_line"), _spec("new_paragraph"), _spec("sleep"), _spec("wake"),
    _spec("dictation_mode"), _spec("command_mode"), _spec("delete_that"), _spec("select_that"), _spec("unselect"),
    _spec("read_that"), _spec("add_vocabulary"),
    _spec("backspace", {"count": _COUNT}),
    _spec("go_to", {"where": "start|end"}, ("where",)),
    _spec("go_to_unit", {"edge": "start|end", "unit": _UNIT}, ("edge", "unit")),
    _spec("move_words", {"dir": "left|right", "count": _COUNT}, ("dir",)),
    _spec("format_that", {"style": "capitalize|upper|lower"}, ("style",)),
    _spec("punctuation", {"mark": "|".join(PUNCTUATION_MARKS)}, ("mark",)),
    _spec("pin_language", {"lang": "en|ru|auto"}, ("lang",)),
    _spec("literal", {"text": TEXT}, ("text",), text=("text",)),
    _spec("replace", {"x": TEXT, "y": TEXT}, ("x", "y"), text=("x", "y")),
    _spec("delete_text", {"x": TEXT}, ("x",), text=("x",)),
    _spec("select_text", {"x": TEXT}, ("x",), text=("x",)),
    _spec("insert_at", {"side": "before|after", "x": TEXT}, ("side", "x"), text=("x",)),
    # Free-form: every occurrence of x in the paragraph at the cursor (or the whole document) becomes y.
    _spec("replace_all", {"x": TEXT, "y": TEXT, "scope": "paragraph|document"}, ("x", "y", "scope"),
          text=("x", "y")),
])


def parse_output_line(line: str, grammar: CommandGrammar = DEFAULT_GRAMMAR) -> ModelOutput:
    """Parse one model output line strictly; raises OutputLanguageError for anything outside the grammar.

    A single trailing newline is allowed; leading or inner line breaks, control characters, an empty
    dictation, unknown commands, unknown or repeated or missing arguments, values that do not match their
    pattern, a text argument not quoted (or a word argument quoted), more than two operations and two
    dictations are all rejected.
    """
    if not isinstance(line, str):
        raise OutputLanguageError(f"model output must be text, not {type(line).__name__}")
    if line.endswith("\n"):
        line = line[:-1]
    if "\n" in line or "\r" in line:
        raise OutputLanguageError("model output must be exactly one line")
    if len(line) > MAX_LINE_CHARS:
        raise OutputLanguageError(f"model output is longer than {MAX_LINE_CHARS} characters")
    if _CONTROL.search(line):
        raise OutputLanguageError("model output contains control characters")
    first, rest = _operation(line, grammar)
    if rest is None:
        return first
    second, more = _operation(rest, grammar)
    if more is not None:
        raise OutputLanguageError("at most two operations may be joined by 'then'")
    if isinstance(first, DictateOutput) and isinstance(second, DictateOutput):
        raise OutputLanguageError("two dictations cannot be joined by 'then'")
    return SequenceOutput(first, second)


def _operation(line: str, grammar: CommandGrammar) -> tuple[DictateOutput | CommandOutput, str | None]:
    """The operation ``line`` begins with, and what follows `` then `` (None when nothing does)."""
    if line.startswith(_DICTATE):
        body, rest = line[len(_DICTATE):], None
        joint = body.find(_THEN + _COMMAND)
        if joint >= 0:
            body, rest = body[:joint], body[joint + len(_THEN):]
        text = body.strip()
        if not text:
            raise OutputLanguageError("'dictate:' with no text")
        return DictateOutput(text), rest
    if line.startswith(_COMMAND):
        return _parse_command(line[len(_COMMAND):], grammar)
    raise OutputLanguageError(f"model output must start with 'dictate: ' or 'command: ', got {line[:40]!r}")


def _parse_command(rest: str, grammar: CommandGrammar) -> tuple[CommandOutput, str | None]:
    name = rest.split(" ", 1)[0]
    if not _NAME.fullmatch(name):
        raise OutputLanguageError(f"bad command name in {rest[:40]!r}")
    spec = grammar.commands.get(name)
    if spec is None:
        raise OutputLanguageError(f"unknown command {name!r}")
    args: dict[str, str] = {}
    position = len(name)
    following = None
    while position < len(rest):
        if rest[position] != " ":
            raise OutputLanguageError(f"command {name}: {rest[position:][:40]!r} is not a key=value argument")
        position += 1
        if rest.startswith("then ", position):
            following = rest[position + len("then "):]
            break
        match = _ARG.match(rest, position)
        if match is None:
            word = rest[position:].split(" ", 1)[0]
            raise OutputLanguageError(f"command {name}: {word!r} is not a key=value argument")
        key, quoted, plain = match.groups()
        if key not in spec.args:
            raise OutputLanguageError(f"command {name} takes no argument {key!r}")
        if key in args:
            raise OutputLanguageError(f"command {name}: argument {key!r} given twice")
        if (quoted is not None) != (key in spec.text):
            form = "quoted text" if key in spec.text else "a word, not quoted"
            raise OutputLanguageError(f"command {name}: {key} must be {form}")
        value = _UNESCAPE.sub(r"\1", quoted) if quoted is not None else plain
        if not re.fullmatch(spec.args[key], value):
            raise OutputLanguageError(f"command {name}: {key}={value[:40]!r} is not allowed")
        args[key] = value
        position = match.end()
    missing = sorted(spec.required - set(args))
    if missing:
        raise OutputLanguageError(f"command {name} needs {', '.join(missing)}")
    return CommandOutput(name, args), following


def format_output(output: ModelOutput, grammar: CommandGrammar = DEFAULT_GRAMMAR) -> str:
    """The line for ``output`` (the inverse of :func:`parse_output_line`; training targets use it)."""
    if isinstance(output, SequenceOutput):
        return f"{format_output(output.first, grammar)}{_THEN}{format_output(output.second, grammar)}"
    if isinstance(output, DictateOutput):
        return f"{_DICTATE}{output.text}"
    spec = grammar.commands.get(output.name)
    text_args = spec.text if spec is not None else frozenset()
    args = "".join(f" {k}={_quoted(v) if k in text_args else v}" for k, v in output.args.items())
    return f"{_COMMAND}{output.name}{args}"


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
