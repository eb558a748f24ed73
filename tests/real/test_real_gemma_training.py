"""Every training recipe on real Gemma 3 270M (its GGUF, converted once per session): two steps, a save that
succeeds with the real tokenizer's added tokens and tied embeddings, and a reload onto the base.

Runs are tiny (batch 2, short sequences, two steps): what is proven is that each recipe trains and saves an
adapter the runtime loads, not that it learns (tests/training/test_proof.py does that on tiny models).
"""

from __future__ import annotations

import json

import pytest
from training.helpers import OBJECTS, SUBJECTS, VERBS, dpo_prompts, head, write_author_corpus

from pushkin.model.registry import WEIGHTS_FILE, AdapterKind, AdapterRegistry, Mode

SMALL = ["run.batch_size=2", "run.max_steps=2", "run.eval_batches=1", "run.progress=false", "run.tensorboard=false"]
ADAPTER_LIMIT = 30_000_000  # bytes: r=8 LoRA on 270M is a few MB; the 262k×640 embedding alone is 671 MB

# The session's one GGUF conversion (minutes on a busy 2-core machine) runs in the first test's setup.
pytestmark = pytest.mark.timeout(1800)


@pytest.fixture(scope="module")
def registry_root(tmp_path_factory):
    return tmp_path_factory.mktemp("real-adapters")


def _configs():
    from pathlib import Path

    return Path(__file__).parent.parent / "training" / "configs"


def _lora_only(folder):
    from safetensors import safe_open

    assert (folder / WEIGHTS_FILE).stat().st_size < ADAPTER_LIMIT
    with safe_open(str(folder / WEIGHTS_FILE), "pt") as weights:
        keys = list(weights.keys())
    assert keys and all("lora_" in k for k in keys)


def test_train_task_on_gemma_270m(gemma_270m, registry_root, tmp_path):
    import random

    from pushkin.text_lora.tasks import build_prompt, get_task
    from pushkin.training import train_task

    task, rng = get_task("rephrase"), random.Random(0)
    data = tmp_path / "rephrase.jsonl"
    with data.open("w", encoding="utf-8") as out:
        for i in range(12):
            s, v, o = rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(OBJECTS)
            out.write(json.dumps({"prompt": build_prompt(task, f"{s.capitalize()} {v} {o}."),
                                  "completion": f"{o.capitalize()} was {v} by {s}.", "source": f"doc{i % 4}"}) + "\n")
    folder = train_task.main([str(_configs() / "task_tiny.yaml"), f"model.base={gemma_270m.source.path}",
                              f"data.train={data}", "model.max_length=96", *SMALL,
                              f"run.output_dir={tmp_path / 'run'}", f"registry.root={registry_root}"])
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert len(history["train"]) == 2 and all(loss > 0 for _, loss in history["train"])
    _lora_only(folder)


def test_train_persona_on_gemma_270m(gemma_270m, registry_root, minilm, tmp_path):
    from pushkin.persona.projector import has_projector
    from pushkin.training import train_persona

    corpus = write_author_corpus(tmp_path / "author")
    folder = train_persona.main([str(_configs() / "persona_tiny.yaml"), f"model.base={gemma_270m.source.path}",
                                 f"corpus.folders=[{corpus}]", "model.max_length=96", "corpus.context_chars=120",
                                 "corpus.completion_chars=80", *SMALL, f"run.output_dir={tmp_path / 'run'}",
                                 f"registry.root={registry_root}"], embedder=minilm)
    assert folder.name == "persona-author" and has_projector(folder)
    _lora_only(folder)


def test_train_audio_on_gemma_270m(gemma_270m, registry_root, whisper_base, tmp_path):
    from pushkin.training import train_audio
    from pushkin.training.synth import Voice, build_closed_set

    train_set, held_set = build_closed_set(tmp_path / "closed", train_voices=(Voice("m3", 165, 55),),
                                           heldout_voices=(Voice("f2", 180, 62),))
    train = head(train_set, tmp_path / "train.jsonl", 4)
    held = head(held_set, tmp_path / "heldout.jsonl", 2)
    folder = train_audio.main([str(_configs() / "audio_tiny.yaml"), f"model.base={gemma_270m.source.path}",
                               f"encoder={whisper_base}", f"data.train={train}", f"data.eval={held}",
                               "model.max_length=128", *SMALL, f"run.output_dir={tmp_path / 'run'}",
                               f"registry.root={registry_root}"])
    assert folder.name == "audio-speech" and (folder / "projector.safetensors").is_file()
    _lora_only(folder)


