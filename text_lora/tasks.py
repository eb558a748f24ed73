"""Rewrite tasks: what each voice command asks of the model, its prompt and its sampling settings.

The prompts use Gemma's turn markers (present in every Gemma 3 vocabulary, also the pretrained base's), so
a task adapter is trained on exactly the text :func:`build_prompt` produces followed by the target and
``<end_of_turn>`` (:func:`training_text`); generation stops at ``<end_of_turn>``. The instruction is in
Russian when the text is mostly Cyrillic, so a Russian passage is rewritten in Russian ("перефразируй
это"), except for the two translation tasks, whose target language is fixed.

"continue" is different: it inserts at the cursor, and its prompt is the text before the cursor itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

START_OF_TURN = "<start_of_turn>"
END_OF_TURN = "<end_of_turn>"
# How much text before the cursor "continue" sees (code points).
CONTINUE_CONTEXT_CHARS = 2000


@dataclass(frozen=True)
class RewriteTask:
    """One rewrite command.

    ``replaces``: the result replaces "that" (the selection or the last dictated phrase); False for
    "continue", which inserts at the cursor. ``length_factor``: the output budget relative to the input
    (tokens ≈ code points / 3). ``min_p`` and ``temperature`` are the sampling settings for this task.
    """

    name: str
    instruction_en: str
    instruction_ru: str
    phrases: tuple[str, ...]  # what the user says, English and Russian (for the grammar and the docs)
    replaces: bool = True
    temperature: float = 0.7
    min_p: float = 0.1
    length_factor: float = 1.5
    min_new_tokens_budget: int = 32
    max_new_tokens_cap: int = 512

    def token_budget(self, text: str) -> int:
        estimate = int(len(text) / 3 * self.length_factor) + 16
        return max(self.min_new_tokens_budget, min(self.max_new_tokens_cap, estimate))


TASKS: dict[str, RewriteTask] = {t.name: t for t in (
    RewriteTask("rephrase", "Rephrase the text, keeping its meaning.", "Перефразируй текст, сохранив смысл.",
                ("rephrase that", "перефразируй это")),
    RewriteTask("formal", "Rewrite the text in a more formal style.", "Перепиши текст в более официальном стиле.",
                ("make that more formal", "сделай это официальнее")),
    RewriteTask("casual", "Rewrite the text in a more casual style.", "Перепиши текст в более разговорном стиле.",
                ("make that more casual", "сделай это проще")),
    RewriteTask("shorten", "Shorten the text, keeping what matters.", "Сократи текст, оставив главное.",
                ("shorten that", "сократи это"), length_factor=0.8),
    RewriteTask("expand", "Expand the text with more detail.", "Расширь текст, добавив подробностей.",
                ("expand that", "расширь это"), length_factor=2.5),
    RewriteTask("fix_grammar", "Fix the grammar and spelling of the text; change nothing else.",
                "Исправь грамматику и орфографию текста, ничего больше не меняя.",
                ("fix the grammar", "исправь грамматику"), temperature=0.2, length_factor=1.2),
    RewriteTask("list", "Turn the text into a bulleted list.", "Преврати текст в маркированный список.",
                ("turn that into a list", "сделай из этого список"), temperature=0.4),
    RewriteTask("summarize", "Summarize the text in a sentence or two.", "Кратко перескажи текст в одном-двух предложениях.",
                ("summarize that", "подытожь это"), length_factor=0.6),
    RewriteTask("translate_ru", "Translate the text into Russian.", "Переведи текст на русский язык.",
                ("translate that to Russian", "переведи это на русский"), temperature=0.3, length_factor=2.0),
    RewriteTask("translate_en", "Translate the text into English.", "Переведи текст на английский язык.",
                ("translate that to English", "переведи это на английский"), temperature=0.3, length_factor=2.0),
    RewriteTask("continue", "", "", ("continue", "keep going", "продолжай"), replaces=False, temperature=0.8,
                length_factor=0.0, min_new_tokens_budget=64, max_new_tokens_cap=64),
)}


class UnknownTaskError(KeyError):
    def __str__(self) -> str:
        return f"unknown rewrite task {self.args[0]!r}; known tasks: {', '.join(sorted(TASKS))}"


def get_task(name: str) -> RewriteTask:
    try:
        return TASKS[name]
    except KeyError:
        raise UnknownTaskError(name) from None


def is_mostly_cyrillic(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    cyrillic = sum(1 for c in letters if "\u0400" <= c <= "\u04ff")
    return cyrillic * 2 > len(letters)


def build_prompt(task: RewriteTask, text: str, *, context_before: str = "") -> str:
    """The prompt for ``task`` on ``text`` (for "continue", ``context_before`` is the text before the cursor).

    Does not include ``<bos>``: the tokenizer adds it.
    """
    if not task.replaces:
        return context_before[-CONTINUE_CONTEXT_CHARS:]
    if not text.strip():
        raise ValueError(f"there is no text to {task.name.replace('_', ' ')}")
    russian = is_mostly_cyrillic(text) and not task.name.startswith("translate_")
    instruction = task.instruction_ru if russian else task.instruction_en
    return f"{START_OF_TURN}user\n{instruction}\n\n{text}{END_OF_TURN}\n{START_OF_TURN}model\n"


def training_text(task: RewriteTask, text: str, target: str, *, context_before: str = "") -> str:
    """What a task adapter is trained on: the prompt, then the target, then the end of the turn."""
    end = END_OF_TURN if task.replaces else ""
    return build_prompt(task, text, context_before=context_before) + target + end


def clean_output(task: RewriteTask, raw: str) -> str:
    """The text to apply, from the model's raw output; rewrites are trimmed, a continuation is kept as is."""
    if task.replaces:
        return raw.strip()
    return raw


Scorer = Callable[[str, str], float]


def pick_best(source: str, candidates: Sequence[str], scorer: Scorer) -> tuple[int, tuple[float, ...]]:
    """The index of the best-scoring candidate (the first one on ties) and every score.

    ``scorer(source, candidate)``: higher is better (the persona work's writing-quality metric plugs in).
    Empty candidates score minus infinity.
    """
    if not candidates:
        raise ValueError("best-of-n needs at least one candidate")
    scores = tuple(float(scorer(source, c)) if c.strip() else float("-inf") for c in candidates)
    best = max(range(len(candidates)), key=lambda i: (scores[i], -i))
    return best, scores
