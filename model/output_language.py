"""The model's output language: one line, ``dictate: <text>`` or ``command: <name> [key=value ...]``.

Whatever the model writes (the speech-LLM path, open-ended command classification) is parsed here by a
strict parser: one line, one of the two forms, a command name the grammar knows, only the argument names
that command declares, values matching their patterns. Anything else raises
:class:`OutputLanguageError` — free text from the model is never executed, and the caller falls back to
dictating what was heard.

The command set is a :class:`CommandGrammar`; :data:`DEFAULT_GRAMMAR` holds the product's commands, and
the intent engine can build one from its own command registry (``CommandGrammar.of({...})``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

MAX_LINE_CHARS = 2000
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_ARG = re.compile(r"([a-z][a-z0-9_]*)=([^\s=]+)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class OutputLanguageError(ValueError):
    """A model output outside the grammar; never executed."""


@dataclass(frozen=True)
class CommandSpec:
    """A command the model may name: each argument's value pattern (a full-match regex); ``required`` ones."""

    name: str
    args: Mapping[str, str] = field(default_factory=dict)
    required: frozenset[str] = frozenset()


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
            args = " ".join(f"{k}=<{v}>" for k, v in spec.args.items())
            lines.append(f"command: {spec.name}{' ' + args if args else ''}")
        return "\n".join(lines)


@dataclass(frozen=True)
class DictateOutput:
    text: str


@dataclass(frozen=True)
class CommandOutput:
    name: str
    args: Mapping[str, str]


ModelOutput = DictateOutput | CommandOutput

_REWRITE_TASKS = "rephrase|formal|casual|shorten|expand|fix_grammar|list|summarize|translate_ru|translate_en|continue"
_COUNT = "[1-9][0-9]?"
DEFAULT_GRAMMAR = CommandGrammar.of([
    CommandSpec("rewrite", {"task": _REWRITE_TASKS}, frozenset({"task"})),
    CommandSpec("scratch_that"),
    CommandSpec("undo"),
    CommandSpec("redo"),
    CommandSpec("stop"),
    CommandSpec("accept"),
    CommandSpec("reject"),
    CommandSpec("delete", {"unit": "word|sentence|paragraph|line", "count": _COUNT}, frozenset({"unit"})),
    CommandSpec("select", {"unit": "word|sentence|paragraph|line|all", "count": _COUNT}, frozenset({"unit"})),
    CommandSpec("new_line"),
    CommandSpec("new_paragraph"),
    CommandSpec("sleep"),
    CommandSpec("wake"),
])


def parse_output_line(line: str, grammar: CommandGrammar = DEFAULT_GRAMMAR) -> ModelOutput:
    """Parse one model output line strictly; raises OutputLanguageError for anything outside the grammar.

    A single trailing newline is allowed; leading or inner line breaks, control characters, an empty
    dictation, unknown commands, unknown or repeated or missing arguments, and values that do not match
    their pattern are all rejected.
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
    if line.startswith("dictate: "):
        text = line[len("dictate: "):].strip()
        if not text:
            raise OutputLanguageError("'dictate:' with no text")
        return DictateOutput(text)
    if line.startswith("command: "):
        return _parse_command(line[len("command: "):], grammar)
    raise OutputLanguageError(f"model output must start with 'dictate: ' or 'command: ', got {line[:40]!r}")


def _parse_command(rest: str, grammar: CommandGrammar) -> CommandOutput:
    words = rest.split(" ")
    if not words or not _NAME.fullmatch(words[0]):
        raise OutputLanguageError(f"bad command name in {rest[:40]!r}")
    name = words[0]
    spec = grammar.commands.get(name)
    if spec is None:
        raise OutputLanguageError(f"unknown command {name!r}")
    args: dict[str, str] = {}
    for word in words[1:]:
        match = _ARG.fullmatch(word)
        if match is None:
            raise OutputLanguageError(f"command {name}: {word!r} is not a key=value argument")
        key, value = match.groups()
        if key not in spec.args:
            raise OutputLanguageError(f"command {name} takes no argument {key!r}")
        if key in args:
            raise OutputLanguageError(f"command {name}: argument {key!r} given twice")
        if not re.fullmatch(spec.args[key], value):
            raise OutputLanguageError(f"command {name}: {key}={value!r} is not allowed")
        args[key] = value
    missing = sorted(spec.required - set(args))
    if missing:
        raise OutputLanguageError(f"command {name} needs {', '.join(missing)}")
    return CommandOutput(name, args)


def format_output(output: ModelOutput) -> str:
    """The line for ``output`` (the inverse of :func:`parse_output_line`; training targets use it)."""
    if isinstance(output, DictateOutput):
        return f"dictate: {output.text}"
    args = "".join(f" {k}={v}" for k, v in output.args.items())
    return f"command: {output.name}{args}"
