"""Open-ended commands: utterances the grammar did not match, classified by the language model.

Normal dictation must never pay for a model call, so the model is consulted only when all of these hold:

* the language model is already loaded (a dictated sentence never triggers loading it);
* the utterance is short (at most :data:`MAX_WORDS` words);
* it looks like an order to the editor (:func:`looks_like_command`): its first word is an imperative from
  a small English/Russian list (:data:`IMPERATIVES`), or it is addressed at "that/this/it/это/..."
  (such a word anywhere in it) *and* starts with "please/can you/пожалуйста/...".

The model answers one line of the output language, parsed strictly (:func:`parse_output_line`); a command
is then turned into the engine's command with its arguments and the phrase that says it
(:mod:`pushkin.daemon.intent.decided`) and planned by the intent engine like any spoken command — so the command registry decides, no free text is executed, and the
result is one undo group ("undo" reverts it). Anything else (a dictation answer, a line outside the
grammar, a phrase the grammar does not take) leaves the utterance as dictation, and the transcript stays in
the status history either way.
"""

from __future__ import annotations

import re

from pushkin.model.output_language import CommandOutput
from pushkin.text.units import words as text_words

from .intent.decided import UndecidableCommand, reading_of_command

MAX_WORDS = 8

IMPERATIVES = frozenset({
    # English
    "make", "turn", "change", "rewrite", "reword", "rephrase", "shorten", "expand", "fix", "correct",
    "translate", "summarize", "summarise", "delete", "remove", "erase", "select", "undo", "redo", "cancel",
    "clean", "tidy", "polish", "simplify", "improve", "convert", "put", "drop", "scrap", "scratch", "get",
    # Russian
    "сделай", "сделать", "перепиши", "переделай", "измени", "исправь", "поправь", "сократи", "укороти",
    "расширь", "переведи", "удали", "убери", "сотри", "выдели", "отмени", "верни", "упрости", "улучши",
    "преврати", "перефразируй", "замени",
})
_POLITE_OPENINGS = ("please ", "can you ", "could you ", "would you ", "пожалуйста ", "можешь ", "можете ")
_ADDRESSED = re.compile(r"\b(that|this|it|это|этот|эту|это всё|его|её)\b", re.IGNORECASE)

def looks_like_command(text: str) -> bool:
    """Whether an unmatched utterance is worth a model call (cheap; see the module docstring)."""
    spoken = " ".join(text.lower().strip(" .!?,;:…").split())
    words = text_words(spoken)
    if not words or len(words) > MAX_WORDS:
        return False
    if words[0] in IMPERATIVES:
        return True
    return spoken.startswith(_POLITE_OPENINGS) and _ADDRESSED.search(spoken) is not None


def phrase_for(command: CommandOutput) -> str | None:
    """The grammar phrase that names ``command`` (already parsed by the output language), or None when the
    engine cannot act on it as written."""
    try:
        return reading_of_command(command).phrase
    except UndecidableCommand:
        return None
