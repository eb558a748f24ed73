"""Incremental indexing into the SQLite store, with the real MiniLM embedder."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from persona_samples import AUTHOR_A, write_sample_folder

from pushkin.persona.indexer import index_paths, is_excluded
from pushkin.persona.settings import PersonaSettings
from pushkin.persona.store import PersonaStore, StoreError


@pytest.fixture()
def folder(tmp_path) -> Path:
    write_sample_folder(tmp_path / "writing")
    return tmp_path / "writing"


@pytest.fixture()
def store(tmp_path):
    with PersonaStore(tmp_path / "data" / "persona.sqlite3") as opened:
        yield opened


def _bump_mtime(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))


def test_first_run_indexes_every_format_and_stores_unit_float32_vectors(folder, store, minilm):
    report = index_paths([folder], store=store, embedder=minilm, progress=False)
    names = sorted(Path(p).name for p in report.indexed)
    assert names == ["journal.md", "letters.docx", "log.pdf", "notes.txt", "story.rtf"]
    assert report.skipped == () and report.removed == ()
    assert report.paragraphs_written == store.paragraph_count() == 11
    matrix = store.paragraph_matrix()
    assert matrix.vectors.shape == (11, 384) and matrix.vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(matrix.vectors, axis=1), 1.0, atol=1e-5)
    # The stored vector is the embedding of the stored text.
    texts = store.paragraph_texts(matrix.paragraph_ids[:3].tolist())
    again = minilm.encode([texts[int(i)] for i in matrix.paragraph_ids[:3]])
    # bfloat16 embeddings (dtype "auto" on a CPU that has it) move by ~1e-3 with the batch they ran in.
    cosines = matrix.vectors[:3] @ again.T  # (3, 3): stored x re-embedded
    assert np.diag(cosines).min() > 0.999, cosines
    assert (np.argmax(cosines, axis=1) == np.arange(3)).all()
    assert store.model_id == "all-MiniLM-L6-v2" and store.dimension == 384
    journal = _read_mode(store.path)
    assert journal == "wal"


def _read_mode(path: Path) -> str:
    connection = sqlite3.connect(str(path))
    try:
        return connection.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        connection.close()


def test_incremental_run_reads_only_changed_files_and_removes_deleted_ones(folder, store, minilm):
    index_paths([folder], store=store, embedder=minilm, progress=False)

    second = index_paths([folder], store=store, embedder=minilm, progress=False)
    assert second.indexed == () and len(second.unchanged) == 5 and second.paragraphs_written == 0

    # Touched but identical content: recognized by hash, not re-embedded.
    _bump_mtime(folder / "notes.txt")
    touched = index_paths([folder], store=store, embedder=minilm, progress=False)
    assert touched.indexed == () and len(touched.unchanged) == 5
    assert store.document(str(folder / "notes.txt")).mtime_ns == (folder / "notes.txt").stat().st_mtime_ns

    # Changed, added and deleted files.
    (folder / "notes.txt").write_text(AUTHOR_A[5] + "\n\n" + AUTHOR_A[6] + "\n\n" + AUTHOR_A[7] + "\n", encoding="utf-8")
    _bump_mtime(folder / "notes.txt")
    (folder / "sub").mkdir()
    (folder / "sub" / "new.md").write_text(AUTHOR_A[8] + "\n", encoding="utf-8")
    (folder / "story.rtf").unlink()
    third = index_paths([folder], store=store, embedder=minilm, progress=False)
    assert sorted(Path(p).name for p in third.indexed) == ["new.md", "notes.txt"]
    assert [Path(p).name for p in third.removed] == ["story.rtf"]
    assert store.document(str(folder / "story.rtf")) is None
    notes = store.document(str(folder / "notes.txt"))
    assert notes.paragraph_count == 3
    all_texts = set(store.paragraph_texts().values())
    assert AUTHOR_A[5] in all_texts and AUTHOR_A[0] not in all_texts  # the old notes are gone
    assert store.paragraph_count() == 11 - 2 - 2 + 3 + 1


def test_a_root_indexed_alone_leaves_other_roots_alone(tmp_path, store, minilm):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "a.txt").write_text(AUTHOR_A[0], encoding="utf-8")
    (second / "b.txt").write_text(AUTHOR_A[1], encoding="utf-8")
    index_paths([first, second], store=store, embedder=minilm, progress=False)
    report = index_paths([first], store=store, embedder=minilm, progress=False)
    assert report.removed == ()
    assert store.document_count() == 2
    # A root that is missing as a whole (an unmounted drive, a typo) is reported; its index is kept.
    (second / "b.txt").unlink()
    second.rmdir()
    gone = index_paths([second], store=store, embedder=minilm, progress=False)
    assert gone.removed == ()
    assert gone.skipped[0].reason == "no such file or folder; the 1 document(s) indexed from it were kept"
    assert store.document_count() == 2


def test_exclusion_patterns_skip_folders_and_remove_what_was_indexed_before(folder, store, minilm):
    (folder / "drafts").mkdir()
    (folder / "drafts" / "old.txt").write_text(AUTHOR_A[9], encoding="utf-8")
    index_paths([folder], store=store, embedder=minilm, progress=False)
    assert store.document(str(folder / "drafts" / "old.txt")) is not None

    report = index_paths([folder], store=store, embedder=minilm, progress=False, exclude=["drafts", "*.pdf"])
    assert sorted(Path(p).name for p in report.removed) == ["log.pdf", "old.txt"]
    assert store.document(str(folder / "drafts" / "old.txt")) is None


def test_is_excluded_matches_relative_paths_names_and_folders(tmp_path):
    root = tmp_path
    assert is_excluded(root / "drafts" / "a.txt", root, ["drafts"])
    assert is_excluded(root / "x" / "drafts" / "a.txt", root, ["drafts"])
    assert is_excluded(root / "x" / "y.md", root, ["x/*.md"])
    assert is_excluded(root / ".git" / "HEAD.txt", root, PersonaSettings().exclude)
    assert not is_excluded(root / "drafts2" / "a.txt", root, ["drafts"])
    assert not is_excluded(root / "a.txt", root, [])


def test_corrupt_files_are_reported_and_skipped_and_the_run_goes_on(folder, store, minilm):
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\nnot really")
    (folder / "broken.docx").write_bytes(b"garbage")
    (folder / "empty.txt").write_text("short\n", encoding="utf-8")
    (folder / "image.png").write_bytes(b"\x89PNG")  # unsupported formats are not even considered
    report = index_paths([folder, folder / "missing"], store=store, embedder=minilm, progress=False)
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert set(reasons) == {"broken.pdf", "broken.docx", "empty.txt", "missing"}
    assert "PDF" in reasons["broken.pdf"] and "docx" in reasons["broken.docx"]
    assert "no paragraph" in reasons["empty.txt"] and "no such" in reasons["missing"]
    assert len(report.indexed) == 5
    summary = report.summary()
    assert "broken.pdf" in summary and "5 file(s)" in summary

    # A good file that turns corrupt loses its stale entry, and says so.
    (folder / "letters.docx").write_bytes(b"PK broken now")
    _bump_mtime(folder / "letters.docx")
    later = index_paths([folder], store=store, embedder=minilm, progress=False)
    reason = {Path(s.path).name: s.reason for s in later.skipped}["letters.docx"]
    assert "earlier index entry was removed" in reason
    assert store.document(str(folder / "letters.docx")) is None


class _FailingEmbedder:
    """The real model, which stops working after ``calls`` batches (a crash in the middle of a run)."""

    def __init__(self, inner, calls: int) -> None:
        self._inner, self._calls = inner, calls
        self.model_id, self.dimension = inner.model_id, inner.dimension

    def encode(self, texts):
        if self._calls == 0:
            raise RuntimeError("embedder died")
        self._calls -= 1
        return self._inner.encode(texts)


def test_an_interrupted_run_leaves_whole_documents_and_resumes(folder, store, minilm):
    settings = PersonaSettings(batch_size=1)
    with pytest.raises(RuntimeError, match="embedder died"):  # embedded 4 paragraphs at a time: several windows
        index_paths([folder], store=store, embedder=_FailingEmbedder(minilm, 1), settings=settings, progress=False,
                    embed_window=4)
    written = store.documents()
    assert 0 < len(written) < 5
    for document in written:  # every stored document is complete
        assert document.paragraph_count == len(_expected_paragraphs(folder, Path(document.path).name))
    report = index_paths([folder], store=store, embedder=minilm, settings=settings, progress=False)
    assert len(report.indexed) == 5 - len(written) and len(report.unchanged) == len(written)
    assert store.paragraph_count() == 11


def _expected_paragraphs(folder: Path, name: str) -> list[str]:
    from pushkin.persona.documents import read_document

    return list(read_document(folder / name).paragraphs)


class _OtherModel:
    """A real (tiny) embedder of another dimension: letter frequencies, normalized."""

    model_id = "letter-frequencies"
    dimension = 26

    def encode(self, texts):
        rows = np.zeros((len(texts), 26), dtype=np.float32)
        for i, text in enumerate(texts):
            for ch in text.lower():
                if "a" <= ch <= "z":
                    rows[i, ord(ch) - 97] += 1
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        return rows / np.where(norms > 0, norms, 1)


def test_changing_the_model_rebuilds_the_store(folder, store, minilm):
    index_paths([folder], store=store, embedder=minilm, progress=False)
    report = index_paths([folder], store=store, embedder=_OtherModel(), progress=False)
    assert report.model_changed and len(report.indexed) == 5
    assert store.paragraph_matrix().vectors.shape == (11, 26)
    assert "embedding model changed" in report.summary()


def test_a_file_that_is_not_a_database_is_refused_clearly(tmp_path):
    path = tmp_path / "persona.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a usable persona store"):
        PersonaStore(path)
    assert path.read_bytes() == b"this is not sqlite" * 100  # nothing of the user's is overwritten


def test_replace_document_checks_vector_counts(store):
    store.ensure_model("m", 3)
    with pytest.raises(StoreError, match="2 paragraphs but 1 vectors"):
        store.replace_document(path="/x", kind="txt", mtime_ns=1, size=1, sha256="h", paragraphs=["a", "b"], vectors=np.ones((1, 3)))
    with pytest.raises(StoreError, match="dimension 3"):
        store.replace_document(path="/x", kind="txt", mtime_ns=1, size=1, sha256="h", paragraphs=["a"], vectors=np.ones((1, 4)))
    assert store.document_count() == 0
