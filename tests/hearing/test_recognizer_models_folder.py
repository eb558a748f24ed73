"""Recognizer names resolve to the models folder `pushkin models fetch` fills, checked before they load."""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pytest

from pushkin.daemon.hearing.recognizer import FasterWhisperRecognizer, ModelMissing
from pushkin.daemon.hearing.settings import RecognizerSettings
from pushkin.model import catalog


@pytest.fixture
def models(tmp_path, monkeypatch, tiny_whisper):
    """A models folder holding the tiny test Whisper as `whisper-base`, as a hub fetch leaves it."""
    folder = tmp_path / "models" / "whisper-base"
    shutil.copytree(tiny_whisper, folder)
    files = {p.name: {"sha256": hashlib.sha256(p.read_bytes()).hexdigest(), "size": p.stat().st_size}
             for p in folder.iterdir() if p.is_file()}
    (folder / catalog.MANIFEST).write_text(json.dumps({"name": "whisper-base", "source": "hub", "files": files}))
    monkeypatch.setenv("PUSHKIN_MODELS_DIR", str(tmp_path / "models"))
    return folder


@pytest.mark.parametrize("name", ["base", "whisper-base", "Systran/faster-whisper-base"])
def test_a_fetched_recognizer_loads_by_name_without_the_hub(models, tiny_recognizer_settings, name):
    import dataclasses

    settings = dataclasses.replace(tiny_recognizer_settings, model=name, allow_download=False)
    recognizer = FasterWhisperRecognizer(settings)
    recognizer.load()
    assert recognizer.loaded
    assert recognizer.transcribe(np.zeros(16000, dtype=np.float32), language="en").language == "en"


def test_a_changed_file_is_refused_before_it_loads(models, tiny_recognizer_settings):
    import dataclasses

    with open(models / "model.bin", "r+b") as handle:
        handle.seek(100)
        handle.write(b"\xff\xfe")
    recognizer = FasterWhisperRecognizer(dataclasses.replace(tiny_recognizer_settings, model="base"))
    with pytest.raises(ModelMissing, match=r"whisper-base .* does not check out \(model.bin: mismatch\)"):
        recognizer.load()
    assert not recognizer.loaded


def test_the_default_recognizer_is_one_the_offline_source_carries():
    entry = catalog.find(RecognizerSettings().model)
    assert entry.name == "whisper-base" and entry.files, "the default must be fetchable without the hub"