def test_train_dpo_on_gemma_270m(gemma_270m, registry_root, tmp_path):
    from pushkin.training import train_dpo

    prompts = dpo_prompts(tmp_path / "prompts.jsonl", count=4)
    folder = train_dpo.main([str(_configs() / "dpo_tiny.yaml"), f"model.base={gemma_270m.source.path}",
                             f"data.prompts={prompts}", "reward=", "candidates=2", "max_new_tokens=8",
                             "data.eval_fraction=0.25", "model.max_length=48", *SMALL,
                             f"run.output_dir={tmp_path / 'run'}", f"registry.root={registry_root}"])
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["train_pairs"] > 0
    _lora_only(folder)


def test_every_recipes_adapter_reloads_onto_the_real_base(gemma_270m, registry_root):
    import torch

    from pushkin.model.composed import ComposedModel
    from pushkin.model.loading import LoadOptions, load_base

    registry = AdapterRegistry(registry_root)
    assert not registry.problems, registry.problems
    kinds = sorted((e.manifest.kind.value, e.manifest.name) for e in registry.entries)
    assert kinds == [("audio", "speech"), ("persona", "author"), ("task", "continue-dpo"), ("task", "rephrase")]
    composed = ComposedModel(load_base(LoadOptions(model=gemma_270m.source.path)), registry)
    assert not composed.load_problems, composed.load_problems
    ids = composed.encode("The writer opened the window.")
    with composed.peft.disable_adapter():
        base = composed.logits(input_ids=ids)
    for mode, task, wanted in ((Mode.REWRITE, "rephrase", ("persona:author", "audio:speech", "task:rephrase")),
                               (Mode.AUTOCOMPLETE, "continue", ("task:continue-dpo",))):
        status = composed.compose(mode, task)
        assert status.active == wanted
        assert not torch.allclose(composed.logits(input_ids=ids), base, atol=1e-6)
    assert AdapterKind.AUDIO in {e.manifest.kind for e in composed.loaded_entries()}


def test_a_merged_composition_exports_to_a_gguf_that_transformers_reads_back(gemma_270m, registry_root, tmp_path):
    """The persona + rephrase composition of the real base as one BF16 .gguf: transformers' GGUF loader reads
    its weights and its vocabulary, and generates the same greedy tokens as the merged model folder."""
    import torch
    from transformers import AutoTokenizer, Gemma3ForCausalLM

    from pushkin.training import export

    adapters = f"adapters=[{registry_root / 'persona-author'},{registry_root / 'task-rephrase'}]"
    base = f"model.base={gemma_270m.source.path}"
    folder = export.main([base, adapters, f"output={tmp_path / 'merged'}", "dtype=bfloat16"])
    gguf_file = export.main([base, adapters, f"output={tmp_path / 'gguf' / 'merged.gguf'}", "dtype=bfloat16"])

    merged = Gemma3ForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    reread = Gemma3ForCausalLM.from_pretrained(gguf_file.parent, gguf_file=gguf_file.name, dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    gguf_tokenizer = AutoTokenizer.from_pretrained(gguf_file.parent, gguf_file=gguf_file.name)
    assert len(gguf_tokenizer) == len(tokenizer)
    for prompt in ("The writer opened the window.", "Писатель открыл окно, и в комнату вошёл ветер."):
        ids = tokenizer(prompt, return_tensors="pt").input_ids
        assert gguf_tokenizer(prompt, return_tensors="pt").input_ids.tolist() == ids.tolist()
        with torch.inference_mode():
            want = merged.generate(ids, max_new_tokens=12, do_sample=False)
            got = reread.generate(ids, max_new_tokens=12, do_sample=False)
        assert got.tolist() == want.tolist(), (tokenizer.decode(want[0]), tokenizer.decode(got[0]))
