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
    write_numbers = true          # "twenty five percent" → "25%", "at five pm" → "at 5 p.m."

    [intent.phrases]              # your own phrases: pattern = command, or a table with arguments
    "nuke that" = "scratch_that"
    "kill <n> words" = { command = "delete_words", args = { direction = "back" } }
    "сотри всё" = "select_all"

Patterns use the grammar's syntax (``[optional]``, ``(a|b)``, ``<n>``, ``<x>``; see grammar.py) and are
tried before the built-in table, so they can also take a phrase over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pushkin.config import READ_WITH, ConfigError, build

from .commands import COMMANDS
from .grammar import Grammar, GrammarError, GrammarRule

IntentSettingsError = ConfigError  # the name callers of intent_settings_from_dict catch


def read_phrases(phrases: Any, key: str) -> tuple[GrammarRule, ...]:
    """The user's ``[intent.phrases]`` table as grammar rules; ValueError naming the phrase at fault."""
    if not isinstance(phrases, Mapping):
        raise ValueError(f"[{key}] must be a table of pattern = command")
    rules = []
    for pattern, target in phrases.items():
        where = f"[{key}] {pattern!r}"
        if isinstance(target, str):
            command, args = target, {}
        elif isinstance(target, Mapping) and isinstance(target.get("command"), str):
            command, args = target["command"], target.get("args", {})
            extra_keys = set(target) - {"command", "args"}
            if extra_keys:
                raise ValueError(f"{where}: unknown keys {sorted(extra_keys)} (use command and args)")
            if not isinstance(args, Mapping) or not all(isinstance(v, (str, int)) for v in args.values()):
                raise ValueError(f"{where}: args must be a table of strings or numbers")
        else:
            raise ValueError(f"{where}: give a command name, or a table with command and args")
        if command not in COMMANDS:
            raise ValueError(f"{where}: unknown command {command!r} (known: {', '.join(sorted(COMMANDS))})")
        rule = GrammarRule(str(pattern), command, {str(k): str(v) for k, v in args.items()})
        try:
            Grammar([rule])
        except GrammarError as error:
            raise ValueError(f"{where}: {error}") from None
        rules.append(rule)
    return tuple(rules)


@dataclass(frozen=True)
class IntentSettings:
    """How the intent engine behaves. All fields have working defaults."""

    # The user's own rules (pattern = command, or a table with command and args), tried before the built-in table.
    phrases: tuple[GrammarRule, ...] = field(default=(), metadata={READ_WITH: read_phrases})
    search_window: int = 10_000  # code points each side of the cursor that document searches look at (a few screens)
    history_limit: int = 100  # dictated phrases and undo steps kept per document
    lowercase_mid_sentence: bool = True  # drop the capital the recognizer gives a segment inserted mid-sentence
    language_model: bool = False  # a language model will execute "rewrite" plans
    drop_fillers: bool = True  # hesitations ("um", "э-э") are left out of dictation
    resolve_corrections: bool = True  # "X, actually Y" is written as Y when the two are of a kind
    write_addresses: bool = True  # spoken domains and e-mail addresses are written as addresses
    # spoken numbers, dates and times written as digits where a writer would ("twenty five percent" → "25%",
    # "March third" → "March 3", "at five pm" → "at 5 p.m."); small counts in prose stay words
    write_numbers: bool = True

    def check(self) -> None:
        for name in ("search_window", "history_limit"):
            if getattr(self, name) < 1:
                raise ValueError(f"intent.{name} must be a positive integer, not {getattr(self, name)!r}")


def intent_settings_from_dict(section: Mapping[str, Any] | None) -> IntentSettings:
    """Build settings from a parsed ``[intent]`` table; raises IntentSettingsError naming the bad key."""
    return build(IntentSettings, section, "intent")
