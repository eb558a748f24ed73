"""Text data for the recipes: prompt/completion JSONL, author corpora, and splits isolated by source.

One example is a :class:`TextExample` (prompt, completion, source). ``source`` names where the text came
from (a file, a block of a file, a pair's origin); :func:`split_by_source` keeps every source on one side
of the train/eval split and then drops training examples that nearly duplicate an eval example (Jaccard
similarity of word 3-gram shingles), so eval never measures memorized text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from pushkin.text.units import paragraphs  # the corpus's paragraphs: the text module's rule

from . import metrics


class DataError(ValueError):
    """A data file is missing or malformed; the message names the file and the line."""


@dataclass(frozen=True)
class TextExample:
    prompt: str
    completion: str
    source: str


@dataclass(frozen=True)
class Split:
    train: tuple[TextExample, ...]
    eval: tuple[TextExample, ...]
    dropped_near_duplicates: int  # training examples removed for nearly duplicating an eval example


# ----------------------------------------------------------------------------------------------------------
# JSONL


def read_jsonl(path: str | Path, required: Sequence[str]) -> list[dict]:
    """The records of a JSONL file; each must hold non-empty strings under ``required``."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    records = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise DataError(f"{path}:{number}: not valid JSON ({error.msg})") from None
            if not isinstance(record, dict):
                raise DataError(f"{path}:{number}: each line must be a JSON object")
            for key in required:
                value = record.get(key)
                if not isinstance(value, str) or not value.strip():
                    raise DataError(f"{path}:{number}: {key!r} must be a non-empty string")
            records.append(record)
    if not records:
        raise DataError(f"{path}: no records")
    return records


def read_examples(path: str | Path) -> list[TextExample]:
    """Prompt/completion examples; a record without ``source`` is its own source (file:line)."""
    records = read_jsonl(path, ("prompt", "completion"))
    return [
        TextExample(r["prompt"], r["completion"], str(r.get("source") or f"{Path(path).name}:{i}"))
        for i, r in enumerate(records)
    ]


