"""Saving an adapter on a base whose vocabulary load_base grew (as with every real Gemma tokenizer).

PEFT then wants to save the whole embedding, which Gemma ties to the output layer, and safetensors refuses
the shared tensors after the whole training run. An adapter holds its LoRA weights only, and a failed save
leaves no folder behind.
"""

from __future__ import annotations

import pytest
import torch

from pushkin.model.composed import ComposedModel
from pushkin.model.loading import LoadOptions, load_base
from pushkin.model.registry import (
    WEIGHTS_FILE,
    AdapterError,
    AdapterKind,
    AdapterManifest,
    AdapterRegistry,
    Mode,
    save_adapter,
)
from pushkin.model.tiny import LORA_TARGETS, TinyGemmaOptions, build_tiny_gemma


@pytest.fixture(scope="module")
def plain_base(tmp_path_factory):
    torch.set_num_threads(1)
    return build_tiny_gemma(tmp_path_factory.mktemp("plain-gemma"), TinyGemmaOptions(input_only_tokens=False))


def _trained_peft(base):
    from peft import LoraConfig, get_peft_model

    loaded = load_base(LoadOptions(model=str(base)))
    assert len(loaded.tokenizer) > loaded.model.config.vocab_size - 1 and loaded.model.config.vocab_size > 640
    manifest = AdapterManifest("rephrase", AdapterKind.TASK, str(base), rank=4, task="rephrase")
    torch.manual_seed(0)
    peft = get_peft_model(loaded.model, LoraConfig(r=4, lora_alpha=4, target_modules=list(LORA_TARGETS),
                                                   init_lora_weights=False), adapter_name=manifest.peft_name)
    return loaded, peft, manifest


def test_adapter_saves_lora_weights_only_and_reloads_identically(plain_base, tmp_path):
    from safetensors import safe_open

    loaded, peft, manifest = _trained_peft(plain_base)
    entry = save_adapter(peft, manifest.peft_name, tmp_path / "task-rephrase", manifest)
    with safe_open(str(entry.folder / WEIGHTS_FILE), "pt") as weights:
        keys = list(weights.keys())
    assert keys and all("lora_" in k for k in keys)
    assert not any("embed_tokens" in k or "lm_head" in k for k in keys)
    assert (entry.folder / WEIGHTS_FILE).stat().st_size < 200_000  # the embedding alone would be 645×64 floats × 2

    ids = loaded.tokenizer("The writer opened the window.", return_tensors="pt").input_ids
    with torch.no_grad():
        trained = peft(input_ids=ids).logits
    composed = ComposedModel(load_base(LoadOptions(model=str(plain_base))), AdapterRegistry(tmp_path))
    assert not composed.load_problems
    composed.compose(Mode.REWRITE, "rephrase")
    assert composed.status.active == ("task:rephrase",)
    assert torch.allclose(composed.logits(input_ids=ids), trained, atol=1e-5)


def test_a_failed_save_leaves_no_folder_and_keeps_the_previous_adapter(plain_base, tmp_path):
    _, peft, manifest = _trained_peft(plain_base)
    folder = tmp_path / "task-rephrase"
    with pytest.raises(AdapterError, match="safetensors"):
        save_adapter(peft, manifest.peft_name, folder, manifest, extra={"projector.pt": {"w": torch.zeros(2)}})
    assert not folder.exists() and not list(tmp_path.iterdir())

    first = save_adapter(peft, manifest.peft_name, folder, manifest)
    before = (first.folder / WEIGHTS_FILE).read_bytes()
    with pytest.raises(AttributeError):  # not a tensor: the writer fails part-way, reaching for .detach()
        save_adapter(peft, manifest.peft_name, folder, manifest, extra={"bad.safetensors": {"w": object()}})
    assert (folder / WEIGHTS_FILE).read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["task-rephrase"]
