"""Tiny models for the proofs of learning on the CPU (tests, `make` targets, benchmarks).

* :func:`build_proof_whisper` — the hearing work's tiny Whisper (:mod:`pushkin.audio_lora.whisper_tiny`),
  with its encoder re-drawn at a larger weight scale and converted to CTranslate2 again. With the stock
  small init (std 0.02) a random encoder's output is almost all positional embedding (the content varies
  by ~1.5 % of its size across utterances); at std 0.08–0.15 the frames carry the sound, as a trained
  encoder's do, and a nearest-neighbour check tells held-out phrases apart. The encoder stays frozen and
  random: nothing about speech is learned before the audio recipe runs.
* :func:`build_proof_gemma` — the model work's tiny Gemma (:mod:`pushkin.model.tiny`) with its embedding
  table re-drawn at std 1/sqrt(hidden), so each row of the tied output layer has unit norm. LoRA cannot
  change the embeddings or the final norm; with much smaller rows the largest reachable logit margin is
  a few nats and the loss cannot fall below ~ln(vocab) - 2 however long it trains.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

ENCODER_STD = {"conv": 0.15, "other": 0.08}


def build_proof_whisper(folder: str | Path, seed: int = 0) -> Path:
    """A frozen random tiny Whisper with content-carrying frames; returns the CTranslate2 folder."""
    folder = Path(folder)
    ct2 = folder / "ct2"
    stamp = folder / "proof.json"
    wanted = json.dumps({"std": ENCODER_STD, "seed": seed})
    if (ct2 / "model.bin").is_file() and stamp.is_file() and stamp.read_text() == wanted:
        return ct2

    import torch
    from ctranslate2.converters import TransformersConverter
    from transformers import WhisperForConditionalGeneration

    from pushkin.audio_lora.whisper_tiny import WhisperShape, build_whisper

    built = build_whisper(folder / "stock", WhisperShape(), seed=seed)
    hf_stock = built.parent / "hf"
    hf = folder / "hf"
    shutil.rmtree(hf, ignore_errors=True)
    shutil.copytree(hf_stock, hf)
    model = WhisperForConditionalGeneration.from_pretrained(hf_stock)
    generator = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, param in model.model.encoder.named_parameters():
            if param.dim() >= 2 and "embed_positions" not in name:
                std = ENCODER_STD["conv"] if "conv" in name else ENCODER_STD["other"]
                param.copy_(torch.randn(param.shape, generator=generator) * std)
    model.save_pretrained(hf)
    shutil.rmtree(ct2, ignore_errors=True)
    TransformersConverter(str(hf), copy_files=["tokenizer.json", "preprocessor_config.json"]).convert(str(ct2), force=True)
    stamp.write_text(wanted)
    return ct2


def build_proof_gemma(folder: str | Path, seed: int = 0) -> Path:
    """The tiny Gemma 3 (random, with its on-the-spot tokenizer), embeddings at 1/sqrt(hidden) scale."""
    folder = Path(folder)
    if (folder / "config.json").is_file() and (folder / "proof.json").is_file():
        return folder

    import torch
    from transformers import Gemma3ForCausalLM

    from pushkin.model.tiny import TinyGemmaOptions, build_tiny_gemma

    build_tiny_gemma(folder, TinyGemmaOptions(sliding_window=1024, seed=seed))
    model = Gemma3ForCausalLM.from_pretrained(folder)
    generator = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        embeddings: Any = model.get_input_embeddings()
        weight = embeddings.weight
        weight.copy_(torch.randn(weight.shape, generator=generator) * model.config.hidden_size ** -0.5)
    model.save_pretrained(folder)
    (folder / "proof.json").write_text(json.dumps({"embedding_scale": "1/sqrt(hidden)"}))
    return folder
