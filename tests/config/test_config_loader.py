"""The one config loader: typed sections from TOML or YAML, overrides, checks, and errors naming section.key."""

from __future__ import annotations

import ast
import enum
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pushkin.config import READ_WITH, ConfigError, apply_overrides, build, find_config_file, load, read_config_file

ROOT = Path(__file__).resolve().parents[2]


class Mode(enum.Enum):
    FAST = "fast"
    CAREFUL = "careful"


def read_words(value, key):
    if not isinstance(value, str):
        raise ValueError(f"{key} must be words separated by spaces, got {value!r}")
    return tuple(value.split())


@dataclass(frozen=True)
class Inner:
    rate: float = 1.0
    names: tuple[str, ...] = ("a",)
    pair: tuple[float, float] = (0.1, 0.2)
    mode: Mode = Mode.FAST
    limit: int | None = None

    def check(self) -> None:
        if self.rate <= 0:
            raise ValueError(f"outer.inner.rate must be positive, got {self.rate}")


@dataclass(frozen=True)
class Outer:
    count: int = 3
    label: str = "x"
    on: bool = False
    words: tuple[str, ...] = field(default=(), metadata={READ_WITH: read_words})
    inner: Inner = field(default_factory=Inner)

    def check(self) -> None:
        if self.count > 10 and self.inner.rate < 1:
            raise ValueError("outer.count above 10 needs outer.inner.rate >= 1")


def test_a_table_becomes_the_typed_tree_and_missing_keys_keep_their_defaults():
    built = build(Outer, {"count": 4, "inner": {"rate": 2, "names": ["b", "c"], "mode": "careful", "limit": 7},
                          "words": "one two"}, "outer")
    assert built == Outer(count=4, words=("one", "two"),
                          inner=Inner(rate=2.0, names=("b", "c"), mode=Mode.CAREFUL, limit=7))
    assert isinstance(built.inner.rate, float)
    assert build(Outer, None) == Outer()


@pytest.mark.parametrize("table, words", [
    ({"count": "many"}, "outer.count must be an integer, got 'many'"),
    ({"count": True}, "outer.count must be an integer"),
    ({"on": 1}, "outer.on must be true or false"),
    ({"label": 5}, "outer.label must be a string"),
    ({"inner": {"rate": "fast"}}, "outer.inner.rate must be a number"),
    ({"inner": {"names": "b"}}, "outer.inner.names must be a list of strings"),
    ({"inner": {"names": ["b", 2]}}, "outer.inner.names[1] must be a string"),
    ({"inner": {"pair": [0.1]}}, "outer.inner.pair must have 2 items"),
    ({"inner": {"mode": "slow"}}, "outer.inner.mode must be one of 'fast', 'careful', got 'slow'"),
    ({"inner": {"limit": "x"}}, "outer.inner.limit must be an integer or nothing"),
    ({"inner": 3}, "outer.inner must be a table"),
    ({"inner": {"rte": 1}}, "unknown key 'rte' in [outer.inner] (known: limit, mode, names, pair, rate)"),
    ({"innr": {}}, "unknown section [outer.innr]"),
    ({"words": 3}, "outer.words must be words separated by spaces"),
    ({"inner": {"rate": 0}}, "outer.inner.rate must be positive"),
    ({"count": 11, "inner": {"rate": 0.5}}, "outer.count above 10 needs"),
])
def test_bad_values_are_errors_naming_the_key(table, words):
    with pytest.raises(ConfigError) as caught:
        build(Outer, table, "outer")
    assert words in str(caught.value)


