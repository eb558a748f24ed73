"""The PersonaPlug projector: shapes, gradients, save/load beside the adapter, and the soft prompt in a tiny Gemma 3."""

from __future__ import annotations

import json
import math

import pytest
import torch

from pushkin.persona.projector import (
    PROJECTOR_CONFIG,
    PROJECTOR_WEIGHTS,
    PersonaPlugProjector,
    ProjectorConfig,
    ProjectorError,
    has_projector,
    load_projector,
    prepend_soft_prompt,
    save_projector,
)


def _projector(**overrides) -> PersonaPlugProjector:
    torch.manual_seed(0)
    return PersonaPlugProjector(ProjectorConfig(**({"persona_dim": 384, "hidden_size": 64, "num_tokens": 4} | overrides)))


def test_shapes_and_scale():
    projector = _projector(embed_scale=8.0)
    out = projector(torch.randn(3, 384))
    assert out.shape == (3, 4, 64)
    # Each soft token is layer-normalized, then scaled: per-token RMS is embed_scale.
    rms = out.pow(2).mean(dim=-1).sqrt()
    torch.testing.assert_close(rms, torch.full((3, 4), 8.0), atol=1e-2, rtol=1e-3)
    assert projector(torch.randn(384)).shape == (1, 4, 64)  # a single vector is a batch of one
    assert projector.config.width == 384
    assert _projector(intermediate_size=32).up.out_features == 32


def test_bad_shapes_and_configs_are_refused():
    with pytest.raises(ValueError, match=r"\(B, 384\)"):
        _projector()(torch.randn(2, 100))
    with pytest.raises(ValueError, match="num_tokens"):
        ProjectorConfig(num_tokens=0)
    with pytest.raises(ValueError, match="embed_scale"):
        ProjectorConfig(embed_scale=0.0)


def test_gradients_reach_every_parameter_and_training_fits_targets():
    projector = _projector(intermediate_size=64)
    personas = torch.nn.functional.normalize(torch.randn(2, 384), dim=-1)
    targets = torch.randn(2, 4, 64)
    out = projector(personas)
    loss = torch.nn.functional.mse_loss(out, targets)
    loss.backward()
    for name, parameter in projector.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name
    optimizer = torch.optim.SGD(projector.parameters(), lr=0.5, momentum=0.9)
    first = None
    for _ in range(40):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(projector(personas), targets)
        first = first if first is not None else loss.item()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.2 * first
    # Different personas give different soft prompts.
    with torch.no_grad():
        out = projector(personas)
    assert (out[0] - out[1]).abs().mean() > 0.1


def test_save_and_load_round_trip(tmp_path):
    projector = _projector(embed_scale=math.sqrt(64))
    folder = tmp_path / "adapters" / "persona"
    save_projector(projector, folder)
    assert has_projector(folder)
    assert sorted(p.name for p in folder.iterdir()) == [PROJECTOR_CONFIG, PROJECTOR_WEIGHTS]
    config = json.loads((folder / PROJECTOR_CONFIG).read_text())
    assert config == {
        "format": "pushkin.persona_projector", "version": 1, "persona_dim": 384, "hidden_size": 64,
        "num_tokens": 4, "intermediate_size": 0, "embed_scale": 8.0, "embedding_model": "all-MiniLM-L6-v2",
    }
    loaded = load_projector(folder)
    persona = torch.randn(2, 384)
    with torch.no_grad():
        torch.testing.assert_close(loaded(persona), projector(persona))
    assert load_projector(folder, dtype=torch.bfloat16).up.weight.dtype == torch.bfloat16


