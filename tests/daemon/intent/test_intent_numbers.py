"""Numbers, dates and times in dictation written as a writer would (issue 13 item 4), English and Russian."""

from __future__ import annotations

import pytest
from intent_markers import run

from pushkin.daemon.intent import IntentEngine, intent_settings_from_dict
from pushkin.daemon.intent.cleanup import clean_dictation
from pushkin.daemon.intent.numbers import write_numbers

NBSP = "\u00a0"

WRITTEN = [
    # quantities of 10 or more, percent, currency, units
    ("We invited twenty five people.", "We invited 25 people."),
    ("We invited twenty-five people.", "We invited 25 people."),
    ("That is twenty five percent of it.", "That is 25% of it."),
    ("Only five per cent agreed.", "Only 5% agreed."),
    ("It was ninety-nine percent done.", "It was 99% done."),
    ("Growth was 5 percent.", "Growth was 5%."),
    ("It costs two hundred and fifty dollars.", "It costs $250."),
    ("It costs five dollars.", "It costs $5."),
    ("The price is twenty dollars and fifty cents.", "The price is $20.50."),
    ("It costs 1,000 dollars and 5 cents.", "It costs $1,000.05."),
    ("Between twenty to thirty people.", "Between 20 to 30 people."),
    ("A prize of five million dollars.", "A prize of $5 million."),
    ("About two thousand five hundred people.", "About 2,500 people."),
    ("We sold one hundred units.", "We sold 100 units."),
    ("I ran five kilometers.", "I ran 5 kilometers."),
    ("Keep six feet apart.", "Keep 6 feet apart."),
    ("It costs one dollar.", "It costs $1."),
    ("The total was seven thousand eight hundred ninety one.", "The total was 7,891."),
    # dates
    ("The launch is on March third twenty twenty six.", "The launch is on March 3, 2026."),
    ("The launch is on March third.", "The launch is on March 3."),
    ("On March third, we met.", "On March 3, we met."),
    ("On the second of June, twenty twenty six, it rained.", "On June 2, 2026, it rained."),
    ("It is on the fifth of May.", "It is on May 5."),
    ("It is on the twenty first of June twenty twenty six.", "It is on June 21, 2026."),
    ("Born on July fourth nineteen ninety nine, he", "Born on July 4, 1999, he"),
    ("We met on March 3 twenty twenty six.", "We met on March 3, 2026."),
    ("It opened in March twenty twenty six.", "It opened in March 2026."),
    ("Due January first two thousand and five.", "Due January 1, 2005."),
    ("Built in October nineteen oh five.", "Built in October 1905."),
    # times
    ("Meet me at five pm.", "Meet me at 5 p.m."),
    ("Meet me at three thirty pm.", "Meet me at 3:30 p.m."),
    ("Meet me at 5 PM.", "Meet me at 5 p.m."),
    ("Meet me at 5pm, then go.", "Meet me at 5 p.m., then go."),
    ("Breakfast at seven oh five am.", "Breakfast at 7:05 a.m."),
    ("See you at seven thirty.", "See you at 7:30."),
    ("Call by eleven forty five.", "Call by 11:45."),
    # Russian: inflected numerals, dates, times
    ("Было двадцать пять человек.", "Было 25 человек."),
    ("Это двадцать пять процентов.", f"Это 25{NBSP}%."),
    ("Около двадцати пяти процентов.", f"Около 25{NBSP}%."),
    ("Расплатился двадцатью пятью рублями.", "Расплатился 25 рублями."),
    ("Я пробежал пять километров.", "Я пробежал 5 километров."),
    ("Это стоит сто двадцать тысяч рублей.", f"Это стоит 120{NBSP}000 рублей."),
    ("Пришло двенадцать тысяч пятьсот человек.", f"Пришло 12{NBSP}500 человек."),
    ("Стоит восемьсот восемьдесят восемь рублей.", "Стоит 888 рублей."),
    ("Встретимся третьего марта две тысячи двадцать шестого года.", "Встретимся 3 марта 2026 года."),
    ("Встретимся пятого мая.", "Встретимся 5 мая."),
    ("Двадцать первого июня жарко.", "21 июня жарко."),
    ("Это было в две тысячи двадцать шестом году.", "Это было в 2026 году."),
    ("Это было в двухтысячном году.", "Это было в 2000 году."),
    ("Это было в тысяча девятьсот девяносто девятом году.", "Это было в 1999 году."),
    ("Встречаемся в семь тридцать.", "Встречаемся в 7:30."),
    ("Поезд в семнадцать ноль-ноль.", "Поезд в 17:00."),
    ("Приходи к девяти часам пятнадцати минутам.", "Приходи к 9:15."),
    ("Начало в девять часов пятнадцать минут.", "Начало в 9:15."),
]

