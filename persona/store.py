"""The persona store: documents, their paragraphs and paragraph vectors in one local SQLite file.

Crash safety: the database runs in WAL mode, and each document is replaced in a single transaction
(its old paragraphs deleted, the new ones inserted, its fingerprint written), so an interrupted indexing
run leaves every document either fully old or fully new. Vectors are float32 blobs of E values.

The store records which embedding model wrote its vectors; vectors from two models are never mixed
(:meth:`PersonaStore.ensure_model` clears the store when the model changes).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    mtime_ns INTEGER NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    indexed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS paragraphs (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    text TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS paragraphs_by_document ON paragraphs(document_id);
"""


class StoreError(RuntimeError):
    """The store cannot be opened or holds something unexpected."""


@dataclass(frozen=True)
class StoredDocument:
    """A document's fingerprint as the store last saw it."""

    id: int
    path: str
    kind: str
    mtime_ns: int
    size: int
    sha256: str
    paragraph_count: int


@dataclass(frozen=True)
class ParagraphMatrix:
    """All paragraph vectors, row ``i`` belonging to ``paragraph_ids[i]``.

    ``vectors``: ``(N, E)`` float32, rows of norm 1.
    """

    paragraph_ids: np.ndarray  # (N,) int64
    document_ids: np.ndarray  # (N,) int64
    vectors: np.ndarray

    def __len__(self) -> int:
        return int(self.vectors.shape[0])


