"""Export: a merged composition reloads as a plain Gemma3ForCausalLM with no adapter keys, same outputs."""

from __future__ import annotations

import json

import pytest

from .conftest import CONFIGS


@pytest.mark.slow
def test_merge_saves_a_plain_model_that_matches_the_composition(tiny_gemma, rephrase_jsonl, author_corpus, tmp_path):
    import torch
    from safetensors import safe_open
    from transformers import AutoTokenizer, Gemma3ForCausalLM

    from pushkin.model.composed import ComposedModel
    from pushkin.model.loading import LoadOptions, load_base
    from pushkin.model.registry import AdapterRegistry, Mode
    from pushkin.training import export, train_persona, train_task

    root = tmp_path / "adapters"
    task = train_task.main([str(CONFIGS / "task_tiny.yaml"), f"model.base={tiny_gemma}", f"data.train={rephrase_jsonl}",
                            f"run.output_dir={tmp_path / 'task'}", f"registry.root={root}", "run.save_every=0"])
    persona = train_persona.main([str(CONFIGS / "persona_tiny.yaml"), f"model.base={tiny_gemma}",
                                  f"corpus.folders=[{author_corpus}]", f"run.output_dir={tmp_path / 'persona'}",
                                  f"registry.root={root}", "run.save_every=0"])
    out = export.main([f"model.base={tiny_gemma}", f"adapters=[{persona},{task}]", f"output={tmp_path / 'merged'}",
                       "dtype=float32"])

    names = sorted(p.name for p in out.iterdir())
    assert "config.json" in names and "model.safetensors" in names and "tokenizer.json" in names
    assert json.loads((out / "config.json").read_text())["architectures"] == ["Gemma3ForCausalLM"]
    with safe_open(str(out / "model.safetensors"), "pt") as f:
        keys = list(f.keys())
    assert keys and not [k for k in keys if "lora" in k or "base_layer" in k]

    merged = Gemma3ForCausalLM.from_pretrained(out).eval()
    tokenizer = AutoTokenizer.from_pretrained(out)
    composed = ComposedModel(load_base(LoadOptions(model=str(tiny_gemma), device="cpu", dtype="float32")),
                             AdapterRegistry(root), persona="author")
    composed.compose(Mode.REWRITE, "rephrase")
    assert set(composed.status.active) == {"persona:author", "task:rephrase"}
    ids = tokenizer("The writer opened the window.", return_tensors="pt").input_ids
    with torch.inference_mode():
        expected = composed.logits(input_ids=ids)
        got = merged(input_ids=ids).logits
    assert torch.allclose(got, expected, atol=1e-4)

    # The same composition as one .gguf file, read back by transformers' GGUF loader: float32 holds exactly
    # the merged weights (norms stored as 1 + w, the tied head left out) and generates the same tokens.
    gguf_out = export.main([f"model.base={tiny_gemma}", f"adapters=[{persona},{task}]",
                            f"output={tmp_path / 'gguf' / 'merged.gguf'}", "dtype=float32"])
    assert gguf_out.suffix == ".gguf" and gguf_out.read_bytes()[:4] == b"GGUF"
    assert json.loads(gguf_out.with_name("merged.gguf.json").read_text())["dtype"] == "float32"
    from_gguf = Gemma3ForCausalLM.from_pretrained(gguf_out.parent, gguf_file=gguf_out.name, dtype=torch.float32).eval()
    merged_state = merged.state_dict()
    for name, tensor in from_gguf.state_dict().items():
        assert torch.equal(tensor, merged_state[name]), name
    with torch.inference_mode():
        want = merged.generate(ids, max_new_tokens=16, do_sample=False)
        assert torch.equal(from_gguf.generate(ids, max_new_tokens=16, do_sample=False), want)
    q8 = export.main([f"model.base={tiny_gemma}", f"adapters=[{persona},{task}]",
                      f"output={tmp_path / 'gguf' / 'merged-q8.gguf'}", "dtype=q8_0"])
    assert q8.stat().st_size < 0.4 * gguf_out.stat().st_size  # 8.5 bits a weight instead of 32
    from_q8 = Gemma3ForCausalLM.from_pretrained(q8.parent, gguf_file=q8.name, dtype=torch.float32).eval()
    with torch.inference_mode():
        assert torch.allclose(from_q8(input_ids=ids).logits, got, atol=0.1)
    with pytest.raises(ValueError, match="dtype must be bfloat16, float16 or float32$"):
        export.main([f"model.base={tiny_gemma}", f"adapters=[{persona}]", f"output={tmp_path / 'x'}", "dtype=q8_0"])
    with pytest.raises(Exception, match="does not exist"):
        export.main([f"model.base={tiny_gemma}", f"adapters=[{tmp_path / 'nope'}]", f"output={tmp_path / 'x'}"])
