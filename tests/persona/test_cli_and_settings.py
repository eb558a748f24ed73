"""`pushkin index` and `pushkin persona show`, the [persona] settings, and the package's import boundaries."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from persona_samples import AUTHOR_A, write_sample_folder

from pushkin.clients.cli import main
from pushkin.persona.settings import PersonaSettings, SettingsError, load_persona_settings


@pytest.mark.slow
def test_index_then_show(tmp_path, monkeypatch, capsys, minilm):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    folder = tmp_path / "writing"
    write_sample_folder(folder)
    (folder / "drafts").mkdir()
    (folder / "drafts" / "skip.txt").write_text(AUTHOR_A[9], encoding="utf-8")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 broken")

    assert main(["index", str(folder), "--exclude", "drafts", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "indexed 5 file(s) (11 paragraphs), 0 unchanged, 0 removed, 1 skipped" in out
    assert "broken.pdf" in out and "skip.txt" not in out
    store = tmp_path / "data" / "pushkin" / "persona.sqlite3"
    assert store.is_file() and str(store) in out

    (folder / "notes.txt").unlink()
    assert main(["index", str(folder), "--exclude", "drafts", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "4 unchanged, 1 removed" in out and "removed " + str(folder / "notes.txt") in out

    assert main(["persona", "show"]) == 0
    out = capsys.readouterr().out
    assert "documents: 4 (1 docx, 1 md, 1 pdf, 1 rtf)" in out
    assert "paragraphs: 9" in out
    assert "embedding model: all-MiniLM-L6-v2" in out
    assert "mean sentence length" in out and "MTLD" in out and "Cyrillic share" in out
    assert str(folder / "journal.md") in out
    typical = out.split("most typical paragraphs (closest to the mean persona):\n")[1].split("largest documents")[0]
    assert len(typical.strip().splitlines()) == 3


def test_index_uses_the_config_folders_and_store(tmp_path, capsys, minilm):
    folder = tmp_path / "writing"
    folder.mkdir()
    (folder / "a.md").write_text(AUTHOR_A[0], encoding="utf-8")
    store = tmp_path / "elsewhere" / "p.sqlite3"
    config = tmp_path / "config.toml"
    config.write_text(f'[persona]\nfolders = ["{folder}"]\nstore_path = "{store}"\n', encoding="utf-8")
    assert main(["index", "--config", str(config), "--no-progress"]) == 0
    assert "indexed 1 file(s) (1 paragraphs)" in capsys.readouterr().out
    assert store.is_file()
    assert main(["persona", "show", "--config", str(config)]) == 0
    assert "paragraphs: 1" in capsys.readouterr().out


def test_index_without_paths_reads_the_daemon_config_file(tmp_path, monkeypatch, capsys, minilm):
    from pushkin.daemon.settings import load_settings

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    writing, notes = tmp_path / "writing", tmp_path / "notes"
    (writing / "drafts").mkdir(parents=True)
    notes.mkdir()
    (writing / "a.md").write_text(AUTHOR_A[0], encoding="utf-8")
    (writing / "drafts" / "old.md").write_text(AUTHOR_A[1], encoding="utf-8")
    (notes / "b.txt").write_text(AUTHOR_A[2], encoding="utf-8")
    config = tmp_path / "config" / "pushkin" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'[server]\nlisten = "tcp://127.0.0.1:7421"\n\n[persona]\nfolders = ["{writing}", "{notes}"]\n'
                      'exclude = ["drafts"]\ntop_k = 4\n', encoding="utf-8")
    assert load_settings().persona.folders == (str(writing), str(notes))  # the daemon reads the same section
    assert main(["index", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "indexed 2 file(s) (2 paragraphs)" in out and str(tmp_path / "data" / "pushkin" / "persona.sqlite3") in out


def test_clear_errors_without_paths_store_or_valid_config(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert main(["index"]) == 2
    assert "name a folder" in capsys.readouterr().err
    assert main(["persona", "show"]) == 1
    assert "nothing indexed yet" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text("[persona]\ntop_k = 'many'\n", encoding="utf-8")
    assert main(["index", "--config", str(bad), str(tmp_path)]) == 2
    assert "persona.top_k must be an integer" in capsys.readouterr().err


def test_settings_from_toml_and_yaml(tmp_path):
    toml = tmp_path / "config.toml"
    toml.write_text('[persona]\nfolders = ["~/Documents"]\nexclude = ["drafts"]\ntemperature = 1\ntop_k = 8\n', encoding="utf-8")
    settings = load_persona_settings(toml)
    assert settings.folders == ("~/Documents",) and settings.exclude == ("drafts",)
    assert settings.temperature == 1.0 and isinstance(settings.temperature, float) and settings.top_k == 8
    assert settings.folder_paths == (Path.home() / "Documents",)
    yaml = tmp_path / "config.yaml"
    yaml.write_text("persona:\n  embedding_model: /models/e5\n  min_paragraph_chars: 20\n", encoding="utf-8")
    assert load_persona_settings(yaml) == PersonaSettings(embedding_model="/models/e5", min_paragraph_chars=20)
    assert PersonaSettings.from_mapping({"top_k": 4}) == PersonaSettings(top_k=4)
    other = tmp_path / "other.toml"
    other.write_text("[daemon]\nsocket = 'x'\n", encoding="utf-8")
    assert load_persona_settings(other) == PersonaSettings()


def test_default_store_lives_under_xdg_data_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert PersonaSettings().resolved_store_path == tmp_path / "pushkin" / "persona.sqlite3"


@pytest.mark.parametrize(
    "section, message",
    [
        ({"folder": ["x"]}, "unknown key 'folder' in [persona]"),
        ({"folders": "x"}, "list of strings"),
        ({"top_k": 0}, "top_k must be at least 1"),
        ({"temperature": 0}, "temperature must be positive"),
        ({"temperature": "hot"}, "must be a number"),
        ({"max_paragraph_chars": 10}, "below"),
        ({"embedding_model": " "}, "empty"),
        ({"dtype": "int4"}, "dtype must be one of auto, float32, bfloat16, float16"),
        ({"threads": -1}, "threads must be 0"),
    ],
)
def test_bad_settings_say_what_is_wrong(section, message):
    with pytest.raises(SettingsError, match=message.replace("[", r"\[").replace("]", r"\]")):
        PersonaSettings.from_mapping(section)


def test_invalid_config_files(tmp_path):
    bad = tmp_path / "c.toml"
    bad.write_text("[persona\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_persona_settings(bad)
    with pytest.raises(SettingsError, match="no such settings file"):
        load_persona_settings(tmp_path / "missing.toml")


def test_the_cli_module_and_the_package_import_nothing_heavy_or_forbidden():
    # cmd_persona at import: no torch, no sentence-transformers. The persona package (projector included):
    # never grpc, never the daemon.
    code = (
        "import sys, argparse\n"
        "from pushkin.clients.cli import cmd_persona\n"
        "cmd_persona.register(argparse.ArgumentParser().add_subparsers())\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers', 'pushkin.persona') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "import pushkin.persona, pushkin.persona.projector, pushkin.persona.metrics\n"
        "bad = [m for m in sys.modules if m.startswith(('grpc', 'pushkin.daemon'))]\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy())
    assert result.returncode == 0, result.stderr
