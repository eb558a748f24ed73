"""Persona: index the user's writing, attend over it for a persona vector, and measure style.

Modules: :mod:`.settings` (the ``[persona]`` config section), :mod:`.documents` (readers and paragraph
segmentation), :mod:`.embedding` (the Embedder Protocol, sentence-transformers), :mod:`.store` (the
SQLite store), :mod:`.indexer` (incremental indexing), :mod:`.vector` (persona attention),
:mod:`.metrics` (style metrics and the composite score) and :mod:`.projector` (the PersonaPlug soft
prompt; imports torch, so it is not re-exported here).

This is an adapter package: it never imports grpc or the daemon.
"""

from .documents import Document, DocumentError, read_document
from .embedding import Embedder, EmbedderError, SentenceTransformerEmbedder, resolve_model
from .indexer import IndexReport, SkippedFile, index_paths
from .settings import PersonaSettings, SettingsError, load_persona_settings
from .store import PersonaStore, StoreError
from .vector import EmptyPersonaError, PersonaIndex, PersonaVector

__all__ = [
    "Document",
    "DocumentError",
    "Embedder",
    "EmbedderError",
    "EmptyPersonaError",
    "IndexReport",
    "PersonaIndex",
    "PersonaSettings",
    "PersonaStore",
    "PersonaVector",
    "SentenceTransformerEmbedder",
    "SettingsError",
    "SkippedFile",
    "StoreError",
    "index_paths",
    "load_persona_settings",
    "read_document",
    "resolve_model",
]
