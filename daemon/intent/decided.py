"""The output language's commands as the intent engine's, and back.

:func:`reading_of_command` turns a parsed ``command:`` line (:class:`~pushkin.model.output_language.CommandOutput`)
into what the daemon plans: a :class:`~pushkin.daemon.planning.DecidedCommand` (the engine's command name and
arguments, exactly what :meth:`IntentEngine.classify <pushkin.daemon.intent.engine.IntentEngine.classify>`
gives for the words that say it) and a phrase that says it (shown as the transcript; the structure commands
"new line", "comma" are formatted from it). Arguments the engine cannot act on together (a count with a
sentence, "this" word) are refused with :class:`UndecidableCommand`: nothing outside the language is ever run.

:func:`output_for` is the inverse: the line for an engine reading (the spoken training set's targets).
``accept``/``reject`` are the proposal decisions, not engine commands: their reading is the decision's
word alone, which the rewriter takes (:meth:`pushkin.daemon.rewrite.Rewriter.decision_for`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from pushkin.daemon.planning import DecidedCommand
from pushkin.model.output_language import DEFAULT_GRAMMAR, CommandOutput

from .formatting import SPOKEN_MARKS, Mark

# Commands with no arguments in both languages, and the words that say each.
_PLAIN: Mapping[str, str] = {
    "sleep": "go to sleep", "wake": "wake up", "dictation_mode": "dictation mode", "command_mode": "command mode",
    "undo": "undo", "redo": "redo", "scratch_that": "scratch that", "delete_that": "delete that",
    "select_that": "select that", "unselect": "unselect", "read_that": "read that", "stop": "stop",
    "add_vocabulary": "add that to the vocabulary", "new_line": "new line", "new_paragraph": "new paragraph",
}
_DECISIONS = {"accept": "accept", "reject": "reject"}
_REWRITE_PHRASES: Mapping[str, str] = {
    "rephrase": "rephrase that", "formal": "make that more formal", "casual": "make that more casual",
    "shorten": "shorten that", "expand": "expand that", "fix_grammar": "fix the grammar",
    "list": "turn that into a list", "summarize": "summarize that", "translate_ru": "translate that to russian",
    "translate_en": "translate that to english", "continue": "continue",
}
# The words of each mark the output language names (the angle quotes are Russian's "открыть кавычки").
_MARK_WORDS: Mapping[str, tuple[str, ...]] = {
    "comma": ("comma",), "period": ("period",), "question_mark": ("question", "mark"),
    "exclamation_mark": ("exclamation", "mark"), "colon": ("colon",), "semicolon": ("semicolon",),
    "dash": ("dash",), "hyphen": ("hyphen",), "ellipsis": ("ellipsis",), "open_quote": ("open", "quote"),
    "close_quote": ("close", "quote"), "open_angle_quote": ("открыть", "кавычки"),
    "close_angle_quote": ("закрыть", "кавычки"), "open_paren": ("open", "paren"), "close_paren": ("close", "paren"),
}
_STYLE_PHRASES = {"capitalize": "capitalize that", "upper": "all caps that", "lower": "lowercase that"}
_LANGUAGE_NAMES = {"en": "english", "ru": "russian"}


class UndecidableCommand(ValueError):
    """A command line the engine cannot act on as written; never executed."""


@dataclass(frozen=True)
class CommandReading:
    """What the daemon plans for a command line: the phrase (the transcript) and the engine's command
    (None for a proposal decision, which the phrase carries)."""

    phrase: str
    command: DecidedCommand | None


def _decided(name: str, **args: str) -> DecidedCommand:
    return DecidedCommand(name, tuple(sorted(args.items())))


def reading_of_command(output: CommandOutput) -> CommandReading:
    """The engine command (and its phrase) for a parsed command line; raises :class:`UndecidableCommand`."""
    name, args = output.name, dict(output.args)
    if name in _DECISIONS:
        return CommandReading(_DECISIONS[name], None)
    if name in _PLAIN:
        return CommandReading(_PLAIN[name], _decided(name))
    if name in ("delete", "select"):
        return _unit_reading(name, args)
    if name == "rewrite":
        task = args["task"]
        if task.startswith("translate_"):
            return CommandReading(_REWRITE_PHRASES[task], _decided("rewrite", task="translate", lang=task[-2:]))
        return CommandReading(_REWRITE_PHRASES[task], _decided("rewrite", task=task))
    if name == "backspace":
        count = args.get("count", "1")
        return CommandReading("backspace" if count == "1" else f"backspace {count} times", _decided(name, count=count))
    if name == "go_to":
        return CommandReading(f"go to the {args['where']}", _decided(name, where=args["where"]))
    if name == "go_to_unit":
        return CommandReading(f"go to the {args['edge']} of the {args['unit']}",
                              _decided(name, edge=args["edge"], unit=args["unit"]))
    if name == "move_words":
        said_count = args.get("count", "")
        noun = "word" if said_count in ("", "1") else "words"
        phrase = f"move {args['dir']} {said_count + ' ' if said_count else ''}{noun}"
        return CommandReading(phrase, _decided(name, dir=args["dir"], **({"count": said_count} if said_count else {})))
    if name == "format_that":
        return CommandReading(_STYLE_PHRASES[args["style"]], _decided(name, style=args["style"]))
    if name == "punctuation":
        mark_words = _MARK_WORDS[args["mark"]]
        return CommandReading(" ".join(mark_words), _decided(name, mark=SPOKEN_MARKS[mark_words].text))
    if name == "pin_language":
        lang = "" if args["lang"] == "auto" else args["lang"]
        phrase = f"dictate in {_LANGUAGE_NAMES[lang]}" if lang else "detect the language"
        return CommandReading(phrase, _decided(name, lang=lang))
    if name == "literal":
        return CommandReading(f"type {args['text']}", _decided(name, text=args["text"]))
    if name == "replace":
        return CommandReading(f"replace {args['x']} with {args['y']}", _decided(name, x=args["x"], y=args["y"]))
    if name == "replace_all":
        where = "in this paragraph" if args["scope"] == "paragraph" else "everywhere"
        return CommandReading(f"replace every {args['x']} with {args['y']} {where}",
                              _decided(name, x=args["x"], y=args["y"], scope=args["scope"]))
    if name in ("delete_text", "select_text"):
        return CommandReading(f"{name.split('_')[0]} {args['x']}", _decided(name, x=args["x"]))
    if name == "insert_at":
        return CommandReading(f"insert {args['side']} {args['x']}", _decided(name, side=args["side"], x=args["x"]))
    raise UndecidableCommand(f"the output language's command {name!r} has no engine command")


def _unit_reading(name: str, args: Mapping[str, str]) -> CommandReading:
    """``delete``/``select`` with ``unit``, ``which``, ``count``: the engine's *_words, *_unit or select_all."""
    unit, which, count = args["unit"], args.get("which", "last"), args.get("count")
    if unit == "all":
        if name != "select" or "which" in args or count is not None:
            raise UndecidableCommand("only 'select unit=all' names the whole document, alone")
        return CommandReading("select all", _decided("select_all"))
    if unit == "word":
        if which == "this":
            raise UndecidableCommand(f"{name} unit=word takes which=last, previous or next")
        direction = "forward" if which == "next" else "back"
        n = count or "1"
        side = "next" if direction == "forward" else "last"
        phrase = f"{name} the {side} word" if n == "1" else f"{name} the {side} {n} words"
        return CommandReading(phrase, _decided(f"{name}_words", direction=direction, count=n))
    if count is not None:
        raise UndecidableCommand(f"{name} unit={unit} takes no count")
    return CommandReading(f"{name} the {which} {unit}", _decided(f"{name}_unit", which=which, unit=unit))


