"""The daemon's side of the persona: the [persona] settings section and the persona service."""

from __future__ import annotations

import pytest

from pushkin.daemon.settings import SettingsError, load_settings
from pushkin.persona.settings import PersonaSettings


def test_persona_section_in_the_daemon_settings(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[persona]\nfolders = ["~/writing", "~/notes"]\ntop_k = 8\ntemperature = 1\n'
                    f'store_path = "{tmp_path / "p.sqlite3"}"\n', encoding="utf-8")
    settings = load_settings(path)
    assert settings.persona == PersonaSettings(folders=("~/writing", "~/notes"), top_k=8, temperature=1.0,
                                               store_path=str(tmp_path / "p.sqlite3"))
    overridden = load_settings(path, {"persona.top_k": "4", "persona.embedding_model": "/models/mini"})
    assert overridden.persona.top_k == 4 and overridden.persona.embedding_model == "/models/mini"
    assert overridden.persona.folders == ("~/writing", "~/notes")
    assert load_settings().persona == PersonaSettings()  # no file: the defaults


@pytest.mark.parametrize("content, overrides, words", [
    ("[persona]\ntop_kk = 3\n", {}, "unknown [persona] setting(s): top_kk"),
    ("[persona]\nfolders = 'x'\n", {}, "persona.folders must be a list of strings"),
    ("[persona]\ntemperature = 0\n", {}, "persona.temperature must be positive"),
    ("", {"persona.top_k": "0"}, "persona.top_k must be at least 1"),
    ("", {"persona.top_k": "many"}, "expected an integer"),
    ("", {"persona.folders": "['a']"}, "only plain keys of [persona]"),
])
def test_bad_persona_settings_name_the_problem(tmp_path, content, overrides, words):
    path = tmp_path / "config.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SettingsError, match=None) as caught:
        load_settings(path, overrides)
    assert words in str(caught.value)
