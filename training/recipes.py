"""The recipe configs shipped inside the package (``training/configs/*.yaml``), found by name from any folder:
``--config persona`` reads the installed ``persona.yaml``, wherever the package was installed."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SUFFIXES = (".yaml", ".yml")


def shipped_recipes() -> dict[str, Path]:
    """Every shipped recipe by name (``persona``, ``task_rephrase``, ...)."""
    folder = resources.files(__package__) / "configs"
    return {Path(entry.name).stem: Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(SUFFIXES)}


def resolve_config_path(path: Path) -> Path:
    """``path`` when it is a file or names a folder; else the shipped recipe a bare name means
    (``persona`` or ``persona.yaml``); else ``path`` unchanged (for the caller's "not found")."""
    if path.is_file() or path.parent != Path("."):
        return path
    name = path.stem if path.suffix in SUFFIXES else path.name
    return shipped_recipes().get(name, path)
