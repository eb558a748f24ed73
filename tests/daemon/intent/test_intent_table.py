"""The intent engine, case by case: a document (‸ cursor, ⟦ ⟧ selection), utterances, the expected result.

An expected value with a marker also checks where the cursor or selection ends; without one, only the text.
Every utterance goes through the same plan/applied protocol the daemon uses (offline.run_utterances).
"""

from __future__ import annotations

import pytest

from intent_markers import CLOSE, CURSOR, OPEN, parse, render, run

CASES = [
    # ---- dictation formatting ------------------------------------------------------------------
    ("start of document", "", ["hello world"], "Hello world‸"),
    ("mid-text insertion", "Hello‸ world", ["big"], "Hello big‸ world"),
    ("insertion before a word", "Hello ‸world", ["big"], "Hello big‸ world"),
    ("append after a word", "Hello‸", ["world"], "Hello world‸"),
    ("after a sentence end", "Hello world.‸", ["this is next"], "Hello world. This is next‸"),
    ("after question mark", "Is it?‸", ["yes"], "Is it? Yes‸"),
    ("after exclamation", "Wow!‸", ["great"], "Wow! Great‸"),
    ("after closing quote and period", 'He said "no."‸', ["then he left"], 'He said "no." Then he left‸'),
    ("after a space already there", "Hello ‸", ["world"], "Hello world‸"),
    ("Whisper's leading space trimmed", "", ["  Hello there."], "Hello there.‸"),
    ("Whisper's punctuation kept", "One.‸", [" Two, three."], "One. Two, three.‸"),
    ("Whisper's capitals kept mid sentence", "We met‸", ["NASA engineers"], "We met NASA engineers‸"),
    ("mixed case not changed at start", "", ["iPhone sales"], "iPhone sales‸"),
    ("selection replaced", "Hello ⟦big⟧ world", ["small"], "Hello small‸ world"),
    ("selection at start replaced, capitalized", "⟦old⟧ text", ["new"], "New‸ text"),
    ("after new line capitalized", "Line\n‸", ["next"], "Line\nNext‸"),
    ("after paragraph capitalized", "Para.\n\n‸", ["next one"], "Para.\n\nNext one‸"),
    ("inside parentheses no space", "Say (‸", ["this"], "Say (this‸"),
    ("before a comma no trailing space", "Hello‸, world", ["there"], "Hello there‸, world"),
    # spoken punctuation inside dictation
    ("comma inside dictation", "", ["hello comma world"], "Hello, world‸"),
    ("period ends sentence and capitalizes", "", ["one period two"], "One. Two‸"),
    ("full stop", "", ["done full stop"], "Done.‸"),
    ("question mark", "", ["really question mark"], "Really?‸"),
    ("exclamation mark", "", ["stop exclamation mark"], "Stop!‸"),
    ("exclamation point", "", ["go exclamation point"], "Go!‸"),
    ("colon", "", ["note colon read this"], "Note: read this‸"),
    ("semicolon", "", ["first semicolon second"], "First; second‸"),
    ("quotes", "", ["he said open quote hi close quote"], 'He said "hi"‸'),
    ("parentheses", "", ["a note open paren aside close paren"], "A note (aside)‸"),
    ("dash is a spaced em dash", "", ["wait dash what"], "Wait — what‸"),
    ("hyphen joins", "", ["well hyphen known"], "Well-known‸"),
    ("new line inside dictation", "", ["line one new line line two"], "Line one\nLine two‸"),
    ("new paragraph inside dictation", "", ["first new paragraph second"], "First\n\nSecond‸"),
    ("Whisper's commas around a spoken comma dropped", "", ["Hello, comma, world."], "Hello, world.‸"),
    ("Whisper's period after spoken period dropped", "", ["The end period."], "The end.‸"),
    # spoken punctuation as its own utterance
    ("comma alone", "Hello‸", ["comma"], "Hello,‸"),
    ("comma alone after a typed space", "Hello ‸", ["Comma."], "Hello,‸"),
    ("period alone then dictation", "Hello‸", ["period", "next"], "Hello. Next‸"),
    ("question mark alone", "Why‸", ["question mark"], "Why?‸"),
    ("colon alone", "Items‸", ["colon"], "Items:‸"),
    ("semicolon alone", "One‸", ["semicolon"], "One;‸"),
    ("open and close quote alone", "He said‸", ["open quote", "hi", "close quote", "period"], 'He said "hi".‸'),
    ("open and close paren alone", "See‸", ["open paren", "below", "close paren"], "See (below)‸"),
    ("dash alone", "Yes‸", ["dash", "no"], "Yes — no‸"),
    ("new line alone", "Text‸", ["new line", "more"], "Text\nMore‸"),
    ("new paragraph alone", "Text‸", ["New paragraph.", "more"], "Text\n\nMore‸"),
    ("new line pulls back a trailing space", "Text ‸", ["new line"], "Text\n‸"),
    # ---- Russian formatting --------------------------------------------------------------------
    ("ru start of document", "", ["привет мир"], "Привет мир‸"),
    ("ru comma and period", "", ["привет запятая мир точка"], "Привет, мир.‸"),
    ("ru question mark", "Привет.‸", ["как дела вопросительный знак"], "Привет. Как дела?‸"),
    ("ru exclamation", "", ["ура восклицательный знак"], "Ура!‸"),
    ("ru semicolon before period", "", ["раз точка с запятой два"], "Раз; два‸"),
    ("ru colon", "", ["итак двоеточие всё"], "Итак: всё‸"),
    ("ru guillemets", "", ["он сказал открыть кавычки да закрыть кавычки"], "Он сказал «да»‸"),
    ("ru dash", "", ["да тире нет"], "Да — нет‸"),
    ("ru точка зрения is not a mark", "", ["моя точка зрения"], "Моя точка зрения‸"),
    ("ru new line", "", ["первая новая строка вторая"], "Первая\nВторая‸"),
    ("ru new paragraph alone", "Конец.‸", ["новый абзац", "начало"], "Конец.\n\nНачало‸"),
    ("ru ё capitalized", "", ["ёлка"], "Ёлка‸"),
    ("ru mid insertion", "Привет‸ мир", ["добрый"], "Привет добрый‸ мир"),
    ("ru comma alone", "Да‸", ["запятая"], "Да,‸"),
    ("ru period alone", "Да‸", ["Точка."], "Да.‸"),
    # ---- Unicode --------------------------------------------------------------------------------
    ("emoji before cursor", "Привет 👋‸", ["мир"], "Привет 👋 мир‸"),
    ("emoji at start not capitalized", "", ["😀 hello"], "😀 hello‸"),
    ("accented word", "Café‸", ["au lait"], "Café au lait‸"),
    ("combining mark kept", "Cafe\u0301‸", ["noir"], "Cafe\u0301 noir‸"),
    ("backspace removes a letter with its combining mark", "Cafe\u0301‸", ["backspace"], "Caf‸"),
    ("backspace removes a joined emoji", "hi 👨\u200d👩\u200d👧‸", ["backspace"], "hi ‸"),
    ("offsets are code points", "👋 one two‸", ["select previous word"], "👋 one ⟦two⟧"),
    ("replace next to emoji", "🙂 cat 🙂‸", ["replace cat with dog"], "🙂 dog‸ 🙂"),
    # ---- modes ----------------------------------------------------------------------------------
    ("sleep ignores dictation", "", ["go to sleep", "hello", "wake up", "hi"], "Hi‸"),
    ("stop/start listening", "", ["stop listening", "delete that", "start listening", "ok"], "Ok‸"),
    ("command mode ignores dictation", "abc", ["command mode", "hello", "select all"], "⟦abc⟧"),
    ("dictation mode back", "abc‸", ["command mode", "hello", "dictation mode", "hi"], "abc hi‸"),
    ("ru sleep and wake", "", ["спи", "привет", "проснись", "да"], "Да‸"),
    ("ru command mode", "abc‸", ["режим команд", "привет", "режим диктовки", "да"], "abc да‸"),
    ("sleep mode ignores commands", "abc‸", ["go to sleep", "select all", "backspace"], "abc‸"),
    # ---- undo / redo -----------------------------------------------------------------------------
    ("undo dictation", "", ["hello", "world", "undo"], "Hello‸"),
    ("undo twice", "", ["hello", "world", "undo", "undo"], "‸"),
    ("undo then redo", "", ["hello", "world", "undo", "redo"], "Hello world‸"),
    ("redo twice", "", ["one", "two", "undo", "undo", "redo", "redo"], "One two‸"),
    ("undo that / redo that", "", ["one", "undo that", "redo that"], "One‸"),
    ("undo independent of the cursor", "", ["one", "two", "go to start", "undo"], "One‸"),
    ("undo a command", "Hello world‸", ["delete the last word", "undo"], "Hello world‸"),
    ("undo a replace, redo it", "The cat.‸", ["replace cat with dog", "undo", "redo"], "The dog‸."),
    ("undo formatting", "", ["hello world", "all caps that", "undo"], "Hello world‸"),
    ("undo a paragraph break", "Text‸", ["new paragraph", "undo"], "Text‸"),
    ("undo a sentence deletion", "One. Two.‸", ["delete the last sentence", "undo"], "One. Two.‸"),
    ("nothing to undo", "Hi‸", ["undo"], "Hi‸"),
    ("nothing to redo", "Hi‸", ["redo"], "Hi‸"),
    ("new action clears redo", "", ["one", "two", "undo", "three", "redo"], "One three‸"),
    ("selection commands are not undo steps", "", ["one", "select all", "undo"], "‸"),
    ("undo scratch brings the phrase back", "", ["one.", "two.", "scratch that", "undo", "scratch that"], "One.‸"),
    ("ru undo", "", ["привет", "мир", "отмени"], "Привет‸"),
    ("ru undo and redo", "", ["привет", "мир", "отменить", "верни"], "Привет мир‸"),
    # ---- correction -------------------------------------------------------------------------------
    ("scratch that", "", ["one.", "two.", "scratch that"], "One.‸"),
    ("scratch that twice", "", ["one.", "two.", "scratch that", "Scratch that!"], "‸"),
    ("scratch after the cursor moved", "", ["one.", "two.", "go to start", "scratch that"], "One.‸"),
    ("scratch mid-text phrase", "Hello‸ world", ["big", "scratch that"], "Hello‸ world"),
    ("nothing to scratch", "Typed.‸", ["scratch that"], "Typed.‸"),
    ("ru scratch", "", ["раз.", "два.", "сотри это"], "Раз.‸"),
    ("delete that: the selection", "Hello ⟦big ⟧world", ["delete that"], "Hello ‸world"),
    ("delete that: the last phrase", "", ["hello", "world", "delete that"], "Hello‸"),
    ("remove that", "", ["hello", "world", "Remove that."], "Hello‸"),
    ("ru delete that", "", ["привет", "мир", "удали это"], "Привет‸"),
    ("ru delete that (infinitive)", "", ["привет", "мир", "удалить это"], "Привет‸"),
    ("replace X with Y", "The cat sat.‸", ["replace cat with dog"], "The dog‸ sat."),
    ("replace keeps the capital", "Cat sat.‸", ["Replace cat with dog."], "Dog‸ sat."),
    ("replace the nearest before the cursor", "cat one cat two‸", ["replace cat with dog"], "cat one dog‸ two"),
    ("replace after the cursor when none before", "‸x cat", ["replace cat with dog"], "x dog‸"),
    ("replace absent X changes nothing", "The cat.‸", ["replace cow with dog"], "The cat.‸"),
    ("replace a phrase of two words", "A big red ball.‸", ["replace big red with small"], "A small‸ ball."),
    ("ru replace", "Кот спит.‸", ["замени кот на пёс"], "Пёс‸ спит."),
    ("delete X", "The big red ball‸", ["delete red"], "The big ‸ball"),
    ("delete two words of the document", "The big red ball‸", ["delete big red"], "The ‸ball"),
    ("delete absent X is dictation (as Select-and-Say)", "The ball.‸", ["Delete red."], "The ball. Delete red.‸"),
    ("select absent X is dictation", "Hi.‸", ["Select all of them."], "Hi. Select all of them.‸"),
    ("ru delete X", "Большой красный мяч‸", ["удали красный"], "Большой ‸мяч"),
    # ---- selection ---------------------------------------------------------------------------------
    ("select that", "", ["hello world", "select that"], "⟦Hello world⟧"),
    ("select that then dictate replaces", "", ["hello world", "select that", "goodbye"], "Goodbye‸"),
    ("select all", "abc", ["select all"], "⟦abc⟧"),
    ("ru select all", "abc", ["выдели всё"], "⟦abc⟧"),
    ("select X (Select-and-Say)", "one two three‸", ["select two"], "one ⟦two⟧ three"),
    ("select X then dictation replaces it", "one two three‸", ["select two", "six"], "one six‸ three"),
    ("select previous word", "one two three‸", ["select previous word"], "one two ⟦three⟧"),
    ("select the previous word", "one two three‸", ["select the previous word"], "one two ⟦three⟧"),
    ("select next word", "‸one two", ["select next word"], "⟦one⟧ two"),
    ("select last N words (digits)", "one two three‸", ["Select the last 2 words."], "one ⟦two three⟧"),
    ("select last N words (word)", "one two three‸", ["select last two words"], "one ⟦two three⟧"),
    ("select previous twenty words", " ".join(f"w{i}" for i in range(25)) + "‸", ["select previous twenty words"],
     " ".join(f"w{i}" for i in range(5)) + " ⟦" + " ".join(f"w{i}" for i in range(5, 25)) + "⟧"),
    ("select next N words", "‸one two three", ["select the next two words"], "⟦one two⟧ three"),
    ("select this sentence", "First one. Second here.‸", ["select this sentence"], "First one. ⟦Second here.⟧"),
    ("select the last sentence", "First one. Second here.‸", ["select the last sentence"], "First one. ⟦Second here.⟧"),
    ("select previous sentence from inside", "First one. Sec‸ond here.", ["select previous sentence"], "⟦First one.⟧ Second here."),
    ("select next sentence", "‸First one. Second.", ["select next sentence"], "First one. ⟦Second.⟧"),
    ("select this paragraph", "Para one.\n\nPara two‸ here.", ["select this paragraph"], "Para one.\n\n⟦Para two here.⟧"),
    ("select previous paragraph", "Para one.\n\nPara two‸ here.", ["select the previous paragraph"], "⟦Para one.⟧\n\nPara two here."),
    ("select this line", "l1\nl2‸ x\nl3", ["select this line"], "l1\n⟦l2 x⟧\nl3"),
    ("select next line", "l1\nl2‸ x\nl3", ["select next line"], "l1\nl2 x\n⟦l3⟧"),
    ("select previous line", "l1\nl2‸ x\nl3", ["select previous line"], "⟦l1⟧\nl2 x\nl3"),
    ("unselect", "⟦abc⟧", ["unselect"], "abc‸"),
    ("clear selection", "⟦abc⟧", ["clear selection"], "abc‸"),
    ("ru unselect", "⟦abc⟧", ["сними выделение"], "abc‸"),
    ("ru select previous word", "один два‸", ["выдели предыдущее слово"], "один ⟦два⟧"),
    ("ru select last N words", "один два три‸", ["выдели последние два слова"], "один ⟦два три⟧"),
    ("ru select this sentence", "Раз. Два три.‸", ["выдели это предложение"], "Раз. ⟦Два три.⟧"),
    ("ru select X", "один два три‸", ["выдели два"], "один ⟦два⟧ три"),
    ("ru select that", "", ["привет мир", "выдели это"], "⟦Привет мир⟧"),
    # ---- deletion ----------------------------------------------------------------------------------
    ("delete previous word", "one two three‸", ["delete previous word"], "one two‸"),
    ("delete the last word", "one two three‸", ["Delete the last word."], "one two‸"),
    ("delete next word", "‸one two", ["delete the next word"], "‸two"),
    ("delete last N words", "one two three‸", ["delete the last 2 words"], "one‸"),
    ("delete last three words", "one two three‸", ["delete last three words"], "‸"),
    ("delete the last sentence", "First one. Second here.‸", ["delete the last sentence"], "First one.‸"),
    ("delete this sentence mid-text", "One. Two‸ x. Three.", ["delete this sentence"], "One. ‸Three."),
    ("delete next sentence", "‸One. Two. Three.", ["delete next sentence"], "One. ‸Three."),
    ("delete this paragraph (last)", "P1.\n\nP2.‸", ["delete this paragraph"], "P1.‸"),
    ("delete this paragraph (first)", "P1.‸\n\nP2.", ["delete this paragraph"], "‸P2."),
    ("delete this line", "a\nb‸\nc", ["delete this line"], "a\n‸c"),
    ("delete the last line", "a\nb‸", ["delete this line"], "a‸"),
    ("backspace", "abc‸", ["backspace"], "ab‸"),
    ("backspace N", "abc‸", ["backspace 2"], "a‸"),
    ("backspace N words", "abc‸", ["backspace three"], "‸"),
    ("backspace deletes the selection", "⟦ab⟧c", ["backspace"], "‸c"),
    ("ru delete previous word", "один два три‸", ["удали последнее слово"], "один два‸"),
    ("ru delete last N words", "раз два три четыре пять шесть‸", ["удали последние пять слов"], "раз‸"),
    ("ru delete this line", "a\nb‸\nc", ["удали эту строку"], "a\n‸c"),
    ("ru backspace", "abc‸", ["забой"], "ab‸"),
    ("ru delete N characters", "abc‸", ["удали два символа"], "a‸"),
    # ---- navigation --------------------------------------------------------------------------------
    ("go to start", "abc‸", ["go to start"], "‸abc"),
    ("go to the beginning", "abc‸", ["go to the beginning"], "‸abc"),
    ("go to top", "abc‸", ["Go to top."], "‸abc"),
    ("go to end", "‸abc", ["go to end"], "abc‸"),
    ("go to the end", "‸abc", ["go to the end"], "abc‸"),
    ("go to bottom", "‸abc", ["go to bottom"], "abc‸"),
    ("go to start of line", "l1\nl2 x‸", ["go to start of line"], "l1\n‸l2 x"),
    ("go to end of line", "l1‸ y\nl2", ["go to the end of the line"], "l1 y‸\nl2"),
    ("go to start of sentence", "One. Two three‸", ["go to the start of the sentence"], "One. ‸Two three"),
    ("go to end of paragraph", "P1 ‸x.\n\nP2.", ["go to end of paragraph"], "P1 x.‸\n\nP2."),
    ("move left N words", "one two three‸", ["move left 2 words"], "one ‸two three"),
    ("move right one word", "‸one two", ["move right one word"], "one‸ two"),
    ("insert before X", "one two three‸", ["insert before two", "big"], "one big‸ two three"),
    ("insert after X", "one two three‸", ["insert after one", "big"], "one big‸ two three"),
    ("ru go to start", "abc‸", ["в начало"], "‸abc"),
    ("ru go to end", "‸abc", ["перейди в конец"], "abc‸"),
    ("ru go to start of line", "l1\nl2 x‸", ["в начало строки"], "l1\n‸l2 x"),
    ("ru move left", "раз два три‸", ["перейди влево на два слова"], "раз ‸два три"),
    ("ru insert after", "раз два‸", ["вставь после раз", "и"], "раз и‸ два"),
    # ---- formatting commands -------------------------------------------------------------------------
    ("cap that", "", ["hello world", "cap that"], "Hello World‸"),
    ("capitalize that", "x. ‸", ["some words here", "capitalize that"], "x. Some Words Here‸"),
    ("all caps that", "", ["hello world", "all caps that"], "HELLO WORLD‸"),
    ("lowercase that", "", ["Hello World", "lowercase that"], "hello world‸"),
    ("no caps that", "", ["Hello World", "no caps that"], "hello world‸"),
    ("cap that on a selection keeps it", "⟦hello there⟧", ["cap that"], "⟦Hello There⟧"),
    ("ru all caps", "", ["привет мир", "заглавными это"], "ПРИВЕТ МИР‸"),
    ("ru capitalize", "", ["привет мир", "с большой буквы"], "Привет Мир‸"),
    # ---- literal -------------------------------------------------------------------------------------
    ("type a command verbatim", "", ["type delete that"], "delete that‸"),
    ("literal spoken punctuation", "Say‸", ["literal comma"], "Say comma‸"),
    ("ru literal", "", ["напечатай удали это"], "удали это‸"),
    # ---- false triggers: commands inside sentences are text ----------------------------------------
    ("false trigger: delete that file", "", ["I told him to delete that file."], "I told him to delete that file.‸"),
    ("false trigger: undo the damage", "", ["We need to undo the damage."], "We need to undo the damage.‸"),
    ("false trigger: scratch that itch", "", ["Scratch that itch."], "Scratch that itch.‸"),
    ("false trigger: go to sleep now", "", ["Go to sleep now, he said."], "Go to sleep now, he said.‸"),
    ("false trigger: select all of them", "", ["Select all of them."], "Select all of them.‸"),
    ("false trigger ru", "", ["Я сказал ему удали это сейчас."], "Я сказал ему удали это сейчас.‸"),
    ("false trigger: continue reading", "", ["Continue reading."], "Continue reading.‸"),
    # ---- language-model commands leave the document unchanged without a model ---------------------------
    ("rephrase that", "", ["hello world", "rephrase that"], "Hello world‸"),
    ("make that more formal", "⟦hey⟧", ["make that more formal"], "⟦hey⟧"),
    ("continue", "Once upon a time‸", ["continue"], "Once upon a time‸"),
    ("ru rephrase", "", ["привет", "перефразируй это"], "Привет‸"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_case(case):
    _, document, utterances, expected = case
    editor, _ = run(document, utterances)
    if CURSOR in expected or OPEN in expected:
        assert render(editor.text, editor.selection) == expected
    else:
        assert editor.text == expected


def test_there_are_enough_cases():
    assert len(CASES) + len(INTENTS) >= 150


# What each utterance is taken to mean: (utterance, kind, command name, args that must be present).
INTENTS = [
    ("Delete that.", "command", "delete_that", {}),
    ("scratch that!", "command", "scratch_that", {}),
    ("I told him to delete that file.", "dictation", "", {}),
    ("select the last three words", "command", "select_words", {"direction": "back", "count": "3"}),
    ("Select the next 7 words", "command", "select_words", {"direction": "forward", "count": "7"}),
    ("delete the previous paragraph", "command", "delete_unit", {"which": "previous", "unit": "paragraph"}),
    ("select this line", "command", "select_unit", {"which": "this", "unit": "line"}),
    ("backspace twelve", "command", "backspace", {"count": "12"}),
    ("move right 3 words", "command", "move_words", {"dir": "right", "count": "3"}),
    ("replace foo with bar baz", "command", "replace", {"x": "foo", "y": "bar baz"}),
    ("type scratch that", "command", "literal", {"text": "scratch that"}),
    ("go to sleep", "command", "sleep", {}),
    ("rephrase that", "command", "rewrite", {"task": "rephrase"}),
    ("make that more casual", "command", "rewrite", {"task": "casual"}),
    ("shorten that", "command", "rewrite", {"task": "shorten"}),
    ("expand that", "command", "rewrite", {"task": "expand"}),
    ("fix the grammar", "command", "rewrite", {"task": "fix_grammar"}),
    ("turn that into a list", "command", "rewrite", {"task": "list"}),
    ("summarize that", "command", "rewrite", {"task": "summarize"}),
    ("translate that to Russian", "command", "rewrite", {"task": "translate", "lang": "ru"}),
    ("translate that into English", "command", "rewrite", {"task": "translate", "lang": "en"}),
    ("keep going", "command", "rewrite", {"task": "continue"}),
    ("перефразируй это", "command", "rewrite", {"task": "rephrase"}),
    ("переведи это на английский", "command", "rewrite", {"task": "translate", "lang": "en"}),
    ("удали последние пять слов", "command", "delete_words", {"direction": "back", "count": "5"}),
    ("Выдели всё.", "command", "select_all", {}),
    ("Новая строка.", "command", "new_line", {}),
    ("новый абзац", "command", "new_paragraph", {}),
    ("вопросительный знак", "command", "punctuation", {"mark": "?"}),
    ("восклицательный знак", "command", "punctuation", {"mark": "!"}),
    ("Запятая.", "command", "punctuation", {"mark": ","}),
    ("верни", "command", "redo", {}),
    ("отменить", "command", "undo", {}),
    ("select twenty one words", "dictation", "", {}),  # beyond twenty: not a number word, so text
]


@pytest.mark.parametrize("utterance, kind, name, args", INTENTS, ids=[i[0] for i in INTENTS])
def test_intent(utterance, kind, name, args):
    _, records = run("Some text here.‸", [utterance])
    intent = records[0]["intent"]
    assert (intent["kind"], intent["name"]) == (kind, name)
    for key, value in args.items():
        assert intent["args"][key] == value


def test_markers_round_trip():
    for marked in ("ab‸c", "a⟦b⟧c"):
        text, selection = parse(marked)
        assert render(text, selection) == marked
    assert CLOSE not in parse("a⟦b⟧c")[0]
