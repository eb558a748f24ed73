"""Readers and paragraph segmentation for every supported format, Russian included, and corrupt files."""

from __future__ import annotations

from pathlib import Path

import pytest
from persona_samples import AUTHOR_A, write_sample_folder

from pushkin.persona.documents import (
    DocumentError,
    document_kind,
    markdown_blocks,
    pdf_page_blocks,
    read_document,
    segment,
)


@pytest.fixture(scope="module")
def sample_folder(tmp_path_factory) -> tuple[Path, dict[str, list[str]]]:
    folder = tmp_path_factory.mktemp("documents")
    return folder, write_sample_folder(folder)


@pytest.mark.parametrize("name", ["notes.txt", "journal.md", "letters.docx", "log.pdf", "story.rtf"])
def test_each_format_yields_its_paragraphs_in_order(sample_folder, name):
    folder, expected = sample_folder
    document = read_document(folder / name)
    assert document.kind == name.rsplit(".", 1)[1]
    assert list(document.paragraphs) == expected[name]


def test_russian_text_survives_every_format(sample_folder):
    folder, _ = sample_folder
    for name in ("notes.txt", "letters.docx", "story.rtf", "log.pdf", "journal.md"):
        text = " ".join(read_document(folder / name).paragraphs)
        assert "серую воду" in text or "серая вода" in text, name


def test_markdown_rules():
    text = (
        "Title\n=====\n\n"
        "# Heading\n"
        "A paragraph that runs\nover two lines with **bold** and `code`.\n\n"
        "> Quoted wisdom, kept as prose.\n\n"
        "1. first item\n2) second item\n\n"
        "| a | b |\n|---|---|\n\n"
        "![a picture](pic.png)Caption text here.\n\n"
        "---\n"
        "~~~\nhidden code\n~~~\n"
        "Subtitle\n--------\n"
        "After a setext heading."
    )
    assert markdown_blocks(text) == [
        "A paragraph that runs over two lines with bold and code.",
        "Quoted wisdom, kept as prose.",
        "first item second item",
        "Caption text here.",
        "After a setext heading.",
    ]


def test_segment_drops_short_blocks_and_splits_long_ones_at_sentence_ends():
    long_block = " ".join(f"Sentence number {i} is here." for i in range(40))  # ~1,000 characters
    paragraphs = segment(["tiny", "  spaced   out\n text that is long enough  ", long_block], min_chars=10, max_chars=200)
    assert paragraphs[0] == "spaced out text that is long enough"
    pieces = paragraphs[1:]
    assert all(len(p) <= 200 for p in pieces)
    assert " ".join(pieces) == long_block  # nothing lost, cut only between sentences
    assert all(p.endswith(".") for p in pieces)


def test_segment_cuts_a_single_overlong_sentence_at_word_boundaries():
    words = " ".join(["слово"] * 100)  # 599 characters, no sentence end
    pieces = segment([words], min_chars=5, max_chars=100)
    assert all(len(p) <= 100 for p in pieces)
    assert " ".join(pieces) == words


def test_pdf_line_heuristics_join_wrapped_lines_and_hyphenation():
    page = (
        "The first paragraph is wrapped over several visual lines and keeps go-\n"
        "ing until it finally ends with a sentence that stops right here now.\n"
        "It ends.\n"
        "Второй абзац начинается здесь и тоже занимает несколько строк текста\n"
        "на странице, пока не закончится."
    )
    assert pdf_page_blocks(page) == [
        "The first paragraph is wrapped over several visual lines and keeps going until it finally ends "
        "with a sentence that stops right here now. It ends.",
        "Второй абзац начинается здесь и тоже занимает несколько строк текста на странице, пока не закончится.",
    ]


def test_legacy_cp1251_text_is_read(tmp_path):
    path = tmp_path / "old.txt"
    path.write_bytes(AUTHOR_A[10].encode("cp1251"))
    assert read_document(path).paragraphs == (AUTHOR_A[10],)


@pytest.mark.parametrize(
    "name, payload, reason",
    [
        ("broken.pdf", b"%PDF-1.4\nthis is not a real pdf", "PDF"),
        ("broken.docx", b"PK\x03\x04 not really a zip archive", "docx"),
        ("broken.rtf", b"plain text pretending to be rtf", "RTF"),
        ("binary.txt", b"\x00\x01\x02\xff" * 100, "binary"),
        ("binary.md", bytes(range(256)) * 4, ""),
    ],
)
def test_corrupt_files_raise_document_error_with_a_reason(tmp_path, name, payload, reason):
    path = tmp_path / name
    path.write_bytes(payload)
    with pytest.raises(DocumentError) as caught:
        read_document(path)
    assert reason in str(caught.value)
    assert str(caught.value)


def test_unsupported_and_missing_files(tmp_path):
    assert document_kind(tmp_path / "a.odt") is None
    assert document_kind(tmp_path / "A.MARKDOWN") == "md"
    with pytest.raises(DocumentError, match="unsupported"):
        read_document(tmp_path / "a.odt")
    with pytest.raises(DocumentError, match="cannot read"):
        read_document(tmp_path / "missing.txt")
