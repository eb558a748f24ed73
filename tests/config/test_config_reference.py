"""docs/configuration.md is what scripts/config_reference.py renders from the settings dataclasses."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from pushkin.config.reference import field_comments, render_section

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Sample:
    """A sample section."""

    plain: int = 1
    trailing: str = "a # not a comment"  # the one after the value
    # The lines just above,
    # both of them.
    above: bool = True  # then this one
    choices: tuple[str, ...] = ("x", "y")


def test_a_field_is_documented_by_its_own_comments():
    assert field_comments(Sample) == {"plain": "", "trailing": "the one after the value",
                                      "above": "The lines just above, both of them. then this one", "choices": ""}


def test_a_section_renders_as_a_table_of_keys_types_and_defaults():
    lines = render_section(Sample(), "sample", "##")
    assert lines[:4] == ["## [sample]", "", "A sample section.", ""]
    assert '| `trailing` | `str` | `"a # not a comment"` | the one after the value |' in lines
    assert '| `choices` | `tuple[str, ...]` | `["x", "y"]` |  |' in lines


def test_the_committed_reference_matches_the_dataclasses():
    spec = importlib.util.spec_from_file_location("config_reference", ROOT / "scripts" / "config_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == module.render(), "run: python scripts/config_reference.py > docs/configuration.md"