class PersonaStore:
    """One SQLite connection to the persona store; use as a context manager or call :meth:`close`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            if not self.path.parent.exists():
                self.path.parent.mkdir(parents=True)
                self.path.parent.chmod(0o700)  # the user's own writing: a new folder is the user's alone
        except OSError as error:
            raise StoreError(f"cannot create the store folder {self.path.parent}: {error}") from error
        try:
            # isolation_level=None: transactions are explicit (BEGIN ... COMMIT) in _transaction.
            self._connection = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute("PRAGMA synchronous=NORMAL")
            self._connection.execute("PRAGMA foreign_keys=ON")
            self._connection.executescript(_SCHEMA)
            version = self._meta("schema_version")
            if version is None:
                self._set_meta("schema_version", str(SCHEMA_VERSION))
            elif int(version) != SCHEMA_VERSION:
                raise StoreError(f"{self.path} has schema version {version}; this version reads {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as error:
            raise StoreError(f"{self.path} is not a usable persona store: {error}") from error

    def __enter__(self) -> PersonaStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._connection.close()

    # -- metadata -----------------------------------------------------------------------------------
    def _meta(self, key: str) -> str | None:
        row = self._connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._connection.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    @property
    def model_id(self) -> str | None:
        return self._meta("model_id")

    @property
    def dimension(self) -> int | None:
        value = self._meta("dimension")
        return None if value is None else int(value)

    def ensure_model(self, model_id: str, dimension: int) -> bool:
        """Record the embedder; returns True when vectors of another model were present and were cleared."""
        cleared = False
        with self._transaction():
            if (self.model_id, self.dimension) != (model_id, dimension):
                cleared = self.model_id is not None and self.document_count() > 0
                self._connection.execute("DELETE FROM documents")
                self._set_meta("model_id", model_id)
                self._set_meta("dimension", str(dimension))
        return cleared

    # -- documents ----------------------------------------------------------------------------------
    def _transaction(self):
        return _Transaction(self._connection)

    def documents(self) -> list[StoredDocument]:
        rows = self._connection.execute(
            """SELECT d.id, d.path, d.kind, d.mtime_ns, d.size, d.sha256, COUNT(p.id)
               FROM documents d LEFT JOIN paragraphs p ON p.document_id = d.id
               GROUP BY d.id ORDER BY d.path"""
        ).fetchall()
        return [StoredDocument(*row) for row in rows]

    def document(self, path: str) -> StoredDocument | None:
        row = self._connection.execute(
            """SELECT d.id, d.path, d.kind, d.mtime_ns, d.size, d.sha256,
                      (SELECT COUNT(*) FROM paragraphs p WHERE p.document_id = d.id)
               FROM documents d WHERE d.path = ?""",
            (path,),
        ).fetchone()
        return None if row is None else StoredDocument(*row)

    def document_count(self) -> int:
        return int(self._connection.execute("SELECT COUNT(*) FROM documents").fetchone()[0])

    def paragraph_count(self) -> int:
        return int(self._connection.execute("SELECT COUNT(*) FROM paragraphs").fetchone()[0])

    def replace_document(
        self,
        *,
        path: str,
        kind: str,
        mtime_ns: int,
        size: int,
        sha256: str,
        paragraphs: Sequence[str],
        vectors: np.ndarray,
    ) -> int:
        """Write one document and its paragraphs atomically; ``vectors``: ``(len(paragraphs), E)``."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape[0] != len(paragraphs):
            raise StoreError(f"{len(paragraphs)} paragraphs but {vectors.shape[0]} vectors for {path}")
        dimension = self.dimension
        if len(paragraphs) and dimension is not None and vectors.shape[1] != dimension:
            raise StoreError(f"vectors of length {vectors.shape[1]} in a store of dimension {dimension}")
        with self._transaction():
            self._connection.execute("DELETE FROM documents WHERE path = ?", (path,))
            cursor = self._connection.execute(
                "INSERT INTO documents(path, kind, mtime_ns, size, sha256, indexed_at) VALUES(?, ?, ?, ?, ?, ?)",
                (path, kind, mtime_ns, size, sha256, time.time()),
            )
            document_id = cursor.lastrowid
            assert document_id is not None  # an INSERT always sets it
            self._connection.executemany(
                "INSERT INTO paragraphs(document_id, position, text, vector) VALUES(?, ?, ?, ?)",
                ((document_id, i, text, vectors[i].tobytes()) for i, text in enumerate(paragraphs)),
            )
        return document_id

    def touch_document(self, path: str, *, mtime_ns: int, size: int) -> None:
        """The file's content is unchanged (same hash); remember its new mtime so it is not hashed again."""
        with self._transaction():
            self._connection.execute("UPDATE documents SET mtime_ns = ?, size = ? WHERE path = ?", (mtime_ns, size, path))

    def remove_documents(self, paths: Sequence[str]) -> int:
        with self._transaction():
            removed = 0
            for path in paths:
                removed += self._connection.execute("DELETE FROM documents WHERE path = ?", (path,)).rowcount
        return removed

    # -- paragraphs ---------------------------------------------------------------------------------
    def paragraph_matrix(self) -> ParagraphMatrix:
        """Every stored vector as one ``(N, E)`` float32 matrix (unit rows)."""
        dimension = self.dimension or 0
        rows = self._connection.execute("SELECT id, document_id, vector FROM paragraphs ORDER BY id").fetchall()
        matrix = np.empty((len(rows), dimension), dtype=np.float32)
        for i, (_, _, blob) in enumerate(rows):
            matrix[i] = np.frombuffer(blob, dtype=np.float32)
        return ParagraphMatrix(
            paragraph_ids=np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows)),
            document_ids=np.fromiter((row[1] for row in rows), dtype=np.int64, count=len(rows)),
            vectors=matrix,
        )

    def paragraph_texts(self, paragraph_ids: Sequence[int] | None = None) -> dict[int, str]:
        """Texts by paragraph id (all of them when ``paragraph_ids`` is None)."""
        if paragraph_ids is None:
            rows = self._connection.execute("SELECT id, text FROM paragraphs").fetchall()
        else:
            ids = [int(i) for i in paragraph_ids]
            rows = []
            for start in range(0, len(ids), 500):  # SQLite limits the number of bound parameters
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows += self._connection.execute(f"SELECT id, text FROM paragraphs WHERE id IN ({marks})", chunk).fetchall()
        return {int(i): str(text) for i, text in rows}

    def iter_texts(self) -> Iterator[str]:
        for (text,) in self._connection.execute("SELECT text FROM paragraphs ORDER BY document_id, position"):
            yield str(text)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK when the block raises."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def __enter__(self) -> None:
        self._connection.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self._connection.execute("COMMIT")
        else:
            self._connection.execute("ROLLBACK")
