"""Loading Gemma 3 through the one loading function: tiny checkpoints stand in for the real weights."""

from __future__ import annotations

import json

import pytest
import torch

from pushkin.model.loading import (
    DEFAULT_MODEL,
    LoadOptions,
    ModelLoadError,
    ModelNotFoundError,
    embed_scale,
    load_base,
    pick_dtype,
)
from pushkin.model.tokens import special_token_ids


def test_text_checkpoint_loads_as_causal_lm(tiny):
    from transformers import Gemma3ForCausalLM

    loaded = load_base(LoadOptions(model=str(tiny.base)))
    assert isinstance(loaded.model, Gemma3ForCausalLM)
    assert (loaded.device, loaded.dtype) == ("cpu", "float32")
    assert not loaded.model.training
    ids = special_token_ids(loaded.tokenizer)
    assert len(set(ids.silence)) == 4 and ids.audio not in ids.silence
    assert embed_scale(loaded.model) == pytest.approx(loaded.hidden_size ** 0.5)


def test_image_text_checkpoint_loads_only_its_text_stack(tiny):
    from transformers import Gemma3ForCausalLM, Gemma3ForConditionalGeneration

    progress = []
    loaded = load_base(LoadOptions(model=str(tiny.multimodal)), progress=progress.append)
    assert isinstance(loaded.model, Gemma3ForCausalLM)
    assert not any("vision" in name for name, _ in loaded.model.named_parameters())
    full = Gemma3ForConditionalGeneration.from_pretrained(tiny.multimodal)
    ids = loaded.tokenizer("Перефразируй это, please", return_tensors="pt").input_ids
    with torch.no_grad():
        assert torch.equal(loaded.model(ids).logits, full(input_ids=ids).logits)
    assert progress[0].fraction == 0.0 and progress[-1].fraction == 1.0 and progress[-1].stage == "ready"


def test_missing_hub_weights_name_the_model_and_how_to_get_them(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFoundError) as caught:
        load_base(LoadOptions(model=DEFAULT_MODEL))
    message = str(caught.value)
    assert DEFAULT_MODEL in message
    assert "huggingface-cli download google/gemma-3-4b-pt" in message
    assert "licence" in message and "gemma-3-1b-pt" in message


def test_missing_folder_and_folder_without_weights(tmp_path):
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        load_base(LoadOptions(model=str(tmp_path / "nowhere" / "model")))
    with pytest.raises(ModelNotFoundError, match="no config.json"):
        load_base(LoadOptions(model=str(tmp_path)))
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gemma3_text"}))
    with pytest.raises(ModelNotFoundError, match="no \\*.safetensors"):
        load_base(LoadOptions(model=str(tmp_path)))


def test_pickled_weights_are_refused(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gemma3_text"}))
    (tmp_path / "pytorch_model.bin").write_bytes(b"\x80\x04not really a pickle")
    with pytest.raises(ModelLoadError, match="never unpickles"):
        load_base(LoadOptions(model=str(tmp_path)))


def test_other_architectures_are_refused(tmp_path, tiny):
    import shutil

    shutil.copytree(tiny.base, tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config["model_type"] = "llama"
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="needs Gemma 3"):
        load_base(LoadOptions(model=str(tmp_path / "m")))


def test_quantization_without_cuda_says_why(tiny):
    with pytest.raises(ModelLoadError, match="CUDA"):
        load_base(LoadOptions(model=str(tiny.base), quantization="4bit"))
    with pytest.raises(ModelLoadError, match="unknown quantization"):
        load_base(LoadOptions(model=str(tiny.base), quantization="3bit"))


def test_dtype_choice():
    assert pick_dtype("cpu") is torch.float32
    assert pick_dtype("cuda") is torch.bfloat16
    assert pick_dtype("cpu", "bfloat16") is torch.bfloat16
    with pytest.raises(ModelLoadError, match="unknown dtype"):
        pick_dtype("cpu", "float8")


def test_bf16_on_cpu_scales_embeddings_like_gemma(tiny):
    loaded = load_base(LoadOptions(model=str(tiny.base), dtype="bfloat16"))
    assert loaded.dtype == "bfloat16"
    table = loaded.model.get_input_embeddings()
    ids = torch.tensor([[5, 9]])
    expected = table.weight[ids] * embed_scale(loaded.model)
    assert torch.equal(table(ids), expected.to(torch.bfloat16))
