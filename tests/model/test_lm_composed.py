"""Composition by mode on the tiny Gemma with tiny adapters in the registry format."""

from __future__ import annotations

import shutil

import pytest
import torch

from pushkin.model.composed import ComposedModel, Merge
from pushkin.model.loading import LoadOptions, load_base
from pushkin.model.registry import AdapterRegistry, Mode

TEXT = "The writer opened the document. Писатель открыл документ."


def _last_logits(model, ids):
    return model.logits(ids)[0].clone()


def test_each_mode_changes_outputs_and_switching_back_restores_them_exactly(composed):
    ids = composed.encode(TEXT)
    status = composed.compose(Mode.AUTOCOMPLETE)
    assert status.active == ("task:continue",)
    assert composed.peft is not None
    composed.peft.base_model.set_adapter([])
    base = _last_logits(composed, ids)
    outputs = {}
    for mode, task in [(Mode.AUTOCOMPLETE, ""), (Mode.DICTATION, ""), (Mode.REWRITE, "formal")]:
        composed.compose(mode, task)
        outputs[mode] = _last_logits(composed, ids)
        assert not torch.allclose(outputs[mode], base, atol=1e-3), mode
    assert not torch.allclose(outputs[Mode.AUTOCOMPLETE], outputs[Mode.DICTATION], atol=1e-3)
    assert not torch.allclose(outputs[Mode.DICTATION], outputs[Mode.REWRITE], atol=1e-3)
    assert composed.compose(Mode.REWRITE, "formal").active == ("persona:writer", "audio:speech", "task:rewrite")
    for mode, task in [(Mode.DICTATION, ""), (Mode.AUTOCOMPLETE, ""), (Mode.REWRITE, "formal")]:
        composed.compose(mode, task)
        assert torch.equal(_last_logits(composed, ids), outputs[mode]), mode


def test_stacked_and_merged_give_the_same_logits(tiny, composed):
    merged = ComposedModel(load_base(LoadOptions(model=str(tiny.base))), AdapterRegistry(tiny.adapters), merge=True)
    ids = composed.encode(TEXT)
    for mode in (Mode.REWRITE, Mode.DICTATION):
        stacked_status = composed.compose(mode)
        merged_status = merged.compose(mode)
        assert merged_status.merged and not stacked_status.merged
        assert merged_status.active == stacked_status.active
        torch.testing.assert_close(merged.logits(ids), composed.logits(ids), atol=1e-4, rtol=1e-4)
    # The cat adapter is built once per composition and reused.
    assert len(merged._merged_names) == 2
    merged.compose(Mode.REWRITE)
    assert len(merged._merged_names) == 2


def test_missing_adapters_degrade_to_what_exists_and_say_so(tiny, tmp_path):
    shutil.copytree(tiny.adapters / "persona-writer", tmp_path / "persona-writer")
    lm = ComposedModel(load_base(LoadOptions(model=str(tiny.base))), AdapterRegistry(tmp_path))
    status = lm.compose(Mode.REWRITE, "shorten")
    assert status.active == ("persona:writer",)
    assert not status.complete
    assert status.missing == ("audio adapter (none in the registry)",
                              "task adapter for 'shorten' (none in the registry)")
    assert "missing: audio adapter" in status.message
    assert "".join(lm.stream("Hello", )) is not None  # still generates on what exists


def test_no_registry_runs_the_bare_base(tiny):
    lm = ComposedModel(load_base(LoadOptions(model=str(tiny.base))), AdapterRegistry(None))
    assert lm.peft is None
    status = lm.compose(Mode.DICTATION)
    assert status.active == () and len(status.missing) == 3
    ids = lm.encode(TEXT)
    assert lm.logits(ids).shape[-1] == len(lm.tokenizer)


def test_a_pickled_adapter_is_refused_and_reported(tiny, tmp_path):
    shutil.copytree(tiny.adapters / "persona-writer", tmp_path / "persona-writer")
    shutil.copytree(tiny.adapters / "task-rewrite", tmp_path / "task-rewrite")
    (tmp_path / "task-rewrite" / "adapter_model.bin").write_bytes(b"pickle")
    lm = ComposedModel(load_base(LoadOptions(model=str(tiny.base))), AdapterRegistry(tmp_path))
    status = lm.compose(Mode.REWRITE)
    assert "task:rewrite" not in status.active
    assert any("never unpickles" in p.reason for p in status.problems)


def test_adapters_added_into_the_weights_give_the_stacked_logits_and_come_out_again(tiny, composed):
    folded = ComposedModel(load_base(LoadOptions(model=str(tiny.base))), AdapterRegistry(tiny.adapters),
                           merge="weights")
    assert folded.merge is Merge.WEIGHTS
    ids = composed.encode(TEXT)
    folded._into_weights(())  # built in dictation mode: its adapters come out of the weights
    base = folded.logits(ids)
    assert not torch.allclose(base, composed.logits(ids), atol=1e-3)
    # Back and forth between compositions: each time the weights carry exactly the mode's adapters.
    for mode, task in [(Mode.REWRITE, "formal"), (Mode.AUTOCOMPLETE, ""), (Mode.DICTATION, ""), (Mode.REWRITE, "formal")]:
        stacked_status = composed.compose(mode, task)
        folded_status = folded.compose(mode, task)
        assert folded_status.merged and folded_status.active == stacked_status.active
        torch.testing.assert_close(folded.logits(ids), composed.logits(ids), atol=1e-4, rtol=1e-4)
    assert set(folded._in_weights) == {e.manifest.peft_name for e in folded.loaded_entries()
                                       if f"{e.manifest.kind.value}:{e.manifest.name}" in folded.status.active}
    # An empty composition leaves the base's own weights.
    folded._into_weights(())
    torch.testing.assert_close(folded.logits(ids), base, atol=1e-5, rtol=1e-5)


def test_merge_settings_keep_their_earlier_meaning():
    assert Merge.of(True) is Merge.CAT and Merge.of(False) is Merge.NONE and Merge.of("weights") is Merge.WEIGHTS
    with pytest.raises(ValueError):
        Merge.of("sometimes")
