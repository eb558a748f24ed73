"""Gemma 3 270M from its GGUF: converted once into a verified safetensors cache, then loaded from it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from pushkin.model.gguf import SOURCE_FILE, convert_gguf, verified_conversion
from pushkin.model.loading import LoadOptions, load_base
from pushkin.model.rewrite import RewriteOptions, RewriteRequest, rewrite
from pushkin.model.tokens import input_only_ids

GGUF_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"

# The session's one GGUF conversion (minutes on a busy 2-core machine) runs in the first test's setup.
pytestmark = pytest.mark.timeout(1800)


def test_the_gguf_converts_once_and_the_next_start_reuses_the_verified_cache(gemma_270m):
    assert not gemma_270m.reused and gemma_270m.source.sha256 == GGUF_SHA256
    folder = gemma_270m.folder
    assert folder.parent == Path(gemma_270m.source.path).parent  # beside the (linked) GGUF
    assert (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file()
    # Plain float weights: nothing says "GGUF-quantized" any more (trainers refuse such a model).
    assert "quantization_config" not in json.loads((folder / "config.json").read_text())
    record = json.loads((folder / SOURCE_FILE).read_text())
    assert record["sha256"] == GGUF_SHA256 and record["files"]["model.safetensors"] > 500_000_000
    written = (folder / "model.safetensors").stat().st_mtime_ns

    again = convert_gguf(gemma_270m.source.path)
    assert again.reused and again.folder == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == written
    # Another file (a different sha256) would not be served this cache.
    other = dataclasses.replace(gemma_270m.source, sha256="0" * 64)
    assert verified_conversion(folder, gemma_270m.source) and not verified_conversion(folder, other)


def test_the_gguf_path_loads_as_gemma_and_a_plain_base_rewrite_stops(gemma_270m):
    from transformers import Gemma3ForCausalLM

    from pushkin.model.composed import ComposedModel
    from pushkin.model.registry import AdapterRegistry

    loaded = load_base(LoadOptions(model=gemma_270m.source.path))
    assert isinstance(loaded.model, Gemma3ForCausalLM)
    assert loaded.model.config.hidden_size == 640 and loaded.model.config.num_hidden_layers == 18
    added = input_only_ids(loaded.tokenizer)
    assert len(added) == 5  # the audio and silence tokens, added by load_base
    weight = loaded.model.get_input_embeddings().weight
    assert loaded.model.get_output_embeddings().weight.data_ptr() == weight.data_ptr()

    lm = ComposedModel(loaded, AdapterRegistry(None))
    result = rewrite(lm, RewriteRequest("translate_ru", "The cat is sleeping."),
                     RewriteOptions(temperature=0.0, min_p=0.0))
    # The few-shot prompt is followed: one Russian line, stopped at the blank line, no added token in it.
    assert result.text and "\n" not in result.text and "<" not in result.text
    assert any("\u0400" <= c <= "\u04ff" for c in result.text), result.text