KEPT = [  # what a writer leaves in words, and what is already written
    "I have two cats.",
    "The one I like is blue.",
    "She is one of a kind.",
    "They were at sixes and sevens.",
    "Say one two three.",
    "Count eleven twelve thirteen.",
    "Twenty five people came.",  # a sentence does not open with digits
    "We watched Ocean's Eleven.",
    "See you at five.",
    "See you at ten.",
    "Let's meet at ten o'clock.",
    "Meet at half past two.",
    "It is ten to one he is late.",
    "Leave at twenty past two.",
    "Приходи без двадцати пять.",
    "Я уверен на все сто.",
    "He is six feet under.",
    "She has one foot in the grave.",
    "We walked one mile.",
    "Give a hundred and ten percent.",
    "It is the twenty first century.",
    "He has twenty twenty vision.",
    "Someone said so.",
    "May I go?",
    "I paid $250 for 3 items, 25% off, on March 3, 2026 at 10:30.",
    "Meet me at 5 p.m.",
    "Wait a second.",
    "У меня два кота.",
    "Один из них ушёл.",
    "Встречаемся в пять часов.",
    "Я люблю свою семью.",
    "Тысячи людей пришли.",
    "Пять километров — это много.",
    "Встретимся 3 марта 2026 года.",
]


@pytest.mark.parametrize("said, written", WRITTEN, ids=[c[0] for c in WRITTEN])
def test_numbers_are_written_as_a_writer_would(said, written):
    assert write_numbers(said) == written


@pytest.mark.parametrize("said", KEPT)
def test_numbers_a_writer_spells_out_are_kept(said):
    assert write_numbers(said) == said


@pytest.mark.parametrize("said, written", WRITTEN, ids=[c[0] for c in WRITTEN])
def test_writing_twice_changes_nothing_more(said, written):
    assert write_numbers(written) == written


def test_line_breaks_around_a_number_are_kept():
    assert write_numbers("first line\nтретьего марта\n\nend") == "first line\n3 марта\n\nend"


def test_a_correction_is_resolved_before_the_number_is_written():
    assert clean_dictation("Meet at three pm, actually four pm.", fillers=True,
                           corrections=True) == "Meet at 4 p.m."
    assert clean_dictation("We need twenty five percent.", fillers=True, corrections=True,
                           numbers=False) == "We need twenty five percent."


def test_dictation_through_the_engine_writes_numbers():
    editor, _ = run("", ["Um, we invited twenty five people on March third twenty twenty six at five pm."])
    assert editor.text == "We invited 25 people on March 3, 2026 at 5 p.m."
    editor, _ = run("", ["Встретимся третьего марта в семь тридцать."])
    assert editor.text == "Встретимся 3 марта в 7:30."


def test_writing_numbers_can_be_switched_off():
    engine = IntentEngine(intent_settings_from_dict({"write_numbers": False}))
    editor, _ = run("", ["We invited twenty five people at five pm."], engine)
    assert editor.text == "We invited twenty five people at five pm."
