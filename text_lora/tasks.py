"""Rewrite tasks: what each voice command asks of the model, its prompt and its sampling settings.

The prompts are few-shot completions a pretrained base can follow (the base does not know a chat turn
format: ``<end_of_turn>`` ranks about 107,000th after Gemma 3 270M's first answer). Each prompt is the
task's instruction, two worked examples and the user's text, in blocks::

    Text:
    <source>
    Result:
    <rewritten source>

separated by a blank line; the model continues after the last ``Result:`` line and generation stops at the
blank line or a new ``Text:`` (:func:`stop_strings`). A task adapter is trained on exactly that prompt
followed by the target and the blank line (:func:`training_text`, :data:`COMPLETION_END`), so adapters and
the bare base read the same prompt. The instruction and the examples are in Russian when the text is mostly
Cyrillic, so a Russian passage is rewritten in Russian ("перефразируй это"), except for the two translation
tasks, whose target language is fixed.

"continue" is different: it inserts at the cursor, and its prompt is the text before the cursor itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

START_OF_TURN = "<start_of_turn>"
END_OF_TURN = "<end_of_turn>"
# The block labels of the few-shot format, by the prompt's language.
LABELS = {"en": ("Text:", "Result:"), "ru": ("Текст:", "Результат:")}
# What ends a rewrite in the few-shot format (and a task adapter's training target).
COMPLETION_END = "\n\n"
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


# Two worked examples per task and language: (source, result). Short, plain and unlike each other, so the
# base copies the format, not the content.
EXAMPLES: dict[str, dict[str, tuple[tuple[str, str], ...]]] = {
    "rephrase": {
        "en": (("The meeting was moved to Friday because the manager was ill.",
                "Because the manager was ill, the meeting was moved to Friday."),
               ("She rarely speaks, but when she does, everyone listens.",
                "She seldom talks, yet everyone pays attention when she does.")),
        "ru": (("Встречу перенесли на пятницу, потому что начальник заболел.",
                "Из-за болезни начальника встречу перенесли на пятницу."),
               ("Она говорит редко, но её всегда слушают.",
                "Она немногословна, однако к ней всегда прислушиваются.")),
    },
    "formal": {
        "en": (("hey, can you send me the report asap?", "Could you please send me the report as soon as possible?"),
               ("we gotta fix this before friday.", "We need to resolve this before Friday.")),
        "ru": (("слушай, скинь мне отчёт поскорее.", "Пожалуйста, пришлите мне отчёт как можно скорее."),
               ("надо это починить до пятницы.", "Это необходимо исправить до пятницы.")),
    },
    "casual": {
        "en": (("Please submit the documents at your earliest convenience.", "Send the papers over when you can."),
               ("The event has been postponed until further notice.", "The party's off for now.")),
        "ru": (("Просим вас предоставить документы в кратчайшие сроки.", "Скиньте документы, как сможете."),
               ("Мероприятие отложено до особого уведомления.", "Праздник пока откладывается.")),
    },
    "shorten": {
        "en": (("In spite of the fact that it was raining very heavily, we decided that we would go out for a walk.",
                "Despite the heavy rain, we went for a walk."),
               ("At this point in time, the committee has not yet reached any kind of final decision.",
                "The committee has not decided yet.")),
        "ru": (("Несмотря на то что шёл очень сильный дождь, мы всё-таки решили пойти на прогулку.",
                "Несмотря на ливень, мы пошли гулять."),
               ("На данный момент комиссия ещё не пришла ни к какому окончательному решению.",
                "Комиссия пока не решила.")),
    },
    "expand": {
        "en": (("The house was old.", "The house was old: its paint was peeling and the porch creaked underfoot."),
               ("He missed the train.", "He reached the platform just as the doors closed, and the train left without him.")),
        "ru": (("Дом был старый.", "Дом был старый: краска облупилась, а крыльцо скрипело под ногами."),
               ("Он опоздал на поезд.", "Он добежал до платформы, когда двери уже закрылись, и поезд ушёл без него.")),
    },
    "fix_grammar": {
        "en": (("She dont like the movies what we seen.", "She doesn't like the movies that we saw."),
               ("Their going too the store tomorow.", "They're going to the store tomorrow.")),
        "ru": (("Он одел пальто и пошол на улицу.", "Он надел пальто и пошёл на улицу."),
               ("Мы долго не виделись, по этому я скучал.", "Мы долго не виделись, поэтому я скучал.")),
    },
    "list": {
        "en": (("Buy milk, call the bank and water the plants.", "- Buy milk\n- Call the bank\n- Water the plants"),
               ("The plan has two parts: hire staff and find an office.", "- Hire staff\n- Find an office")),
        "ru": (("Купить молоко, позвонить в банк и полить цветы.", "- Купить молоко\n- Позвонить в банк\n- Полить цветы"),
               ("В плане два пункта: нанять людей и найти офис.", "- Нанять людей\n- Найти офис")),
    },
    "summarize": {
        "en": (("The storm knocked out power across the city for two days. Schools closed, and crews worked through "
                "the night to restore electricity.", "A storm cut the city's power for two days."),
               ("Sales rose in spring, fell in summer and recovered by winter, ending the year slightly up.",
                "Sales ended the year slightly up after a summer dip.")),
        "ru": (("Шторм оставил город без света на два дня. Школы закрылись, а бригады работали всю ночь, чтобы "
                "восстановить электричество.", "Шторм на два дня оставил город без света."),
               ("Продажи выросли весной, упали летом и восстановились к зиме, закончив год с небольшим ростом.",
                "Год закончился небольшим ростом продаж после летнего спада.")),
    },
    "translate_ru": {
        "en": (("The cat is sleeping on the chair.", "Кошка спит на стуле."),
               ("We will meet at the station at noon.", "Мы встретимся на вокзале в полдень.")),
    },
    "translate_en": {
        "en": (("Кошка спит на стуле.", "The cat is sleeping on the chair."),
               ("Мы встретимся на вокзале в полдень.", "We will meet at the station at noon.")),
    },
}


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


def prompt_language(task: RewriteTask, text: str) -> str:
    """"ru" or "en": the language of the prompt's instruction and examples for ``text``."""
    if task.name.startswith("translate_"):
        return "en"  # the instruction names the target language; the examples show both
    return "ru" if is_mostly_cyrillic(text) else "en"


