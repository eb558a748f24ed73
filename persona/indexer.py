"""Incremental indexing of the user's documents into the persona store.

For each root (a folder or a file) the indexer walks the supported files that no exclusion pattern
matches and compares each with the store: a file whose mtime and size are unchanged is skipped at once; a
file whose content hash is unchanged only gets its new mtime; any other file is read, segmented,
embedded and written in one transaction. Documents stored under a root whose file is gone (or now
excluded) are removed. A file that cannot be read is reported and skipped; the run goes on.

Nothing leaves the machine: files are read locally and embedded by a local model.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .documents import Document, DocumentError, describe_size, document_kind, read_document
from .embedding import Embedder
from .settings import PersonaSettings
from .store import PersonaStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str


@dataclass(frozen=True)
class IndexReport:
    """What one indexing run did."""

    indexed: tuple[str, ...] = ()  # read and (re)written
    unchanged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()  # gone from disk or now excluded
    skipped: tuple[SkippedFile, ...] = ()  # unreadable, empty or missing roots, with the reason
    paragraphs_written: int = 0
    model_changed: bool = False  # the store held another model's vectors and was rebuilt

    def summary(self) -> str:
        lines = [
            f"indexed {len(self.indexed)} file(s) ({self.paragraphs_written} paragraphs), "
            f"{len(self.unchanged)} unchanged, {len(self.removed)} removed, {len(self.skipped)} skipped"
        ]
        if self.model_changed:
            lines.append("the embedding model changed: every document was indexed again")
        for path in self.removed:
            lines.append(f"  removed {path}: no longer present (or now excluded)")
        for skipped in self.skipped:
            lines.append(f"  skipped {skipped.path}: {skipped.reason}")
        return "\n".join(lines)


def is_excluded(path: Path, root: Path, patterns: Sequence[str]) -> bool:
    """True when a pattern matches ``path`` relative to ``root``, its absolute path, or one of its names."""
    if not patterns:
        return False
    try:
        relative = path.relative_to(root).as_posix()
    except ValueError:
        relative = path.name
    parts = Path(relative).parts
    absolute = path.as_posix()
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        if fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(absolute, pattern):
            return True
        # "drafts" or "drafts/*": the folder itself and everything below it.
        if any(fnmatch.fnmatch("/".join(parts[: i + 1]), pattern) for i in range(len(parts))):
            return True
        if any(fnmatch.fnmatch(part, pattern) for part in parts):
            return True
    return False


def discover_files(root: Path, exclude: Sequence[str], *, follow_symlinks: bool = False,
                   skipped: list[SkippedFile] | None = None) -> Iterable[Path]:
    """Supported files under ``root`` (or ``root`` itself), sorted, pruning excluded folders early.

    Symlinked folders are never entered; a file symlink whose target is outside ``root`` is yielded only
    with ``follow_symlinks``, otherwise it is added to ``skipped`` with the reason.
    """
    if root.is_file():
        if document_kind(root) is not None and not is_excluded(root, root.parent, exclude):
            yield root
        return
    for folder, subfolders, files in os.walk(root, onerror=lambda error: log.warning("cannot list %s", error)):
        folder_path = Path(folder)
        subfolders[:] = sorted(d for d in subfolders if not is_excluded(folder_path / d, root, exclude))
        for name in sorted(files):
            path = folder_path / name
            if document_kind(path) is None or is_excluded(path, root, exclude) or not path.is_file():
                continue
            if path.is_symlink() and not follow_symlinks and not _is_under(path.resolve(), root):
                if skipped is not None:
                    skipped.append(SkippedFile(str(path), f"a symlink to {path.resolve()}, outside the indexed folder "
                                               "(set persona.follow_symlinks = true to index such files)"))
                continue
            yield path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class _Pending:
    document: Document
    mtime_ns: int
    size: int
    sha256: str


@dataclass
class _Run:
    indexed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    paragraphs_written: int = 0


def index_paths(
    roots: Sequence[str | Path],
    *,
    store: PersonaStore,
    embedder: Embedder,
    settings: PersonaSettings = PersonaSettings(),
    exclude: Sequence[str] = (),
    progress: bool = True,
    embed_window: int = 0,
) -> IndexReport:
    """Bring the store up to date with ``roots``; ``exclude`` adds to ``settings.exclude``.

    Paragraphs are embedded ``embed_window`` at a time (0: 32 batches); the embedder sorts a window by
    length, so a wide window puts paragraphs of like length into one batch and little is padding.
    """
    from tqdm import tqdm

    patterns = tuple(settings.exclude) + tuple(exclude)
    model_changed = store.ensure_model(embedder.model_id, embedder.dimension)
    run = _Run()

    candidates: list[Path] = []
    seen: set[str] = set()
    resolved_roots: list[Path] = []
    for raw_root in roots:
        root = Path(raw_root).expanduser().resolve()
        if not root.exists():
            # Kept, not removed: a missing root is more often an unmounted drive or a typo than a deletion.
            kept = sum(1 for stored in store.documents() if _is_under(Path(stored.path), root))
            reason = "no such file or folder"
            if kept:
                reason += f"; the {kept} document(s) indexed from it were kept"
            run.skipped.append(SkippedFile(str(root), reason))
            continue
        if root.is_file() and document_kind(root) is None:
            run.skipped.append(SkippedFile(str(root), f"unsupported format {root.suffix or '(no suffix)'}"))
            continue
        resolved_roots.append(root)
        for path in discover_files(root, patterns, follow_symlinks=settings.follow_symlinks, skipped=run.skipped):
            if str(path) not in seen:
                seen.add(str(path))
                candidates.append(path)

    # Stored documents under a root that were not found this time: deleted, moved away or excluded.
    gone = [
        stored.path
        for stored in store.documents()
        if stored.path not in seen and any(_is_under(Path(stored.path), root) for root in resolved_roots)
    ]
    if gone:
        store.remove_documents(gone)
        run.removed.extend(gone)

    pending: list[_Pending] = []
    pending_paragraphs = 0
    flush_at = embed_window if embed_window > 0 else settings.batch_size * 32
    bar = tqdm(total=len(candidates), unit="file", desc="indexing", file=sys.stderr, disable=not progress, leave=False)
    try:
        for path in candidates:
            item = _consider(path, store, settings, run)
            if item is not None:
                pending.append(item)
                pending_paragraphs += len(item.document.paragraphs)
            if pending_paragraphs >= flush_at or len(pending) >= flush_at:
                _flush(pending, store, embedder, run)
                pending_paragraphs = 0
            bar.update(1)
            bar.set_postfix(paragraphs=run.paragraphs_written + pending_paragraphs, refresh=False)
        _flush(pending, store, embedder, run)
    finally:
        bar.close()
    return IndexReport(
        indexed=tuple(run.indexed),
        unchanged=tuple(run.unchanged),
        removed=tuple(run.removed),
        skipped=tuple(run.skipped),
        paragraphs_written=run.paragraphs_written,
        model_changed=model_changed,
    )


def _is_under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _consider(path: Path, store: PersonaStore, settings: PersonaSettings, run: _Run) -> _Pending | None:
    """The file read and segmented when it must be (re)indexed; None when it is unchanged or unreadable."""
    key = str(path)
    try:
        stat = path.stat()
        if stat.st_size > settings.max_file_bytes:
            raise DocumentError(f"{describe_size(stat.st_size)} is over persona.max_file_bytes "
                                f"({describe_size(settings.max_file_bytes)}); not read")
        stored = store.document(key)
        if stored is not None and stored.mtime_ns == stat.st_mtime_ns and stored.size == stat.st_size:
            run.unchanged.append(key)
            return None
        digest = file_sha256(path)
        if stored is not None and stored.sha256 == digest:
            store.touch_document(key, mtime_ns=stat.st_mtime_ns, size=stat.st_size)
            run.unchanged.append(key)
            return None
        document = read_document(path, min_chars=settings.min_paragraph_chars, max_chars=settings.max_paragraph_chars,
                                 max_unpacked_bytes=settings.max_unpacked_bytes)
    except DocumentError as error:
        _skip(key, str(error), store, run)
        return None
    except OSError as error:
        _skip(key, f"cannot read: {error.strerror or error}", store, run)
        return None
    if not document.paragraphs:
        # Stored anyway (with no paragraphs), so that the next run does not read it again.
        run.skipped.append(SkippedFile(key, f"no paragraph of at least {settings.min_paragraph_chars} characters"))
    return _Pending(document, stat.st_mtime_ns, stat.st_size, digest)


def _skip(key: str, reason: str, store: PersonaStore, run: _Run) -> None:
    # A file that changed into something unreadable no longer holds the text we indexed.
    if store.document(key) is not None:
        store.remove_documents([key])
        reason += "; its earlier index entry was removed"
    run.skipped.append(SkippedFile(key, reason))


def _flush(pending: list[_Pending], store: PersonaStore, embedder: Embedder, run: _Run) -> None:
    """Embed the pending documents' paragraphs in one batch, then write each document in its transaction."""
    if not pending:
        return
    texts = [text for item in pending for text in item.document.paragraphs]
    vectors = embedder.encode(texts)
    start = 0
    for item in pending:
        count = len(item.document.paragraphs)
        store.replace_document(
            path=str(item.document.path),
            kind=item.document.kind,
            mtime_ns=item.mtime_ns,
            size=item.size,
            sha256=item.sha256,
            paragraphs=item.document.paragraphs,
            vectors=vectors[start : start + count],
        )
        start += count
        run.paragraphs_written += count
        if count:
            run.indexed.append(str(item.document.path))
    pending.clear()
