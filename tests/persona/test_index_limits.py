"""`pushkin index` stays inside the indexed folder and within its size caps (issue 11, item 9).

Real files: a zip-bomb .docx (a valid package whose document.xml unpacks to 8 MB from a few KB), a .txt over
the size cap, and a symlink to a file outside the folder; the real MiniLM embedder; small caps set in the
config file so the test files stay small.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from persona_samples import AUTHOR_A, write_docx

from pushkin.clients.cli import main
from pushkin.persona.settings import PersonaSettings, SettingsError
from pushkin.persona.store import PersonaStore

BOMB_UNPACKED = 8 * 1024 * 1024


def write_zip_bomb_docx(path: Path) -> None:
    """A real .docx whose main part is padded with an 8 MB XML comment (it compresses to a few KB)."""
    plain = path.with_suffix(".plain.docx")
    write_docx(plain, [AUTHOR_A[5]])
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "word/document.xml":
                declaration, _, rest = data.partition(b"?>")
                data = declaration + b"?><!--" + b" " * BOMB_UNPACKED + b"-->" + rest
            bomb.writestr(member, data, compress_type=zipfile.ZIP_DEFLATED)
    plain.unlink()


@pytest.fixture()
def layout(tmp_path):
    folder = tmp_path / "writing"
    folder.mkdir()
    (folder / "notes.txt").write_text(AUTHOR_A[0] + "\n\n" + AUTHOR_A[10] + "\n", encoding="utf-8")
    write_docx(folder / "letters.docx", [AUTHOR_A[2]])
    write_zip_bomb_docx(folder / "bomb.docx")
    (folder / "huge.txt").write_text((AUTHOR_A[3] + "\n\n") * 400, encoding="utf-8")  # ~100 KB, over the cap
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "secret.txt").write_text(AUTHOR_A[7] + "\n", encoding="utf-8")
    (folder / "link.txt").symlink_to(outside / "secret.txt")
    (folder / "inner-link.md").symlink_to(folder / "notes.txt")  # stays inside: indexed as before
    return folder


def run_index(tmp_path, folder, capsys, **extra) -> tuple[str, Path]:
    store = tmp_path / "data" / "p.sqlite3"
    lines = [f'folders = ["{folder}"]', f'store_path = "{store}"', "max_file_bytes = 65536",
             "max_unpacked_bytes = 1048576"] + [f"{key} = {value}" for key, value in extra.items()]
    config = tmp_path / "config.toml"
    config.write_text("[persona]\n" + "\n".join(lines) + "\n", encoding="utf-8")
    assert main(["index", "--config", str(config), "--no-progress"]) == 0
    return capsys.readouterr().out, store


def stored(store_path: Path) -> tuple[set[str], str]:
    with PersonaStore(store_path) as store:
        names = {Path(document.path).name for document in store.documents()}
        texts = store.paragraph_texts()
    return names, " ".join(texts.values())


def test_index_skips_what_is_outside_or_too_big_and_stores_the_rest(tmp_path, layout, capsys, minilm):
    out, store_path = run_index(tmp_path, layout, capsys)
    assert f"skipped {layout / 'bomb.docx'}: unpacks to" in out and "max_unpacked_bytes" in out, out
    assert f"skipped {layout / 'huge.txt'}:" in out and "max_file_bytes" in out, out
    assert f"skipped {layout / 'link.txt'}: a symlink to" in out and "outside the indexed folder" in out, out
    names, text = stored(store_path)
    assert {"notes.txt", "letters.docx", "inner-link.md"} <= names
    assert not names & {"bomb.docx", "huge.txt", "link.txt"}
    assert AUTHOR_A[0] in text and AUTHOR_A[2] in text
    assert AUTHOR_A[7] not in text  # the file outside the folder was never read into the store
    assert AUTHOR_A[5] not in text and AUTHOR_A[3] not in text


def test_follow_symlinks_is_the_users_choice(tmp_path, layout, capsys, minilm):
    out, store_path = run_index(tmp_path, layout, capsys, follow_symlinks="true")
    names, text = stored(store_path)
    assert "link.txt" in names and AUTHOR_A[7] in text, out


@pytest.mark.parametrize("table, fragment", [
    ({"max_file_bytes": 0}, "max_file_bytes must be at least 1"),
    ({"max_unpacked_bytes": -5}, "max_unpacked_bytes must be at least 1"),
    ({"follow_symlinks": "yes"}, "follow_symlinks must be true or false"),
    ({"max_file_bytes": "big"}, "must be an integer"),
])
def test_bad_limits_are_refused_with_the_setting_named(table, fragment):
    with pytest.raises(SettingsError, match=fragment):
        PersonaSettings.from_mapping(table)


def test_the_defaults_are_sane():
    settings = PersonaSettings()
    assert settings.follow_symlinks is False
    assert 1024 * 1024 <= settings.max_file_bytes <= 1024**3
    assert 1024 * 1024 <= settings.max_unpacked_bytes <= 4 * 1024**3