def output_language(task: RewriteTask, text: str) -> str:
    """"ru" or "en": the language a good result is in."""
    if task.name == "translate_ru":
        return "ru"
    if task.name == "translate_en":
        return "en"
    return "ru" if is_mostly_cyrillic(text) else "en"


def build_prompt(task: RewriteTask, text: str, *, context_before: str = "") -> str:
    """The few-shot prompt for ``task`` on ``text`` (for "continue", ``context_before`` is the text before the
    cursor). Does not include ``<bos>``: the tokenizer adds it."""
    if not task.replaces:
        return context_before[-CONTINUE_CONTEXT_CHARS:]
    if not text.strip():
        raise ValueError(f"there is no text to {task.name.replace('_', ' ')}")
    language = prompt_language(task, text)
    source_label, result_label = LABELS[language]
    instruction = task.instruction_ru if language == "ru" else task.instruction_en
    examples = EXAMPLES[task.name][language]
    blocks = [instruction]
    blocks += [f"{source_label}\n{source}\n{result_label}\n{result}" for source, result in examples]
    blocks.append(f"{source_label}\n{text.strip()}\n{result_label}\n")
    return COMPLETION_END.join(blocks)


def stop_strings(task: RewriteTask) -> tuple[str, ...]:
    """Where a rewrite ends: the blank line after the result, or the model starting a new example."""
    if not task.replaces:
        return ()
    return (COMPLETION_END,) + tuple(f"\n{labels[0]}" for labels in LABELS.values())


def completion_end(task: RewriteTask) -> str:
    """What follows a task adapter's training target: the blank line (nothing for "continue")."""
    return COMPLETION_END if task.replaces else ""


def training_text(task: RewriteTask, text: str, target: str, *, context_before: str = "") -> str:
    """What a task adapter is trained on: the prompt, then the target, then the blank line."""
    return build_prompt(task, text, context_before=context_before) + target + completion_end(task)


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
