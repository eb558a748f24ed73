"""The recipe YAMLs ship inside the package and are found by name, not by a path into the repository."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import pytest

from pushkin.training.config import PersonaConfig, load_config
from pushkin.training.recipes import resolve_config_path, shipped_recipes

ROOT = Path(__file__).resolve().parents[2]


def test_every_recipe_yaml_is_package_data():
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["pushkin.training"]
    recipes = sorted(path.relative_to(ROOT / "training").as_posix() for path in (ROOT / "training").rglob("*.yaml"))
    assert recipes and all(any(fnmatch.fnmatch(name, glob) for glob in globs) for name in recipes), (recipes, globs)
    assert {Path(name).stem for name in recipes if name.startswith("configs/")} == set(shipped_recipes())


@pytest.mark.parametrize("argv", [["--config", "persona"], ["persona.yaml"], ["--config=persona"]])
def test_a_bare_recipe_name_reads_the_shipped_yaml_from_any_folder(argv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    by_name = load_config(PersonaConfig, [*argv, "corpus.folders=[writing]"])
    by_path = load_config(PersonaConfig, [str(shipped_recipes()["persona"]), "corpus.folders=[writing]"])
    assert by_name == by_path


def test_a_file_in_the_folder_wins_over_the_shipped_recipe(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "persona.yaml").write_text("corpus:\n  folders: [mine]\n")
    assert resolve_config_path(Path("persona.yaml")) == Path("persona.yaml")
    assert resolve_config_path(Path("elsewhere/persona.yaml")) == Path("elsewhere/persona.yaml")
    assert resolve_config_path(Path("no_such_recipe")) == Path("no_such_recipe")
