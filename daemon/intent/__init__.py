"""The intent engine: command or dictation, formatting, "that", undo/redo (pure Python, no model).

``IntentEngine`` implements :class:`pushkin.daemon.planning.EditPlanner`; ``intent_settings_from_dict``
reads the daemon config's ``[intent]`` section; ``run_offline`` backs ``pushkin say --offline``.
"""

from .commands import COMMANDS
from .engine import IntentEngine
from .grammar import BUILTIN_RULES, CommandMatch, Grammar, GrammarError, GrammarRule
from .settings import IntentSettings, IntentSettingsError, intent_settings_from_dict


def run_offline(args) -> int:
    """``pushkin say --offline``: see :mod:`pushkin.daemon.intent.offline`."""
    from .offline import run_offline as run

    return run(args)


__all__ = [
    "BUILTIN_RULES", "COMMANDS", "CommandMatch", "Grammar", "GrammarError", "GrammarRule", "IntentEngine",
    "IntentSettings", "IntentSettingsError", "intent_settings_from_dict", "run_offline",
]
