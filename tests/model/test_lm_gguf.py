"""The GGUF path of [model] model: checked before anything loads, and only a verified conversion is reused.

(The conversion itself runs on the real Gemma 3 270M GGUF in tests/real/test_real_gemma_load.py.)
"""

from __future__ import annotations

import json

import pytest

from pushkin.model.gguf import (
    CONVERSION_VERSION,
    SOURCE_FILE,
    GgufError,
    candidate_folders,
    check_gguf,
    convert_gguf,
    describe_source,
    user_cache_root,
    verified_conversion,
)
from pushkin.model.loading import LoadOptions, ModelLoadError, check_model_source, load_base


def _fake_gguf(folder, body=b"\x03\x00\x00\x00 not really tensors"):
    path = folder / "model-q4.gguf"
    path.write_bytes(b"GGUF" + body)
    return path


def _fake_conversion(folder, source):
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"x" * 100)
    (folder / "config.json").write_text("{}")
    record = dict(path=source.path, size=source.size, sha256=source.sha256, conversion=CONVERSION_VERSION,
                  files={"model.safetensors": 100, "config.json": 2})
    (folder / SOURCE_FILE).write_text(json.dumps(record))
    return folder


def test_a_gguf_is_checked_without_loading_it(tmp_path):
    with pytest.raises(GgufError, match="does not exist"):
        check_gguf(tmp_path / "missing.gguf")
    page = tmp_path / "page.gguf"
    page.write_text("<html>Not Found</html>")
    with pytest.raises(GgufError, match="not a GGUF file"):
        check_gguf(page)
    assert check_gguf(_fake_gguf(tmp_path)) == tmp_path / "model-q4.gguf"
    # The daemon's start check and load_base say the same, as model errors (never "no config.json").
    with pytest.raises(ModelLoadError, match="not a GGUF file"):
        check_model_source(str(page))
    with pytest.raises(ModelLoadError, match="not a GGUF file"):
        load_base(LoadOptions(model=str(page)))


def test_only_a_conversion_of_exactly_this_file_is_reused(tmp_path):
    gguf = _fake_gguf(tmp_path)
    source = describe_source(gguf)
    beside, cached = candidate_folders(gguf, source)
    assert beside == tmp_path / "model-q4.safetensors"
    assert cached.parent == user_cache_root() and source.sha256[:16] in cached.name
    _fake_conversion(beside, source)
    assert verified_conversion(beside, source)
    assert convert_gguf(gguf).reused and convert_gguf(gguf).folder == beside

    # The GGUF changed (same size, other bytes): the record no longer matches.
    gguf.write_bytes(b"GGUF" + b"\x03\x00\x00\x00 not really tensorz")
    assert not verified_conversion(beside, describe_source(gguf))
    # A converted file that was cut short is not served either.
    gguf.write_bytes(b"GGUF" + b"\x03\x00\x00\x00 not really tensors")
    (beside / "model.safetensors").write_bytes(b"x" * 10)
    assert not verified_conversion(beside, source)
    (beside / "model.safetensors").unlink()
    assert not verified_conversion(beside, source)


def test_a_verified_conversion_in_the_user_cache_is_found(tmp_path):
    gguf = _fake_gguf(tmp_path)
    source = describe_source(gguf)
    _, cached = candidate_folders(gguf, source)
    _fake_conversion(cached, source)
    found = convert_gguf(gguf)
    assert found.reused and found.folder == cached


def test_a_file_that_is_not_gemma_fails_the_conversion_and_leaves_nothing(tmp_path):
    gguf = _fake_gguf(tmp_path, b"\x03\x00\x00\x00 unlike any other test's bytes")
    with pytest.raises(GgufError, match="cannot read the config"):
        convert_gguf(gguf)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model-q4.gguf"]
