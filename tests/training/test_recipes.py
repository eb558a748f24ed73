"""Each recipe runs two steps on tiny models from a YAML in tests/ and writes an adapter the runtime loads."""

from __future__ import annotations

import json

import pytest

from pushkin.model.registry import AdapterKind, AdapterRegistry, Mode

from .conftest import CONFIGS
from .helpers import dpo_prompts, head, reward_pairs


def _composed(base, root):
    from pushkin.model.composed import ComposedModel
    from pushkin.model.loading import LoadOptions, load_base

    return ComposedModel(load_base(LoadOptions(model=str(base), device="cpu", dtype="float32")), AdapterRegistry(root))


def _changes_logits(composed, mode, task=""):
    import torch

    ids = composed.encode("The writer opened the window.")
    composed.compose(mode, task)
    tuned = composed.logits(input_ids=ids)
    with composed.peft.disable_adapter():
        base = composed.logits(input_ids=ids)
    return not torch.allclose(tuned, base, atol=1e-6)


@pytest.mark.slow
def test_train_task_two_steps_then_resume(tiny_gemma, rephrase_jsonl, tmp_path):
    from pushkin.training import train_task
    from pushkin.training.loop import History, latest_checkpoint

    args = [str(CONFIGS / "task_tiny.yaml"), f"model.base={tiny_gemma}", f"data.train={rephrase_jsonl}",
            f"run.output_dir={tmp_path / 'run'}", f"registry.root={tmp_path / 'adapters'}"]
    folder = train_task.main(args)
    assert folder == tmp_path / "adapters" / "task-rephrase"
    assert latest_checkpoint(tmp_path / "run").name == "step-0000002"
    first = History.load(tmp_path / "run" / "history.json")
    assert len(first.train) == 2 and first.resumed_from == 0

    # Resume: the same run asked for 4 steps continues from step 2.
    train_task.main(args + ["run.max_steps=4"])
    resumed = History.load(tmp_path / "run" / "history.json")
    assert resumed.resumed_from == 2
    assert [step for step, _ in resumed.train] == [1, 2, 3, 4]
    assert resumed.train[:2] == first.train[:2]
    assert (tmp_path / "run" / "curves.png").stat().st_size > 0
    assert list((tmp_path / "run" / "tensorboard").rglob("events.out.tfevents*"))

    registry = AdapterRegistry(tmp_path / "adapters")
    entry = registry.find(AdapterKind.TASK, task="rephrase")
    assert entry is not None and entry.manifest.rank == 8 and not registry.problems
    composed = _composed(tiny_gemma, tmp_path / "adapters")
    assert not composed.load_problems
    assert _changes_logits(composed, Mode.REWRITE, "rephrase")
    assert composed.status.active == ("task:rephrase",)


class _FixedPersona:
    """A persona source with one unit vector (the daemon's PersonaService plays this part)."""

    def __init__(self, dimension: int) -> None:
        import numpy as np

        self.vector = np.full(dimension, dimension ** -0.5, dtype=np.float32)

    def persona_vector(self, context: str):
        return self.vector


@pytest.mark.slow
def test_train_persona_two_steps(tiny_gemma, author_corpus, minilm, tmp_path):
    import torch

    from pushkin.model.composed import ComposedModel
    from pushkin.model.loading import LoadOptions, load_base
    from pushkin.persona.projector import has_projector, load_projector
    from pushkin.training import train_persona
    from pushkin.training.config import PersonaProjectorSettings
    from pushkin.training.persona_plug import new_projector

    args = [str(CONFIGS / "persona_tiny.yaml"), f"model.base={tiny_gemma}", f"corpus.folders=[{author_corpus}]",
            f"run.output_dir={tmp_path / 'run'}", f"registry.root={tmp_path / 'adapters'}"]
    folder = train_persona.main(args, embedder=minilm)
    assert folder.name == "persona-author"
    assert (tmp_path / "run" / "eval.jsonl").is_file()
    composed = _composed(tiny_gemma, tmp_path / "adapters")
    assert _changes_logits(composed, Mode.DICTATION)
    assert "persona:author" in composed.status.active

    # The projector trained with the LoRA sits beside it, and the runtime turns the soft prompt on.
    assert has_projector(folder)
    trained = load_projector(folder)
    assert trained.config.persona_dim == 384 and trained.config.num_tokens == 2
    assert trained.config.embedding_model == minilm.model_id
    initial = new_projector(PersonaProjectorSettings(tokens=2), persona_dim=384, hidden_size=64,
                            embed_scale=trained.config.embed_scale, embedding_model=minilm.model_id, seed=0)
    assert any(not torch.allclose(trained.state_dict()[k], v) for k, v in initial.state_dict().items())
    plugged = ComposedModel(load_base(LoadOptions(model=str(tiny_gemma), device="cpu", dtype="float32")),
                            AdapterRegistry(tmp_path / "adapters"), persona_source=_FixedPersona(384))
    assert plugged.persona_prompt_status.available, plugged.persona_prompt_status.message
    assert "soft prompt on" in plugged.persona_prompt_status.message
    plugged.compose(Mode.DICTATION)
    assert plugged.status.soft_prompt

    # The option off: the LoRA alone, and the earlier projector (trained with another LoRA) is gone.
    train_persona.main(args + [f"run.output_dir={tmp_path / 'run-off'}", "projector.enabled=false"])
    assert not has_projector(folder)
    assert not list(folder.glob("persona_projector*"))


