"""Distillation from the text path in train_audio: the KL term, the teacher's view, and that it trains."""

from __future__ import annotations

import json

import pytest
import torch

from pushkin.training import audio_data
from pushkin.training.config import AudioConfig, ConfigError, load_config
from pushkin.training.text import target_logits
from pushkin.training.train_audio import distill_loss, prepare_example

from .conftest import CONFIGS
from .helpers import head


def test_distill_loss_is_zero_only_when_the_distributions_agree():
    torch.manual_seed(0)
    teacher = torch.randn(5, 11)
    assert float(distill_loss(teacher.clone(), teacher)) == pytest.approx(0.0, abs=1e-5)
    # A constant shift per row is the same distribution.
    assert float(distill_loss(teacher + 3.0, teacher)) == pytest.approx(0.0, abs=1e-4)
    student = torch.randn(5, 11, requires_grad=True)
    teacher.requires_grad_(True)
    kl = distill_loss(student, teacher)
    assert float(kl.detach()) > 0.1
    kl.backward()
    assert student.grad is not None and float(student.grad.abs().sum()) > 0
    assert teacher.grad is None  # the teacher is a fixed target
    # By hand for one row: sum_v p_t (log p_t - log p_s).
    p_t, p_s = torch.softmax(teacher[0].detach(), -1), torch.softmax(student[0].detach(), -1)
    by_hand = float((p_t * (p_t.log() - p_s.log())).sum())
    assert float(distill_loss(student[:1].detach(), teacher[:1])) == pytest.approx(by_hand, rel=1e-4)
    # A softer temperature compares flatter distributions, scaled back by T².
    assert float(distill_loss(student.detach(), teacher, 4.0)) != pytest.approx(float(kl), rel=1e-3)


def test_target_logits_are_computed_only_where_a_target_is_predicted(tiny_gemma):
    from transformers import Gemma3ForCausalLM

    model = Gemma3ForCausalLM.from_pretrained(tiny_gemma).eval()
    ids = torch.tensor([[2, 40, 41, 42, 43], [2, 50, 51, 0, 0]])
    mask = (ids != 0).long()
    labels = torch.tensor([[-100, -100, -100, 42, 43], [-100, -100, 51, -100, -100]])
    with torch.no_grad():
        full = model(input_ids=ids, attention_mask=mask).logits
        chosen, targets = target_logits(model, labels, input_ids=ids, attention_mask=mask)
    assert targets.tolist() == [42, 43, 51]
    # Position t predicts token t+1: row 0 → positions 2, 3; row 1 → position 1; nothing else is computed.
    assert chosen.shape == (3, full.shape[-1])
    assert torch.allclose(chosen, torch.stack([full[0, 2], full[0, 3], full[1, 1]]), atol=1e-5)


def test_teacher_view_has_the_spoken_words_and_the_same_target(tiny_gemma):
    from transformers import AutoTokenizer

    from pushkin.audio_lora.projector import SilenceEmbedding
    from pushkin.audio_lora.splice import Silence
    from pushkin.model import tokens

    tokenizer = AutoTokenizer.from_pretrained(tiny_gemma)
    ids = tokens.special_token_ids(tokenizer)
    silence = SilenceEmbedding(tokens.SILENCE_BUCKETS_S, 8)
    pieces = (torch.zeros(9, 4), Silence(0.6), torch.zeros(5, 4))
    spoken = audio_data.EncodedUtterance(pieces, "dictate: утром шёл снег", "v1", "утром шёл снег")
    example = prepare_example(spoken, tokenizer, ids, silence, stack_factor=4, teacher=True)
    target = [t for t in example.labels if t != -100]
    assert [t for t in example.teacher_labels if t != -100] == target
    assert example.teacher_ids[-len(target):] == example.input_ids[-len(target):]
    assert ids.audio in example.input_ids and ids.audio not in example.teacher_ids
    assert "утром шёл снег" in tokenizer.decode(example.teacher_ids[: -len(target)])
    assert prepare_example(spoken, tokenizer, ids, silence, stack_factor=4).teacher_ids == ()
    with pytest.raises(ValueError, match="'v2' has no spoken words"):
        prepare_example(audio_data.EncodedUtterance(pieces, "command: undo", "v2"), tokenizer, ids, silence,
                        stack_factor=4, teacher=True)


def test_distill_settings_are_checked():
    with pytest.raises(ConfigError, match="distill_weight must be in \\[0, 1\\]"):
        load_config(AudioConfig, [str(CONFIGS / "audio_tiny.yaml"), "distill_weight=1.5", "data.train=a",
                                  "data.eval=b"])
    with pytest.raises(ConfigError, match="distill_temperature must be > 0"):
        load_config(AudioConfig, [str(CONFIGS / "audio_tiny.yaml"), "distill_temperature=0", "data.train=a",
                                  "data.eval=b"])


def test_manifest_spoken_words_come_from_transcript_or_text(closed_set, tmp_path):
    manifest = head(closed_set[0], tmp_path / "m.jsonl", 2)
    records = audio_data.read_manifest(manifest)
    assert [r.spoken for r in records] == [json.loads(line)["text"] for line in manifest.read_text().splitlines()]
    audio = records[0].audio
    manifest.write_text(json.dumps({"audio": str(audio), "command": "undo"}) + "\n" +
                        json.dumps({"audio": str(audio), "transcript": "  Привет,\n мир "}) + "\n", encoding="utf-8")
    assert [r.spoken for r in audio_data.read_manifest(manifest)] == ["", "Привет, мир"]


@pytest.mark.slow
def test_train_audio_distilling_lowers_the_kl_to_the_text_path(tiny_gemma, proof_whisper, closed_set, tmp_path):
    from pushkin.training import train_audio

    train = head(closed_set[0], tmp_path / "train.jsonl", 16)
    held = head(closed_set[1], tmp_path / "heldout.jsonl", 4)
    common = [str(CONFIGS / "audio_tiny.yaml"), f"model.base={tiny_gemma}", f"encoder={proof_whisper}",
              f"data.train={train}", f"data.eval={held}", f"data.cache_dir={tmp_path / 'features'}",
              "run.save_every=0", "run.eval_every=0"]
    # distill_weight=1: the training loss is the KL alone, so it must fall as the adapter learns.
    train_audio.main([*common, "distill_weight=1.0", "run.max_steps=24", "projector_steps=12",
                      f"run.output_dir={tmp_path / 'kl'}", f"registry.root={tmp_path / 'a1'}"])
    history = json.loads((tmp_path / "kl" / "history.json").read_text())
    losses = [loss for _, loss in history["train"]]
    first, last = sum(losses[:4]) / 4, sum(losses[-4:]) / 4
    assert last < 0.8 * first, losses

    # A manifest without the spoken words cannot be distilled: a clear error naming what is missing.
    bare = tmp_path / "bare.jsonl"
    bare.write_text("".join(json.dumps({k: v for k, v in json.loads(line).items() if k != "text"}) + "\n"
                            for line in train.read_text().splitlines()), encoding="utf-8")
    with pytest.raises(audio_data.ManifestError, match="needs the spoken words"):
        train_audio.main([*common[:3], f"data.train={bare}", *common[4:], "distill_weight=0.5",
                          f"run.output_dir={tmp_path / 'bare'}", f"registry.root={tmp_path / 'a2'}"])
