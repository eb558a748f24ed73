"""The intent engine's settings: the ``[intent]`` section of the daemon's config.

Example (TOML)::

    [intent]
    search_window = 10000         # how far from the cursor "select X" / "replace X with Y" look
    history_limit = 100           # phrases and undo steps remembered per document
    lowercase_mid_sentence = true # drop the capital Whisper gives a segment inserted mid-sentence
    language_model = false        # true once a language model executes "rephrase that" and co.
    drop_fillers = true           # "So, um, I think" → "So I think" (clean dictation)
    resolve_corrections = true    # "meet at three, actually two" → "meet at two"
    write_addresses = true        # "anna at example dot com" → "anna@example.com"

    [intent.phrases]              # your own phrases: pattern = command, or a table with arguments
    "nuke that" = "scratch_that"
    "kill <n> words" = { command = "delete_words", args = { direction = "back" } }
    "сотри всё" = "select_all"

Patterns use the grammar's syntax (``[optional]``, ``(a|b)``, ``<n>``, ``<x>``; see grammar.py) and are
tried before the built-in table, so they can also take a phrase over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .grammar import Grammar, GrammarError, GrammarRule


class IntentSettingsError(ValueError):
    """A bad ``[intent]`` section, with the key at fault in the message."""


@dataclass(frozen=True)
class IntentSettings:
    """How the intent engine behaves. All fields have working defaults."""

    phrases: tuple[GrammarRule, ...] = ()  # the user's own rules, tried before the built-in table
    search_window: int = 10_000  # code points each side of the cursor that document searches look at (a few screens)
    history_limit: int = 100  # dictated phrases and undo steps kept per document
    lowercase_mid_sentence: bool = True
    language_model: bool = False  # a language model will execute "rewrite" plans
    drop_fillers: bool = True  # hesitations ("um", "э-э") are left out of dictation
    resolve_corrections: bool = True  # "X, actually Y" is written as Y when the two are of a kind
    write_addresses: bool = True  # spoken domains and e-mail addresses are written as addresses

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> "IntentSettings":
        """The daemon's settings loader calls this for the ``[intent]`` table."""
        return intent_settings_from_dict(table)


def intent_settings_from_dict(section: Mapping[str, Any] | None) -> IntentSettings:
    """Build settings from a parsed ``[intent]`` table; raises IntentSettingsError naming the bad key."""
    from .engine import COMMANDS  # the command list lives with the code that runs the commands

    if section is None:
        return IntentSettings()
    if not isinstance(section, Mapping):
        raise IntentSettingsError(f"[intent] must be a table, not {type(section).__name__}")
    known = {"phrases", "search_window", "history_limit", "lowercase_mid_sentence", "language_model", "drop_fillers",
             "resolve_corrections", "write_addresses"}
    unknown = sorted(set(section) - known)
    if unknown:
        raise IntentSettingsError(f"[intent] has unknown keys: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    values: dict[str, Any] = {}
    for key in ("search_window", "history_limit"):
        if key in section:
            value = section[key]
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise IntentSettingsError(f"[intent] {key} must be a positive integer, not {value!r}")
            values[key] = value
    for key in ("lowercase_mid_sentence", "language_model", "drop_fillers", "resolve_corrections", "write_addresses"):
        if key in section:
            if not isinstance(section[key], bool):
                raise IntentSettingsError(f"[intent] {key} must be true or false, not {section[key]!r}")
            values[key] = section[key]
    rules = []
    phrases = section.get("phrases", {})
    if not isinstance(phrases, Mapping):
        raise IntentSettingsError("[intent.phrases] must be a table of pattern = command")
    for pattern, target in phrases.items():
        where = f"[intent.phrases] {pattern!r}"
        if isinstance(target, str):
            command, args = target, {}
        elif isinstance(target, Mapping) and isinstance(target.get("command"), str):
            command, args = target["command"], target.get("args", {})
            extra_keys = set(target) - {"command", "args"}
            if extra_keys:
                raise IntentSettingsError(f"{where}: unknown keys {sorted(extra_keys)} (use command and args)")
            if not isinstance(args, Mapping) or not all(isinstance(v, (str, int)) for v in args.values()):
                raise IntentSettingsError(f"{where}: args must be a table of strings or numbers")
        else:
            raise IntentSettingsError(f"{where}: give a command name, or a table with command and args")
        if command not in COMMANDS:
            raise IntentSettingsError(f"{where}: unknown command {command!r} (known: {', '.join(sorted(COMMANDS))})")
        rule = GrammarRule(str(pattern), command, {str(k): str(v) for k, v in args.items()})
        try:
            Grammar([rule])
        except GrammarError as error:
            raise IntentSettingsError(f"{where}: {error}") from None
        rules.append(rule)
    values["phrases"] = tuple(rules)
    return IntentSettings(**values)