@pytest.mark.slow
def test_train_audio_two_steps(tiny_gemma, proof_whisper, closed_set, tmp_path):
    from pushkin.model.speech import SpeechLLM, find_audio_adapter
    from pushkin.training import audio_data, train_audio

    train = head(closed_set[0], tmp_path / "train.jsonl", 8)
    held = head(closed_set[1], tmp_path / "heldout.jsonl", 4)
    folder = train_audio.main([str(CONFIGS / "audio_tiny.yaml"), f"model.base={tiny_gemma}", f"encoder={proof_whisper}",
                               f"data.train={train}", f"data.eval={held}", f"run.output_dir={tmp_path / 'run'}",
                               f"registry.root={tmp_path / 'adapters'}"])
    assert folder.name == "audio-speech"
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert len(history["train"]) == 2 and len(history["eval"]) == 2
    composed = _composed(tiny_gemma, tmp_path / "adapters")
    assert find_audio_adapter(composed.registry).folder == folder
    speech = SpeechLLM(composed, audio_data.open_encoder(str(proof_whisper)))
    record = audio_data.read_manifest(held)[0]
    heard = speech.hear(audio_data.record_pieces(record), max_new_tokens=8)
    assert heard.raw_line is not None  # the runtime ran the trained adapter end to end


@pytest.mark.slow
def test_train_reward_two_steps(tmp_path):
    from pushkin.training import train_reward
    from pushkin.training.reward import PARTS, WritingReward

    pairs = reward_pairs(tmp_path / "pairs.jsonl")
    folder = train_reward.main([str(CONFIGS / "reward_tiny.yaml"), f"data.train={pairs}",
                                f"run.output_dir={tmp_path / 'run'}", f"output={tmp_path / 'reward'}"])
    report = json.loads((folder / "report.json").read_text())
    assert set(report["weights"]) == set(PARTS)
    assert sum(report["weights"].values()) == pytest.approx(1.0)
    assert all(w >= 0 for w in report["weights"].values())
    reward = WritingReward.load(folder)
    better = reward.score("The baker opened the shop at six.",
                          "Needless to say, the baker opened opened really really the shop at six.")
    worse = reward.score("Needless to say, the baker opened opened really really the shop at six.",
                         "Needless to say, the baker opened opened really really the shop at six.")
    assert 0.0 <= worse <= 1.0 and 0.0 <= better <= 1.0
    assert report["eval_accuracy"]["combined"] >= 0.5


@pytest.mark.slow
def test_train_dpo_two_steps(tiny_gemma, tmp_path):
    from pushkin.training import train_dpo

    prompts = dpo_prompts(tmp_path / "prompts.jsonl", count=12)
    folder = train_dpo.main([str(CONFIGS / "dpo_tiny.yaml"), f"model.base={tiny_gemma}", f"data.prompts={prompts}",
                             "reward=", "deviation_weighting=true", f"run.output_dir={tmp_path / 'run'}",
                             f"registry.root={tmp_path / 'adapters'}"])
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["train_pairs"] > 0 and report["eval_pairs"] > 0
    pairs = [json.loads(line) for line in (tmp_path / "run" / "pairs-train.jsonl").read_text().splitlines()]
    assert all(p["chosen_score"] > p["rejected_score"] and "weight" in p for p in pairs)
    composed = _composed(tiny_gemma, tmp_path / "adapters")
    assert AdapterRegistry(tmp_path / "adapters").find(AdapterKind.TASK, task="continue").folder == folder
    assert _changes_logits(composed, Mode.AUTOCOMPLETE)


@pytest.mark.slow
def test_train_dpo_checkpoints_hold_the_lora_only_when_the_vocabulary_grew(tmp_path):
    from safetensors import safe_open

    from pushkin.model.tiny import TinyGemmaOptions, build_tiny_gemma
    from pushkin.training import train_dpo

    # A base whose tokenizer lacks the audio and silence tokens, like every real Gemma: load_base grows it.
    plain = build_tiny_gemma(tmp_path / "plain", TinyGemmaOptions(input_only_tokens=False))
    prompts = dpo_prompts(tmp_path / "prompts.jsonl", count=8)
    train_dpo.main([str(CONFIGS / "dpo_tiny.yaml"), f"model.base={plain}", f"data.prompts={prompts}", "reward=",
                    f"run.output_dir={tmp_path / 'run'}", f"registry.root={tmp_path / 'adapters'}"])
    (checkpoint,) = (tmp_path / "run" / "trl").glob("checkpoint-*")
    with safe_open(str(checkpoint / "adapter_model.safetensors"), "pt") as weights:
        keys = list(weights.keys())
    assert keys and not any("embed_tokens" in k or "lm_head" in k for k in keys)