def write_jsonl(path: str | Path, records: Iterable[dict | TextExample]) -> int:
    """Writes records (dicts or dataclasses) atomically; returns how many."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    count = 0
    with tmp.open("w", encoding="utf-8") as out:
        for record in records:
            data = asdict(record) if not isinstance(record, dict) else record
            out.write(json.dumps(data, ensure_ascii=False) + "\n")
            count += 1
    tmp.replace(path)
    return count


# ----------------------------------------------------------------------------------------------------------
# Corpora

TEXT_SUFFIXES = (".txt", ".md")


def read_corpus(folders: Sequence[str | Path]) -> dict[str, str]:
    """Plain-text files (.txt, .md) under ``folders``, UTF-8 (Russian included), keyed by
    ``<folder name>/<path inside it>``.

    The key is the example's source, and the train/eval split hashes sources: a key that held the absolute
    path would give another split when the same writing sits elsewhere (another machine, a CI checkout).
    Two folders with the same name fall back to the full path for the second one's files.
    A file that is not UTF-8 is an error naming it: silently dropping an author's file would skew the
    persona without anyone noticing.
    """
    texts: dict[str, str] = {}
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            raise DataError(f"{folder}: not a folder")
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() not in TEXT_SUFFIXES or not path.is_file():
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise DataError(f"{path}: not UTF-8 text (convert it, or move it out of the corpus)") from None
            if text.strip():
                key = f"{folder.resolve().name}/{path.relative_to(folder).as_posix()}"
                texts[str(path) if key in texts else key] = text
    if not texts:
        raise DataError(f"no .txt or .md files with text under {', '.join(map(str, folders))}")
    return texts


def continuation_examples(
    texts: dict[str, str],
    *,
    context_chars: int = 600,
    completion_chars: int = 400,
    block_paragraphs: int = 12,
    render_prompt: Callable[[str], str] | None = None,
) -> list[TextExample]:
    """Continuation pairs: the text before a paragraph -> (the start of) that paragraph.

    The prompt is up to ``context_chars`` of the preceding paragraphs (cut at a word boundary), passed
    through ``render_prompt`` (the task's prompt template) when given; the completion is the paragraph,
    cut to ``completion_chars`` at a word boundary. Sources are ``<file>#<block>`` with ``block_paragraphs``
    paragraphs per block, so one long file still splits into train and eval without sharing a paragraph.
    """
    examples = []
    for name, text in texts.items():
        paras = paragraphs(text)
        for index, para in enumerate(paras):
            context = "\n\n".join(paras[max(0, index - 4):index])
            if len(context) > context_chars:
                context = _cut_left(context, context_chars)
            completion = _cut_right(para, completion_chars)
            if len(completion) < 8:
                continue
            if not context:
                # The first paragraph: its first sentence is the prompt, the rest the completion.
                head, _, tail = para.partition(". ")
                if not tail or len(tail) < 8:
                    continue
                context, completion = head + ".", _cut_right(tail, completion_chars)
            prompt = render_prompt(context) if render_prompt else context
            examples.append(TextExample(prompt, completion, f"{name}#{index // block_paragraphs}"))
    return examples


def pair_examples(
    pairs: Iterable[tuple[str, str, str]], render_prompt: Callable[[str], str]
) -> list[TextExample]:
    """Rephrasing-style pairs (source text, target text, source id) -> prompt/completion examples."""
    examples = []
    for original, target, source in pairs:
        if not original.strip() or not target.strip():
            raise DataError(f"pair from {source!r}: empty text")
        examples.append(TextExample(render_prompt(original.strip()), target.strip(), source))
    return examples


def read_pairs(path: str | Path) -> list[tuple[str, str, str]]:
    """JSONL of {"original", "rewritten", "source"?} -> (original, rewritten, source)."""
    records = read_jsonl(path, ("original", "rewritten"))
    return [(r["original"], r["rewritten"], str(r.get("source") or f"{Path(path).name}:{i}"))
            for i, r in enumerate(records)]


def load_hf_text(name: str, *, split: str = "train", text_field: str = "text", limit: int = 0) -> dict[str, str]:
    """Texts from a Hugging Face ``datasets`` name or a local dataset folder, keyed ``<name>/<split>/<row>``.

    A hub name needs a network or a local cache: offline (HF_DATASETS_OFFLINE=1, as in the tests) with
    nothing cached this raises DataError. A local folder is keyed by its own name, not its path, so the
    train/eval split (which hashes the keys) does not depend on where the folder sits.
    """
    import datasets  # heavy; only here

    if limit < 0:
        raise DataError(f"limit must be 0 (all rows) or positive, got {limit}")
    label = Path(name).resolve().name if Path(name).is_dir() else name

    try:
        rows = datasets.load_dataset(name, split=split)
    except Exception as error:  # the datasets library raises many kinds for "not reachable"
        raise DataError(f"cannot load dataset {name!r} ({split}): {error}") from error
    if text_field not in rows.column_names:
        raise DataError(f"dataset {name!r} has no column {text_field!r} (columns: {', '.join(rows.column_names)})")
    texts = {}
    for i, row in enumerate(rows):
        if limit and i >= limit:
            break
        if isinstance(row[text_field], str) and row[text_field].strip():
            texts[f"{label}/{split}/{i}"] = row[text_field]
    return texts


# ----------------------------------------------------------------------------------------------------------
# Splits


def split_by_source(
    examples: Sequence[TextExample], *, eval_fraction: float = 0.1, seed: int = 0, near_duplicate: float = 0.8
) -> Split:
    """Train/eval split where each source lies wholly on one side, with no near-duplicates across it.

    Sources are ordered by a salted hash (stable across runs and machines) and the first ones, holding
    about ``eval_fraction`` of the examples, go to eval. Then any training example whose shingle Jaccard
    with an eval example reaches ``near_duplicate`` is dropped.
    """
    by_source: dict[str, list[TextExample]] = {}
    for example in examples:
        by_source.setdefault(example.source, []).append(example)
    if len(by_source) < 2:
        raise DataError(f"need at least 2 sources to split train from eval, got {len(by_source)}")
    order = sorted(by_source, key=lambda s: hashlib.sha256(f"{seed}:{s}".encode()).hexdigest())
    target = max(1, round(eval_fraction * len(examples)))
    eval_sources: set[str] = set()
    count = 0
    for source in order:
        if count >= target or len(eval_sources) == len(order) - 1:
            break
        eval_sources.add(source)
        count += len(by_source[source])
    eval_set = [e for s in order if s in eval_sources for e in by_source[s]]
    train_candidates = [e for s in order if s not in eval_sources for e in by_source[s]]
    index = ShingleIndex([e.prompt + " " + e.completion for e in eval_set])
    train = [e for e in train_candidates if index.max_similarity(e.prompt + " " + e.completion) < near_duplicate]
    return Split(tuple(train), tuple(eval_set), len(train_candidates) - len(train))


def shingles(text: str, n: int = 3) -> frozenset[str]:
    """Word n-grams of the lowercased text (fewer words than n: the words themselves)."""
    words = metrics.words(text)
    if len(words) < n:
        return frozenset(words)
    return frozenset(" ".join(words[i:i + n]) for i in range(len(words) - n + 1))


class ShingleIndex:
    """Jaccard similarity of a query against a fixed set of texts, through an inverted shingle index."""

    def __init__(self, texts: Sequence[str]) -> None:
        self._sets = [shingles(t) for t in texts]
        self._postings: dict[str, list[int]] = {}
        for i, s in enumerate(self._sets):
            for g in s:
                self._postings.setdefault(g, []).append(i)

    def max_similarity(self, text: str) -> float:
        query = shingles(text)
        if not query:
            return 0.0
        overlap: dict[int, int] = {}
        for g in query:
            for i in self._postings.get(g, ()):
                overlap[i] = overlap.get(i, 0) + 1
        best = 0.0
        for i, shared in overlap.items():
            best = max(best, shared / (len(query) + len(self._sets[i]) - shared))
        return best


def iter_batches(items: Sequence, batch_size: int, *, seed: int, epoch_offset: int = 0) -> Iterator[list]:
    """Endless shuffled batches (a fresh permutation per epoch, reproducible from ``seed``)."""
    import random

    epoch = epoch_offset
    while True:
        order = list(range(len(items)))
        random.Random(seed * 100003 + epoch).shuffle(order)
        for start in range(0, len(order) - batch_size + 1 if len(order) >= batch_size else 1, batch_size):
            yield [items[i] for i in order[start:start + batch_size]]
        epoch += 1


def _cut_right(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return cut[:space] if space > limit // 2 else cut


def _cut_left(text: str, limit: int) -> str:
    cut = text[-limit:]
    space = cut.find(" ")
    return cut[space + 1:] if 0 <= space < limit // 2 else cut
