"""The adapter registry format: manifests, safetensors only, problems reported."""

from __future__ import annotations

import shutil

import pytest

from pushkin.model.registry import (
    AdapterError,
    AdapterKind,
    AdapterManifest,
    AdapterRegistry,
    Mode,
    UnsafeAdapterError,
    composition_for,
    read_adapter,
)


def test_manifest_round_trip_and_validation():
    manifest = AdapterManifest("formal", AdapterKind.TASK, "google/gemma-3-4b-pt", 64, task="formal")
    assert AdapterManifest.from_json(manifest.to_json()) == manifest
    assert manifest.peft_name == "task__formal"
    with pytest.raises(AdapterError, match="needs a task name"):
        AdapterManifest("x", AdapterKind.TASK, "m", 8)
    with pytest.raises(AdapterError, match="lowercase"):
        AdapterManifest("Bad Name", AdapterKind.PERSONA, "m", 8)
    with pytest.raises(AdapterError, match="not a valid adapter manifest"):
        AdapterManifest.from_json('{"name": "x", "kind": "vision", "base_model": "m", "rank": 4}')


def test_registry_lists_good_folders_and_reports_bad_ones(tiny, tmp_path):
    for name in ("persona-writer", "task-rewrite", "audio-speech"):
        shutil.copytree(tiny.adapters / name, tmp_path / name)
    (tmp_path / "audio-speech" / "extra.pt").write_bytes(b"pickle")
    (tmp_path / "task-rewrite" / "adapter_model.safetensors").unlink()
    (tmp_path / "empty").mkdir()
    registry = AdapterRegistry(tmp_path)
    assert [e.manifest.name for e in registry.entries] == ["writer"]
    reasons = {p.folder.rsplit("/", 1)[-1]: p.reason for p in registry.problems}
    assert "never unpickles" in reasons["audio-speech"]
    assert "lacks adapter_model.safetensors" in reasons["task-rewrite"]
    assert "lacks pushkin_adapter.json" in reasons["empty"]
    with pytest.raises(UnsafeAdapterError):
        read_adapter(tmp_path / "audio-speech")


def test_registry_finds_by_kind_and_task(tiny):
    registry = AdapterRegistry(tiny.adapters)
    assert registry.find(AdapterKind.TASK, task="continue").manifest.name == "continue"
    assert registry.find(AdapterKind.TASK, task="summarize") is None
    assert registry.find(AdapterKind.AUDIO).manifest.rank == 8


def test_composition_by_mode():
    auto = composition_for(Mode.AUTOCOMPLETE)
    assert (auto.wants_persona, auto.wants_audio, auto.task) == (False, False, "continue")
    for mode in (Mode.DICTATION, Mode.COMMAND, Mode.REWRITE):
        wanted = composition_for(mode, "formal")
        assert wanted.wants_persona and wanted.wants_audio and wanted.task == "formal"