def test_overrides_are_read_by_the_type_of_their_key_and_checked_after_all_of_them():
    base = build(Outer, {"count": 11, "inner": {"rate": 1.5}}, "outer")
    changed = apply_overrides(base, {"count": "12", "label": "true", "on": "yes", "inner.names": "[b, c]",
                                     "inner.pair": "[0.5, 2e-1]", "inner.mode": "careful", "inner.limit": "4",
                                     "words": "'a b'"})
    assert changed == Outer(count=12, label="true", on=True, words=("a", "b"),
                            inner=Inner(rate=1.5, names=("b", "c"), pair=(0.5, 0.2), mode=Mode.CAREFUL, limit=4))
    assert apply_overrides(base, {"inner.names": "d,e"}).inner.names == ("d", "e")
    assert apply_overrides(base, {"inner.rate": 2}).inner.rate == 2.0  # typed values are taken as they are
    # A value the table alone would refuse is fine once an override repairs it: checks run last.
    assert load(Outer, {"count": 11, "inner": {"rate": 0.5}}, {"inner.rate": "1"}).inner.rate == 1.0
    with pytest.raises(ConfigError, match="outer.count above 10"):
        apply_overrides(base, {"inner.rate": "0.5"}, "outer")


@pytest.mark.parametrize("overrides, words", [
    ({"cont": "1"}, "override 'cont': unknown key 'cont'"),
    ({"inner.rte": "1"}, "override 'inner.rte': unknown key 'rte' in [inner]"),
    ({"nosuch.key": "1"}, "override 'nosuch.key': unknown section [nosuch]"),
    ({"count.x": "1"}, "override 'count.x': count is a key, not a section"),
    ({"count": "lots"}, "count must be an integer, got 'lots'"),
])
def test_bad_overrides_name_the_override(overrides, words):
    with pytest.raises(ConfigError) as caught:
        apply_overrides(Outer(), overrides)
    assert words in str(caught.value)


def test_toml_and_yaml_files_read_alike(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text('count = 5\n[inner]\nrate = 2e-4\nnames = ["x"]\n', encoding="utf-8")
    yaml = tmp_path / "c.yaml"
    yaml.write_text("count: 5\ninner:\n  rate: 2e-4\n  names: [x]\n", encoding="utf-8")  # YAML 1.1 reads 2e-4 as text
    assert read_config_file(toml) == read_config_file(yaml) == {"count": 5, "inner": {"rate": 2e-4, "names": ["x"]}}
    with pytest.raises(ConfigError, match="c.toml: unknown key 'rte' in \\[inner\\]"):
        load(Outer, {"inner": {"rte": 1}}, source=str(toml))


@pytest.mark.parametrize("name, content, words", [
    ("bad.toml", "[inner\n", "not valid TOML"),
    ("bad.yaml", "inner: [1, 2\n", "not valid YAML"),
    ("list.yaml", "- 1\n- 2\n", "the top level must be a mapping"),
    ("missing.toml", None, "no such settings file"),
])
def test_unreadable_files_are_errors_naming_the_file(tmp_path, name, content, words):
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_config_file(path)
    assert words in str(caught.value) and str(path) in str(caught.value)


def test_the_config_file_is_found_in_the_xdg_folder_toml_first(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert find_config_file() is None
    folder = tmp_path / "pushkin"
    folder.mkdir()
    (folder / "config.yaml").write_text("{}\n", encoding="utf-8")
    assert find_config_file() == folder / "config.yaml"
    (folder / "config.toml").write_text("", encoding="utf-8")
    assert find_config_file() == folder / "config.toml"


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (a lazy import inside a function counts too)."""
    package = ["pushkin", *path.relative_to(ROOT).parent.parts]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("section, user", [
    ("daemon/hearing/settings.py", "pushkin.daemon.settings"),
    ("daemon/intent/settings.py", "pushkin.daemon.intent.engine"),
])
def test_a_section_module_does_not_import_the_module_that_uses_it(section, user):
    # The cycles settings <-> hearing/settings and intent/settings <-> engine are gone, lazy imports included.
    assert user not in _imports(ROOT / section)


@dataclass(frozen=True)
class Recipe:
    inner: Inner = field(default_factory=lambda: Inner(rate=5.0, limit=2))


def test_a_section_in_the_file_starts_from_its_enclosing_default_as_an_override_does():
    from_file = build(Recipe, {"inner": {"names": ["z"]}})
    assert from_file.inner == Inner(rate=5.0, limit=2, names=("z",))
    assert from_file == apply_overrides(Recipe(), {"inner.names": "[z]"})
