"""Open dictation for the spoken training set: sentences composed from word lists, English and Russian.

A sentence is made of parts (a main clause, a place, a time, a second clause); the set speaks some of them
with a pause between parts. Every list is split once: every fourth entry is *held out*. Training sentences
draw only from the training entries; a held-out sentence draws from both and uses at least one held-out
entry, so no held-out sentence can occur in training and the adapter is scored on sentences it never heard.

Russian agrees: past verbs take the subject's gender and number (брат прочитал, сестра прочитала, дети
прочитали), present verbs its number (читает / читают), adjectives the noun's gender and case (новую книгу,
старый отчёт). Sentences that say command words as ordinary words ("The trial period ends in May.", "Type
your name in the first box.") come from their own templates, and the builder keeps only those the intent
engine reads as dictation.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

# Russian genders and number: m, f, n, pl. Past tense endings after the stem's "л".
_RU_PAST_ENDING = {"m": "", "f": "а", "n": "о", "pl": "и"}
_RU_FORMS = ("m", "f", "n", "pl")


@dataclass(frozen=True)
class Sentence:
    """A dictated sentence: its parts (spoken one after another; a pause may fall between two) and whether
    it draws on held-out entries. ``text`` is what should be typed."""

    language: str
    parts: tuple[str, ...]
    kind: str  # "dictation" or "command-words" (ordinary words the grammar also uses)
    held_out: bool

    @property
    def text(self) -> str:
        joined = " ".join(self.parts)
        return joined[0].upper() + joined[1:]


def split_held_out(items: Sequence) -> tuple[tuple, tuple]:
    """(training entries, held-out entries): every fourth entry, counting from the first, is held out."""
    return (tuple(item for i, item in enumerate(items) if i % 4 != 0),
            tuple(item for i, item in enumerate(items) if i % 4 == 0))


class _Slots:
    """Draws entries of named lists for one split; remembers whether a held-out entry was drawn."""

    def __init__(self, rng: random.Random, held_out: bool):
        self.rng = rng
        self.held_out = held_out
        self.used_held_out = False

    def pick(self, items: Sequence):
        train, held = split_held_out(items)
        if not self.held_out:
            return self.rng.choice(train)
        value = self.rng.choice(train + held)
        self.used_held_out |= value in held
        return value


# ------------------------------------------------------------------------------------------------ English

# (subject, singular?)
EN_SUBJECTS = (
    ("my brother", True), ("the old teacher", True), ("our neighbours", False), ("the children", False),
    ("Anna", True), ("the new editor", True), ("two students", False), ("the doctor", True),
    ("my parents", False), ("the captain", True), ("a young poet", True), ("the farmers", False),
    ("her sister", True), ("the whole team", True), ("the guests", False), ("my grandfather", True),
    ("the baker", True), ("our landlord", True), ("the twins", False), ("a tired driver", True),
    ("the nurses", False), ("Peter", True), ("his aunt", True), ("the musicians", False),
)
# (base, third person singular, past, object class); a class of None takes a place instead of an object.
EN_VERBS = (
    ("read", "reads", "read", "text"), ("write", "writes", "wrote", "text"), ("send", "sends", "sent", "text"),
    ("sign", "signs", "signed", "text"), ("fix", "fixes", "fixed", "thing"), ("paint", "paints", "painted", "thing"),
    ("sell", "sells", "sold", "thing"), ("carry", "carries", "carried", "thing"), ("cook", "cooks", "cooked", "food"),
    ("buy", "buys", "bought", "food"), ("share", "shares", "shared", "food"), ("find", "finds", "found", "thing"),
    ("walk", "walks", "walked", None), ("wait", "waits", "waited", None), ("sing", "sings", "sang", None),
    ("work", "works", "worked", None), ("rest", "rests", "rested", None), ("sleep", "sleeps", "slept", None),
)
EN_OBJECTS = {
    "text": ("the letter", "a long report", "the short poem", "an angry note", "the contract", "the old diary",
             "a postcard", "the minutes of the meeting", "the first chapter", "a love letter", "the invitation",
             "the weather forecast"),
    "thing": ("the bicycle", "a wooden chair", "the garden fence", "the kitchen lamp", "an old radio",
              "the blue boat", "a broken clock", "the front door", "a pair of boots", "the piano", "the red car",
              "a heavy suitcase"),
    "food": ("fresh bread", "a pot of soup", "the apples", "some cheese", "a lemon cake", "the fish",
             "a bag of cherries", "hot porridge", "the pancakes", "a jar of honey", "the strawberries", "rice"),
}
EN_PLACES = ("by the river", "in the garden", "at the station", "in the kitchen", "behind the school",
             "near the harbour", "in the library", "on the balcony", "at the market", "in the old park",
             "under the bridge", "at the office", "in the village", "on the train", "at the corner shop",
             "in the attic")
EN_TIMES = ("yesterday", "this morning", "last night", "on Monday", "after lunch", "before dawn",
            "last summer", "on Friday evening", "two days ago", "at noon", "in the spring", "on Sunday",
            "at midnight", "last week", "in October", "after the storm")
EN_FUTURE = ("tomorrow", "next week", "on Saturday", "after dinner", "in the evening", "next month", "soon",
             "on Thursday")
EN_HABITS = ("every morning", "on weekends", "twice a week", "every evening", "in winter", "most days",
             "on Tuesdays", "every summer")


def _en_object(slots: _Slots, verb) -> str:
    return slots.pick(EN_OBJECTS[verb[3]]) if verb[3] else slots.pick(EN_PLACES)


def _english(slots: _Slots) -> tuple[str, ...]:
    template = slots.rng.randrange(6)
    subject, singular = slots.pick(EN_SUBJECTS)
    verb = slots.pick(EN_VERBS)
    if template == 0:  # past + object + place
        return (f"{subject} {verb[2]} {_en_object(slots, verb)}", f"{slots.pick(EN_PLACES)}.")
    if template == 1:  # time first
        return (f"{slots.pick(EN_TIMES)},", f"{subject} {verb[2]} {_en_object(slots, verb)}.")
    if template == 2:  # present habit: the verb agrees with the subject
        present = verb[1] if singular else verb[0]
        return (f"{subject} {present} {_en_object(slots, verb)}", f"{slots.pick(EN_HABITS)}.")
    if template == 3:  # a question
        return (f"did {subject} {verb[0]} {_en_object(slots, verb)}", f"{slots.pick(EN_TIMES)}?")
    if template == 4:  # future
        return (f"{subject} will {verb[0]} {_en_object(slots, verb)}", f"{slots.pick(EN_FUTURE)}.")
    other, _ = slots.pick(EN_SUBJECTS)
    second = slots.pick(EN_VERBS)
    return (f"{subject} {verb[2]} {_en_object(slots, verb)},", f"and then {other} {second[2]} {_en_object(slots, second)}.")


# Ordinary English sentences that contain the grammar's words. Each is (parts with {slots}, slot lists).
_EN_PRODUCTS = ("shoes", "lamps", "jackets", "bicycles", "teapots", "notebooks", "chairs", "umbrellas")
_EN_COMMAND_WORDS: tuple[tuple[str, ...], ...] = (
    ("the {period} period ends", "{future}."),
    ("our new line of {product}", "sells well {place}."),
    ("type your name", "in the {ordinal} box."),
    ("{subject} could not stop laughing", "{time}."),
    ("{subject} deleted the old photos", "{time}."),
    ("{subject} wants to undo the {damage}.",),
    ("the next paragraph of the {document}", "is far too long."),
    ("{subject} will select the best {product}", "{future}."),
    ("please make that call", "before noon."),
    ("we need a new paragraph", "about the {topic}."),
    ("{subject} woke up early", "{time}."),
    ("{subject} asked us to go to sleep", "before ten."),
    ("the colon of the {document}", "was in the wrong place."),
    ("{subject} had to rewrite the {document}", "{time}."),
    ("{subject} made that {document} shorter", "{time}."),
    ("the last word of the {document}", "was spelled wrong."),
    ("{subject} tried to scratch that itch", "all day."),
)
_EN_FILLERS = {
    "period": ("trial", "grace", "waiting", "notice", "billing", "warranty", "probation", "holiday"),
    "product": _EN_PRODUCTS, "time": EN_TIMES, "place": EN_PLACES, "future": EN_FUTURE,
    "ordinal": ("first", "second", "third", "last", "top", "bottom"),
    "subject": tuple(s for s, _ in EN_SUBJECTS),
    "damage": ("damage", "changes", "knot", "mess", "deal", "harm"),
    "document": ("report", "letter", "essay", "speech", "contract", "story", "chapter", "review"),
    "topic": ("budget", "trip", "school", "harvest", "election", "museum", "river", "festival"),
}


# ------------------------------------------------------------------------------------------------ Russian

# Adjectives: nominative m, f, n, pl; accusative for inanimate nouns m, f, n, pl.
RU_ADJECTIVES = {
    "старый": (("старый", "старая", "старое", "старые"), ("старый", "старую", "старое", "старые")),
    "новый": (("новый", "новая", "новое", "новые"), ("новый", "новую", "новое", "новые")),
    "мой": (("мой", "моя", "моё", "мои"), ("мой", "мою", "моё", "мои")),
    "наш": (("наш", "наша", "наше", "наши"), ("наш", "нашу", "наше", "наши")),
    "младший": (("младший", "младшая", "младшее", "младшие"), ("младший", "младшую", "младшее", "младшие")),
    "красный": (("красный", "красная", "красное", "красные"), ("красный", "красную", "красное", "красные")),
    "большой": (("большой", "большая", "большое", "большие"), ("большой", "большую", "большое", "большие")),
    "длинный": (("длинный", "длинная", "длинное", "длинные"), ("длинный", "длинную", "длинное", "длинные")),
}
_HUMAN_ADJECTIVES = ("старый", "новый", "мой", "наш", "младший")
_THING_ADJECTIVES = ("старый", "новый", "мой", "наш", "красный", "большой", "длинный")
# Subjects: (nominative, gender); a name takes no adjective.
RU_SUBJECTS = (
    ("брат", "m"), ("сестра", "f"), ("учитель", "m"), ("соседка", "f"), ("дети", "pl"), ("родители", "pl"),
    ("Анна", "f"), ("врач", "m"), ("бабушка", "f"), ("студенты", "pl"), ("Иван", "m"), ("подруга", "f"),
    ("директор", "m"), ("соседи", "pl"), ("Мария", "f"), ("отец", "m"), ("дочь", "f"), ("гости", "pl"),
    ("дедушка", "m"), ("Пётр", "m"),
)
_RU_NAMES = frozenset({"Анна", "Иван", "Мария", "Пётр"})
# Transitive verbs: (past stem before "л", or the four past forms; present 3sg, 3pl; object class).
RU_VERBS = (
    ("прочита", ("читает", "читают"), "text"), ("написа", ("пишет", "пишут"), "text"),
    ("отправи", ("отправляет", "отправляют"), "text"), ("подписа", ("подписывает", "подписывают"), "text"),
    ("почини", ("чинит", "чинят"), "thing"), ("покраси", ("красит", "красят"), "thing"),
    ("прода", ("продаёт", "продают"), "thing"), (("нашёл", "нашла", "нашло", "нашли"), ("ищет", "ищут"), "thing"),
    ("купи", ("покупает", "покупают"), "food"), ("приготови", ("готовит", "готовят"), "food"),
    (("принёс", "принесла", "принесло", "принесли"), ("приносит", "приносят"), "food"),
)
# Intransitive past verbs (they take a place).
RU_MOTION = (("гуля",), ("работа",), ("отдыха",), ("жда",), (("пошёл", "пошла", "пошло", "пошли"),),
             ("пе",), ("спа",), ("сиде",))
# Objects: (accusative noun, gender) of inanimate nouns, by class.
RU_OBJECTS = {
    "text": (("письмо", "n"), ("книгу", "f"), ("отчёт", "m"), ("статью", "f"), ("записку", "f"),
             ("договор", "m"), ("стихи", "pl"), ("открытку", "f"), ("приглашение", "n"), ("главу", "f"),
             ("дневник", "m"), ("объявление", "n")),
    "thing": (("велосипед", "m"), ("стул", "m"), ("забор", "m"), ("лампу", "f"), ("радио", "n"),
              ("лодку", "f"), ("часы", "pl"), ("дверь", "f"), ("сапоги", "pl"), ("пианино", "n"),
              ("машину", "f"), ("чемодан", "m")),
    "food": (("хлеб", "m"), ("суп", "m"), ("яблоки", "pl"), ("сыр", "m"), ("пирог", "m"), ("рыбу", "f"),
             ("вишню", "f"), ("кашу", "f"), ("блины", "pl"), ("мёд", "m"), ("клубнику", "f"), ("варенье", "n")),
}
RU_PLACES = ("у реки", "в саду", "на вокзале", "на кухне", "за школой", "в порту", "в библиотеке", "на балконе",
             "на рынке", "в старом парке", "под мостом", "в офисе", "в деревне", "в поезде", "на даче", "на чердаке")
RU_TIMES = ("вчера", "сегодня утром", "вчера вечером", "в понедельник", "после обеда", "на рассвете",
            "прошлым летом", "в пятницу вечером", "два дня назад", "в полдень", "весной", "в воскресенье",
            "в полночь", "на прошлой неделе", "в октябре", "после грозы")
RU_HABITS = ("каждое утро", "по выходным", "два раза в неделю", "каждый вечер", "зимой", "почти каждый день",
             "по вторникам", "каждое лето")


def ru_past(verb: str | tuple[str, ...], gender: str) -> str:
    """The past form that agrees with a subject of ``gender`` (m, f, n, pl): прочита + f → прочитала."""
    if isinstance(verb, tuple):
        return verb[_RU_FORMS.index(gender)]
    return f"{verb}л{_RU_PAST_ENDING[gender]}"


def ru_present(forms: tuple[str, str], gender: str) -> str:
    """The third-person present form for a subject of ``gender``: plural subjects take the plural."""
    return forms[1] if gender == "pl" else forms[0]


def ru_noun_phrase(noun: str, gender: str, adjective: str | None, *, accusative: bool) -> str:
    """``adjective`` (a key of RU_ADJECTIVES) agreeing with ``noun``: ("книгу", f, новый, acc) → "новую книгу"."""
    if adjective is None:
        return noun
    forms = RU_ADJECTIVES[adjective][1 if accusative else 0]
    return f"{forms[_RU_FORMS.index(gender)]} {noun}"


def _ru_subject(slots: _Slots) -> tuple[str, str]:
    noun, gender = slots.pick(RU_SUBJECTS)
    if noun in _RU_NAMES or slots.rng.random() < 0.4:
        return noun, gender
    return ru_noun_phrase(noun, gender, slots.pick(_HUMAN_ADJECTIVES), accusative=False), gender


def _ru_object(slots: _Slots, kind: str) -> str:
    noun, gender = slots.pick(RU_OBJECTS[kind])
    adjective = slots.pick(_THING_ADJECTIVES) if slots.rng.random() < 0.5 else None
    return ru_noun_phrase(noun, gender, adjective, accusative=True)


def _russian(slots: _Slots) -> tuple[str, ...]:
    template = slots.rng.randrange(5)
    subject, gender = _ru_subject(slots)
    stem, present, kind = slots.pick(RU_VERBS)
    if template == 0:
        return (f"{subject} {ru_past(stem, gender)} {_ru_object(slots, kind)}", f"{slots.pick(RU_PLACES)}.")
    if template == 1:
        return (slots.pick(RU_TIMES), f"{subject} {ru_past(stem, gender)} {_ru_object(slots, kind)}.")
    if template == 2:
        return (f"{subject} {ru_present(present, gender)} {_ru_object(slots, kind)}", f"{slots.pick(RU_HABITS)}.")
    if template == 3:
        (motion,) = slots.pick(RU_MOTION)
        return (f"{subject} {ru_past(motion, gender)} {slots.pick(RU_PLACES)}", f"{slots.pick(RU_TIMES)}.")
    other, other_gender = _ru_subject(slots)
    other_stem, _, other_kind = slots.pick(RU_VERBS)
    return (f"{subject} {ru_past(stem, gender)} {_ru_object(slots, kind)},",
            f"а потом {other} {ru_past(other_stem, other_gender)} {_ru_object(slots, other_kind)}.")


_RU_COMMAND_WORDS: tuple[tuple[str, ...], ...] = (
    ("новая строка кода", "появилась {time}."),
    ("это важная точка зрения", "для {whom}."),
    ("{subject} {удалил} старые фотографии", "{time}."),
    ("{subject} {отменил} поездку", "{time}."),
    ("нужно выделить время", "на {task}."),
    ("{subject} не {мог} остановиться", "{time}."),
    ("новый абзац начинается", "со слов о {topic}."),
    ("{subject} {попросил} продолжать работу.",),
    ("последнее слово", "осталось за {whom_instr}."),
    ("{subject} {сделал} это быстрее всех", "{time}."),
)
_RU_FILLERS = {
    "time": RU_TIMES,
    "whom": ("нашей семьи", "всего класса", "моего брата", "этого города", "наших соседей", "каждого читателя"),
    "whom_instr": ("бабушкой", "директором", "моей сестрой", "гостями", "учителем", "соседями"),
    "task": ("ремонт", "поездку", "уборку", "учёбу", "отдых", "переезд"),
    "topic": ("море", "детстве", "войне", "любви", "деревне", "работе"),
}
# Past verbs said in the command-word templates, agreeing with the subject.
_RU_TEMPLATE_VERBS: dict[str, str | tuple[str, ...]] = {"удалил": "удали", "отменил": "отмени", "мог": ("мог", "могла", "могло", "могли"),
                      "попросил": "попроси", "сделал": "сдела"}


def _fill(template: tuple[str, ...], slots: _Slots, fillers: dict, subject: tuple[str, str] | None) -> tuple[str, ...]:
    values: dict[str, str] = {}
    for part in template:
        for name in _slot_names(part):
            if name == "subject" and subject is not None:
                values[name] = subject[0]
            elif name in _RU_TEMPLATE_VERBS and subject is not None:
                values[name] = ru_past(_RU_TEMPLATE_VERBS[name], subject[1])
            elif name not in values:
                values[name] = slots.pick(fillers[name])
    return tuple(part.format(**values) for part in template)


def _slot_names(part: str) -> list[str]:
    return [piece.split("}")[0] for piece in part.split("{")[1:]]


def generate_sentence(language: str, rng: random.Random, *, held_out: bool, command_words: bool = False) -> Sentence:
    """One sentence in ``language`` ("en"/"ru") for a split; with ``command_words``, one that says grammar
    words as ordinary words. A held-out sentence always uses at least one held-out entry."""
    while True:
        slots = _Slots(rng, held_out)
        if command_words:
            templates = _EN_COMMAND_WORDS if language == "en" else _RU_COMMAND_WORDS
            fillers = _EN_FILLERS if language == "en" else _RU_FILLERS
            template = rng.choice(templates)
            subject = _ru_subject(slots) if language == "ru" else None
            parts = _fill(template, slots, fillers, subject)
        else:
            parts = _english(slots) if language == "en" else _russian(slots)
        if held_out and not slots.used_held_out:
            continue  # draw again: a held-out sentence must hold something training never had
        return Sentence(language, parts, "command-words" if command_words else "dictation", held_out)
