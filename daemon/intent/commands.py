"""The commands the intent engine runs, with the arguments each reads.

Apart from the engine so that the ``[intent]`` settings can check a user's phrase names a real command
without importing the engine (which imports the settings).
"""

from __future__ import annotations

from collections.abc import Mapping

# Every command the engine runs, with the arguments it reads (a user rule in the config names one).
COMMANDS: Mapping[str, str] = {
    "sleep": "", "wake": "", "dictation_mode": "", "command_mode": "",
    "undo": "", "redo": "", "scratch_that": "", "delete_that": "",
    "replace": "x, y", "replace_all": "x, y, scope (paragraph|document)", "delete_text": "x", "select_that": "", "select_all": "", "select_text": "x",
    "select_words": "direction (back|forward), count", "select_unit": "which (last|previous|this|next), unit (sentence|paragraph|line)",
    "unselect": "", "delete_words": "direction, count", "delete_unit": "which, unit", "backspace": "count",
    "go_to": "where (start|end)", "go_to_unit": "edge (start|end), unit", "move_words": "dir (left|right), count",
    "insert_at": "side (before|after), x", "format_that": "style (capitalize|upper|lower)",
    "new_line": "", "new_paragraph": "", "punctuation": "mark", "literal": "text",
    "rewrite": "task, lang", "dictate": "text", "stop": "", "read_that": "", "add_vocabulary": "",
    "pin_language": "lang (en|ru, or empty to detect)",
}