def output_for(name: str, args: Mapping[str, str], spoken: str = "") -> CommandOutput | None:
    """The command line for an engine reading (``name``, ``args`` as ``classify`` gives them; ``spoken``, the
    words, tells an open quote from a closing one), or None when the language cannot say it (a count over
    99, a text over 200 characters, "dictate")."""
    output = _output(name, dict(args), spoken)
    if output is None:
        return None
    spec = DEFAULT_GRAMMAR.commands[output.name]
    if any(not re.fullmatch(spec.args[key], value) for key, value in output.args.items()):
        return None
    return output


def _output(name: str, args: dict[str, str], spoken: str) -> CommandOutput | None:
    if name in _PLAIN or name in _DECISIONS:
        return CommandOutput(name, {})
    if name == "select_all":
        return CommandOutput("select", {"unit": "all"})
    if name in ("delete_words", "select_words"):
        out = {"unit": "word"}
        if args.get("direction") == "forward":
            out["which"] = "next"
        if args.get("count", "1") != "1":
            out["count"] = args["count"]
        return CommandOutput(name.split("_")[0], out)
    if name in ("delete_unit", "select_unit"):
        out = {"unit": args["unit"]}
        if args.get("which", "last") != "last":
            out["which"] = args["which"]
        return CommandOutput(name.split("_")[0], out)
    if name == "rewrite":
        task = args.get("task", "")
        return CommandOutput("rewrite", {"task": f"translate_{args.get('lang', '')}" if task == "translate" else task})
    if name == "backspace":
        return CommandOutput(name, {} if args.get("count", "1") == "1" else {"count": args["count"]})
    if name == "move_words":  # "move left word" has no count, "move left one word" has one: kept as said
        return CommandOutput(name, args)
    if name == "punctuation":
        mark = _mark_of(spoken, args.get("mark", ""))
        return None if mark is None else CommandOutput(name, {"mark": mark})
    if name == "pin_language":
        return CommandOutput(name, {"lang": args.get("lang") or "auto"})
    if name in DEFAULT_GRAMMAR.commands:
        return CommandOutput(name, args)
    return None


def _mark_of(spoken: str, character: str) -> str | None:
    """The output language's name of the mark said in ``spoken`` (else the one mark written ``character``)."""
    from .formatting import spoken_mark

    said: Mark | None = spoken_mark(spoken) if spoken else None
    names = [n for n, words in _MARK_WORDS.items() if SPOKEN_MARKS[words] == said] if said is not None else []
    if not names:
        names = [n for n, words in _MARK_WORDS.items() if SPOKEN_MARKS[words].text == character]
    return names[0] if len(names) == 1 else None