def test_loading_a_broken_projector_says_why(tmp_path):
    with pytest.raises(ProjectorError, match="holds no persona projector"):
        load_projector(tmp_path)
    save_projector(_projector(), tmp_path)
    config = json.loads((tmp_path / PROJECTOR_CONFIG).read_text())
    (tmp_path / PROJECTOR_CONFIG).write_text(json.dumps(config | {"hidden_size": 32}))
    with pytest.raises(ProjectorError, match="cannot load"):
        load_projector(tmp_path)
    (tmp_path / PROJECTOR_CONFIG).write_text(json.dumps(config | {"version": 99}))
    with pytest.raises(ProjectorError, match="version-1"):
        load_projector(tmp_path)
    (tmp_path / PROJECTOR_CONFIG).write_text("{not json")
    with pytest.raises(ProjectorError, match="cannot read"):
        load_projector(tmp_path)


def test_prepend_soft_prompt_extends_mask_and_labels():
    embeds = torch.randn(2, 5, 8)
    soft = torch.randn(2, 3, 8, dtype=torch.float64)
    mask = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]])
    labels = torch.arange(10).view(2, 5)
    out, out_mask, out_labels = prepend_soft_prompt(embeds, soft, mask, labels)
    assert out.shape == (2, 8, 8) and out.dtype == torch.float32
    torch.testing.assert_close(out[:, :3], soft.float())
    torch.testing.assert_close(out[:, 3:], embeds)
    assert out_mask.tolist() == [[1, 1, 1, 0, 0, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1]]
    assert out_labels[:, :3].eq(-100).all() and out_labels[:, 3:].equal(labels)
    # A batch-1 soft prompt is shared by the whole batch; no mask means all ones; no labels stay None.
    out, out_mask, out_labels = prepend_soft_prompt(embeds, soft[:1])
    torch.testing.assert_close(out[1, :3], soft[0].float())
    assert out_mask.eq(1).all() and out_mask.shape == (2, 8) and out_labels is None


def test_prepend_soft_prompt_refuses_mismatches():
    with pytest.raises(ValueError, match="hidden size"):
        prepend_soft_prompt(torch.randn(1, 2, 8), torch.randn(1, 3, 4))
    with pytest.raises(ValueError, match="batch"):
        prepend_soft_prompt(torch.randn(2, 2, 8), torch.randn(3, 3, 8))
    with pytest.raises(ValueError, match="attention_mask"):
        prepend_soft_prompt(torch.randn(2, 2, 8), torch.randn(2, 3, 8), torch.ones(2, 3))
    with pytest.raises(ValueError, match=r"\(B, T, D\)"):
        prepend_soft_prompt(torch.randn(2, 8), torch.randn(2, 3, 8))


def test_the_soft_prompt_conditions_a_frozen_tiny_gemma_and_learns_through_it():
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    torch.manual_seed(0)
    config = Gemma3TextConfig(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        head_dim=16, layer_types=["sliding_attention", "full_attention"], vocab_size=100,
    )
    model = Gemma3ForCausalLM(config).eval()
    model.requires_grad_(False)
    projector = _projector(embed_scale=math.sqrt(config.hidden_size))

    input_ids = torch.randint(0, 100, (2, 6))
    attention_mask = torch.ones(2, 6, dtype=torch.long)
    embeds = model.get_input_embeddings()(input_ids)  # (2, 6, 64), already scaled by sqrt(64)
    personas = torch.nn.functional.normalize(torch.randn(2, 384), dim=-1)
    soft = projector(personas)
    inputs, mask, labels = prepend_soft_prompt(embeds, soft, attention_mask, input_ids)
    out = model(inputs_embeds=inputs, attention_mask=mask, labels=labels)
    assert out.logits.shape == (2, 4 + 6, 100)
    out.loss.backward()
    assert projector.out.weight.grad is not None and projector.out.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.parameters())  # the language model stays frozen

    # The soft prompt changes what the model predicts after it.
    with torch.no_grad():
        other = projector(torch.nn.functional.normalize(torch.randn(2, 384), dim=-1))
        a = model(inputs_embeds=prepend_soft_prompt(embeds, soft.detach(), attention_mask)[0]).logits[:, -1]
        b = model(inputs_embeds=prepend_soft_prompt(embeds, other, attention_mask)[0]).logits[:, -1]
    assert (a - b).abs().max() > 1e-3
