"""Where the config file is and how it is read: TOML or YAML, by its suffix, into one plain mapping."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .loader import ConfigError

CONFIG_NAMES = ("config.toml", "config.yaml", "config.yml")
YAML_SUFFIXES = (".yaml", ".yml")


def config_home() -> Path:
    """``$XDG_CONFIG_HOME`` or ``~/.config``."""
    value = os.environ.get("XDG_CONFIG_HOME", "")
    return Path(value) if value else Path.home() / ".config"


def data_home() -> Path:
    """``$XDG_DATA_HOME`` or ``~/.local/share``."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if value else Path.home() / ".local" / "share"


def find_config_file() -> Path | None:
    """The first of ``$XDG_CONFIG_HOME/pushkin/config.{toml,yaml,yml}`` that exists, else None."""
    folder = config_home() / "pushkin"
    for name in CONFIG_NAMES:
        if (folder / name).is_file():
            return folder / name
    return None


def read_config_file(path: str | os.PathLike[str]) -> Mapping[str, Any]:
    """The file's top-level table: YAML for ``.yaml``/``.yml``, TOML otherwise; ConfigError naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such settings file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read the settings file: {error}") from None
    if path.suffix.lower() in YAML_SUFFIXES:
        document = _read_yaml(path, text)
    else:
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path}: not valid TOML: {error}") from None
    if not isinstance(document, Mapping):
        raise ConfigError(f"{path}: the top level must be a mapping of keys to values, got {type(document).__name__}")
    return document


def _read_yaml(path: Path, text: str) -> Any:
    import yaml  # only YAML files need it

    class Loader(yaml.SafeLoader):
        """YAML 1.1 reads ``2e-4`` as a string (it wants ``2.0e-4``); read it as the number it is, as TOML does."""

    Loader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(r"^[-+]?\d[\d_]*(?:\.\d*)?[eE][-+]?\d+$"),
                                 list("-+0123456789"))
    try:
        return yaml.load(text, Loader=Loader) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None
