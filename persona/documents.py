"""Reading the user's documents (.txt, .md, .docx, .pdf, .rtf) and cutting them into paragraphs.

Each reader returns a list of raw blocks (the format's own paragraphs); :func:`segment` then applies the
rules every format shares: markup is stripped, blocks shorter than ``min_chars`` are dropped (headings,
captions, page numbers), and blocks longer than ``max_chars`` are split at sentence ends. A file that
cannot be read raises :class:`DocumentError` with the reason, so the indexer can report it and go on.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from pushkin.text.units import fold_whitespace, paragraphs, sentences

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".docx", ".pdf", ".rtf")


class DocumentError(Exception):
    """A document could not be read (corrupt, encrypted, wrong encoding, unsupported)."""


@dataclass(frozen=True)
class Document:
    """The paragraphs of one file, in reading order."""

    path: Path
    kind: str  # "txt", "md", "docx", "pdf", "rtf"
    paragraphs: tuple[str, ...]


def document_kind(path: Path) -> str | None:
    """The reader for ``path`` by suffix, or None when the format is not supported."""
    suffix = path.suffix.lower()
    if suffix == ".markdown":
        return "md"
    if suffix in SUPPORTED_SUFFIXES:
        return suffix[1:]
    return None


DEFAULT_MAX_UNPACKED_BYTES = 256 * 1024 * 1024


def read_document(path: Path, *, min_chars: int = 40, max_chars: int = 2000,
                  max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_BYTES) -> Document:
    """Read and segment one file; raises DocumentError when it cannot be read.

    A .docx whose parts would unpack to more than ``max_unpacked_bytes`` is refused before any is unpacked.
    """
    kind = document_kind(path)
    if kind is None:
        raise DocumentError(f"unsupported format {path.suffix or '(no suffix)'}")
    try:
        if kind == "docx":
            check_unpacked_size(path, max_unpacked_bytes)
        if kind == "txt":
            blocks = _blank_line_blocks(_read_text(path))
        elif kind == "md":
            blocks = markdown_blocks(_read_text(path))
        elif kind == "docx":
            blocks = _docx_blocks(path)
        elif kind == "pdf":
            blocks = _pdf_blocks(path)
        else:
            blocks = _rtf_blocks(path)
    except DocumentError:
        raise
    except OSError as error:
        raise DocumentError(f"cannot read: {error.strerror or error}") from error
    except Exception as error:  # parsers raise many types on corrupt input; each becomes a clear reason
        raise DocumentError(f"not a readable {kind} file: {type(error).__name__}: {error}") from error
    return Document(path=path, kind=kind, paragraphs=tuple(segment(blocks, min_chars=min_chars, max_chars=max_chars)))


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise DocumentError("broken UTF-16 text") from error
    if b"\x00" in data[:4096]:
        raise DocumentError("binary data in a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # Older Russian texts are often cp1251; accept it only when it decodes to mostly letters.
    try:
        text = data.decode("cp1251")
    except UnicodeDecodeError as error:
        raise DocumentError("not UTF-8 text") from error
    letters = sum(ch.isalpha() or ch.isspace() for ch in text)
    if letters < 0.8 * max(1, len(text)):
        raise DocumentError("not UTF-8 text")
    return text


def _blank_line_blocks(text: str) -> list[str]:
    """Blocks separated by blank lines; hard-wrapped lines inside a block are joined."""
    return paragraphs(text.replace("\r\n", "\n").replace("\r", "\n"))


_HEADING = re.compile(r"^\s{0,3}(#{1,6}\s|#{1,6}$)")
_SETEXT_UNDERLINE = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
_HTML_TAG = re.compile(r"<[^>\n]+>")


def markdown_blocks(text: str) -> list[str]:
    """Prose blocks of a Markdown text.

    Rules: headings (ATX and setext), horizontal rules, tables and fenced code are not prose and end the
    current block; a blank line ends a block; the items of one list form one block (one thought, often
    too short alone), with their markers removed; block quotes lose their ``>``; links keep their text,
    images, HTML tags and emphasis markers are removed.
    """
    blocks: list[str] = []
    current: list[str] = []
    in_fence = False

    def close() -> None:
        if current:
            blocks.append(" ".join(current))
            current.clear()

    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            close()
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        stripped = line.strip()
        next_line = lines[index + 1] if index + 1 < len(lines) else ""
        if not stripped or _HEADING.match(line) or _RULE.match(line) or _TABLE_ROW.match(line):
            close()
            continue
        if _SETEXT_UNDERLINE.match(next_line) and not _LIST_ITEM.match(line):
            close()  # this line is a setext heading; its underline is dropped as a rule or below
            continue
        if _SETEXT_UNDERLINE.match(line):
            close()
            continue
        stripped = stripped.lstrip(">").strip()
        stripped = _LIST_ITEM.sub("", stripped)
        stripped = _IMAGE.sub("", stripped)
        stripped = _LINK.sub(r"\1", stripped)
        stripped = _HTML_TAG.sub("", stripped)
        stripped = _EMPHASIS.sub(r"\2", stripped)
        if stripped:
            current.append(stripped)
    close()
    return blocks


def check_unpacked_size(path: Path, limit: int) -> None:
    """DocumentError when the zip package at ``path`` declares more than ``limit`` unpacked bytes.

    The declared sizes bind: zipfile stops a member at its declared size (and fails its CRC), so a
    member that lies about its size cannot unpack to more.
    """
    import zipfile

    try:
        with zipfile.ZipFile(path) as package:
            total = sum(member.file_size for member in package.infolist())
    except zipfile.BadZipFile as error:
        raise DocumentError(f"not a .docx package (corrupt or another format): {error}") from error
    if total > limit:
        raise DocumentError(f"unpacks to {describe_size(total)} (over persona.max_unpacked_bytes, {describe_size(limit)}); "
                            "a zip bomb or a document full of media — skipped")


def describe_size(size: int) -> str:
    return f"{size / 1048576:.1f} MiB" if size >= 1048576 else f"{size} bytes"


def _docx_blocks(path: Path) -> list[str]:
    import docx  # python-docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except PackageNotFoundError as error:
        raise DocumentError("not a .docx package (corrupt or another format)") from error
    blocks = []
    for paragraph in document.paragraphs:
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        if style.startswith(("Heading", "Title", "Subtitle")):
            continue
        if paragraph.text.strip():
            blocks.append(paragraph.text)
    return blocks


def _pdf_blocks(path: Path) -> list[str]:
    import pypdf
    from pypdf.errors import PdfReadError

    # pypdf logs every repair it attempts on a damaged file; the indexer reports the outcome instead.
    pypdf_log = logging.getLogger("pypdf")
    previous_level = pypdf_log.level
    pypdf_log.setLevel(logging.ERROR)
    try:
        reader = pypdf.PdfReader(str(path), strict=False)
        if reader.is_encrypted:
            raise DocumentError("the PDF is encrypted")
        pages = [_page_text(page) for page in reader.pages]
    except PdfReadError as error:
        raise DocumentError(f"not a readable PDF: {error}") from error
    finally:
        pypdf_log.setLevel(previous_level)
    blocks: list[str] = []
    for page in pages:
        blocks.extend(pdf_page_blocks(page))
    return blocks


def _page_text(page) -> str:
    # Layout mode keeps vertical gaps between paragraphs as blank lines; plain mode is the fallback for
    # pages whose layout pypdf cannot reconstruct.
    try:
        return page.extract_text(extraction_mode="layout") or ""
    except Exception:
        return page.extract_text() or ""


_SENTENCE_END_LINE = re.compile(r"[.!?…:»\"”)]\s*$")


def pdf_page_blocks(page_text: str) -> list[str]:
    """Paragraphs of one page of extracted PDF text.

    PDF text comes as visual lines. A blank line ends a paragraph; so does a line that ends a sentence and
    is clearly shorter than the page's long lines (the last line of a paragraph). Words hyphenated across
    a line end are joined.
    """
    lines = [line.rstrip() for line in page_text.replace("\r", "\n").split("\n")]
    widths = sorted(len(line) for line in lines if line.strip())
    if not widths:
        return []
    full_width = widths[int(0.8 * (len(widths) - 1))]
    blocks: list[str] = []
    current = ""
    for line in lines:
        stripped = line.strip()
        if not stripped:
            if current:
                blocks.append(current)
            current = ""
            continue
        if current.endswith("-") and stripped[:1].islower():
            current = current[:-1] + stripped
        else:
            current = f"{current} {stripped}" if current else stripped
        if _SENTENCE_END_LINE.search(stripped) and len(stripped) < 0.85 * full_width:
            blocks.append(current)
            current = ""
    if current:
        blocks.append(current)
    return blocks


def _rtf_blocks(path: Path) -> list[str]:
    from striprtf.striprtf import rtf_to_text

    raw = path.read_bytes()
    if not raw.lstrip().startswith(b"{\\rtf"):
        raise DocumentError("not an RTF file (no {\\rtf header)")
    # RTF is 7-bit ASCII with escapes for everything else.
    text = rtf_to_text(raw.decode("latin-1"), errors="ignore")
    # Each \par becomes one line break: a line is a paragraph.
    return [line for line in text.replace("\r", "\n").split("\n") if line.strip()]


def segment(blocks: list[str], *, min_chars: int, max_chars: int) -> list[str]:
    """Normalize whitespace, split over-long blocks at sentence ends, drop blocks under ``min_chars``."""
    paragraphs: list[str] = []
    for block in blocks:
        text = fold_whitespace(block)
        if len(text) < min_chars:
            continue
        if len(text) <= max_chars:
            paragraphs.append(text)
            continue
        piece = ""
        for sentence in sentences(text):
            # A single sentence longer than the limit is cut at a word boundary.
            while len(sentence) > max_chars:
                cut = sentence.rfind(" ", 0, max_chars)
                cut = cut if cut > 0 else max_chars
                if piece:
                    paragraphs.append(piece)
                    piece = ""
                paragraphs.append(sentence[:cut].strip())
                sentence = sentence[cut:].strip()
            if piece and len(piece) + 1 + len(sentence) > max_chars:
                paragraphs.append(piece)
                piece = sentence
            else:
                piece = f"{piece} {sentence}" if piece else sentence
        if piece:
            paragraphs.append(piece)
    return [p for p in paragraphs if len(p) >= min_chars]
