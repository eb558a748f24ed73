"""pushkin.text: what a word, a sentence and a paragraph are, and the leaf position of the package."""

from __future__ import annotations

import ast
from pathlib import Path

from pushkin.text.units import (
    PARAGRAPH_BREAK,
    fold_whitespace,
    paragraphs,
    prose_sentences,
    sentence_spans,
    sentences,
    words,
)

ROOT = Path(__file__).resolve().parents[2]


def test_words_keep_inner_apostrophes_and_hyphens_in_both_scripts():
    assert words("Don't stop — кто-то зажёг it’s 3.14 well_done -") == [
        "Don't", "stop", "кто-то", "зажёг", "it’s", "3", "14", "well_done",
    ]


def test_a_sentence_ends_at_terminators_before_space_or_at_a_line_end():
    text = "Pi is 3.14 here. «Да!» — сказал он.\nA line without end\n  Last?"
    assert sentences(text) == ["Pi is 3.14 here.", "«Да!»", "— сказал он.", "A line without end", "Last?"]
    spans = sentence_spans(text, 17, 35)  # a window: only the sentences inside it
    assert [text[a:b] for a, b in spans] == ["«Да!»", "— сказал он."]


def test_prose_sentences_break_only_before_what_can_begin_a_sentence():
    assert prose_sentences("Он ушёл. — Куда? — спросила она. — Домой!") == [
        "Он ушёл.", "— Куда? — спросила она.", "— Домой!",
    ]
    assert prose_sentences("Wrapped\nline. Next one.\n\n* * *\n\nBye.") == ["Wrapped line.", "Next one.", "Bye."]


def test_paragraphs_split_at_blank_lines_and_fold_whitespace():
    assert paragraphs("One\r\ntwo.\r\n \r\n\n\tThree  four\n") == ["One two.", "Three four"]
    assert PARAGRAPH_BREAK.match("\n \n\t\nx").end() == 5  # the next line's indentation is not the break's
    assert fold_whitespace("  a \n\t b ") == "a b"


def test_the_text_package_imports_none_of_ours():
    """Every layer, the adapters included, may import pushkin.text, so it must sit below all of them."""
    ours = []
    for path in sorted((ROOT / "text").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            ours += [f"{path.name}: {name}" for name in names if name.split(".")[0] == "pushkin"]
    assert ours == []


def test_the_byte_level_bpe_round_trips_unseen_text():
    from pushkin.text.bpe import train_byte_level_bpe

    tokenizer = train_byte_level_bpe(["The quick brown fox.", "Быстрая лиса."], 300, ["<pad>", "<bos>"])
    assert (tokenizer.token_to_id("<pad>"), tokenizer.token_to_id("<bos>")) == (0, 1)
    unseen = "Ёжик 🦔 jumps!"
    assert tokenizer.decode(tokenizer.encode(unseen).ids) == unseen
