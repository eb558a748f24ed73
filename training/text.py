"""Text-side training pieces: the base with a fresh LoRA, tokenized prompt/completion batches, eval loss.

The loss covers the completion only: prompt tokens are labelled -100. An example may carry a persona
vector; with a PersonaPlug projector the loss then runs on ``[projector(persona) ; embed(tokens)]``
(the runtime's persona soft prompt, labels -100 over the soft positions). A rewrite task's completion ends
with ``<end_of_turn>`` (where generation stops, see pushkin.text_lora.tasks); a continuation has no end
marker, because "continue" writes a fixed budget of tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from pushkin.model.registry import AdapterKind, AdapterManifest, save_adapter

from .config import LoraSettings, ModelSettings, RunSettings
from .data import TextExample, iter_batches
from .loop import base_dtype, wants_gradient_checkpointing


@dataclass(frozen=True)
class EncodedExample:
    input_ids: tuple[int, ...]
    labels: tuple[int, ...]
    persona: tuple[float, ...] | None = None  # (E,) the passage's persona vector, for the projector


def load_for_training(model: ModelSettings, run: RunSettings):
    """The frozen base (``LoadedModel``) on the CPU; accelerate moves it to the device."""
    from pushkin.model.loading import LoadOptions, load_base

    loaded = load_base(LoadOptions(model=model.base, device="cpu", dtype=base_dtype(run)))
    for param in loaded.model.parameters():
        param.requires_grad_(False)
    if wants_gradient_checkpointing(run):
        loaded.model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        loaded.model.enable_input_require_grads()
    return loaded


def attach_lora(model, lora: LoraSettings, adapter_name: str):
    """Wrap ``model`` in a PeftModel with one new trainable LoRA adapter named ``adapter_name``."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                        target_modules=list(lora.target_modules), task_type="CAUSAL_LM")
    peft = get_peft_model(model, config, adapter_name=adapter_name)
    return peft


def encode_example(tokenizer, example: TextExample, max_length: int, end_text: str = "") -> EncodedExample:
    """``<bos> prompt completion end_text`` as ids, labels -100 on the prompt; cut from the left of the prompt."""
    prompt = tokenizer(example.prompt, add_special_tokens=True).input_ids
    completion = tokenizer(example.completion + end_text, add_special_tokens=False).input_ids
    if not completion:
        raise ValueError(f"example from {example.source!r} has an empty completion")
    completion = completion[: max_length - 2]
    room = max_length - len(completion)
    if len(prompt) > room:
        # Keep <bos> and the end of the prompt (the text nearest the completion).
        prompt = prompt[:1] + prompt[len(prompt) - room + 1:]
    return EncodedExample(tuple(prompt + completion), tuple([-100] * len(prompt) + completion))


def collate(examples: Sequence[EncodedExample], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded ``input_ids``/``attention_mask``/``labels``, each ``(B, L)``; plus ``persona`` ``(B, E)``
    when every example carries one."""
    length = max(len(e.input_ids) for e in examples)
    ids = torch.full((len(examples), length), pad_id, dtype=torch.long)
    mask = torch.zeros((len(examples), length), dtype=torch.long)
    labels = torch.full((len(examples), length), -100, dtype=torch.long)
    for row, e in enumerate(examples):
        n = len(e.input_ids)
        ids[row, :n] = torch.tensor(e.input_ids)
        mask[row, :n] = 1
        labels[row, :n] = torch.tensor(e.labels)
    batch = {"input_ids": ids, "attention_mask": mask, "labels": labels}
    if all(e.persona is not None for e in examples):
        batch["persona"] = torch.tensor([e.persona for e in examples], dtype=torch.float32)
    return batch


def collated_batches(encoded: Sequence[EncodedExample], run: RunSettings, pad_id: int, start: int = 0):
    """The training batches, collated, from step ``start`` on: a resumed run continues the order a fresh
    run would have reached there (``run.grad_accum`` batches a step)."""
    stream = iter_batches(encoded, run.batch_size, seed=run.seed)
    for _ in range(start * run.grad_accum):
        next(stream)
    for batch in stream:
        yield collate(batch, pad_id)


def loss_positions(labels: torch.Tensor) -> torch.Tensor:
    """``(B, L)`` labels → ``(B, L)`` bool: the positions whose logits predict a labelled token (position p
    predicts token p + 1)."""
    keep = torch.zeros_like(labels, dtype=torch.bool)
    keep[:, :-1] = labels[:, 1:] != -100
    return keep


def target_logits(model, labels: torch.Tensor, **inputs) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``(N, V)`` float logits that predict the N labelled tokens (row by row, in order) and those tokens.

    The output layer runs only at those N positions (``logits_to_keep`` with a boolean mask): a 262k-token
    vocabulary at every position of a batch — prompt and padding included — was most of a step's memory.
    ``inputs``: the model's keyword inputs (``input_ids`` or ``inputs_embeds``, ``attention_mask``).
    """
    keep = loss_positions(labels)
    logits = model(**inputs, logits_to_keep=keep).logits  # (N, V)
    return logits.float(), labels[:, 1:][keep[:, :-1]]


def token_loss(model, batch: dict[str, torch.Tensor], device, projector=None) -> tuple[torch.Tensor, int]:
    """Summed next-token cross-entropy over labelled tokens, and their count.

    With ``projector`` (a PersonaPlugProjector, ``(B, E) -> (B, m, D)``) the batch's ``persona`` ``(B, E)``
    becomes m soft tokens in front of the token embeddings ``(B, L, D)``; the model sees ``(B, m+L, D)``.
    """
    from pushkin.persona.projector import prepend_soft_prompt

    batch = {k: v.to(device) for k, v in batch.items()}
    if projector is None:
        logits, targets = target_logits(model, batch["labels"], input_ids=batch["input_ids"],
                                        attention_mask=batch["attention_mask"])
    else:
        if "persona" not in batch:
            raise ValueError("a projector was given but the batch carries no persona vectors")
        embeds = model.get_input_embeddings()(batch["input_ids"])  # (B, L, D)
        embeds, mask, labels = prepend_soft_prompt(embeds, projector(batch["persona"]), batch["attention_mask"],
                                                   batch["labels"])
        assert labels is not None  # labels in, labels out
        logits, targets = target_logits(model, labels, inputs_embeds=embeds, attention_mask=mask)
    loss = torch.nn.functional.cross_entropy(logits, targets, reduction="sum")
    return loss, int(targets.numel())


def mean_loss(model, encoded: Sequence[EncodedExample], pad_id: int, device, batch_size: int = 16,
              max_batches: int = 0, projector=None) -> float:
    """Mean token loss over ``encoded`` (no gradients), with the persona soft prompt when ``projector``."""
    total, count = 0.0, 0
    with torch.no_grad():
        for i, start in enumerate(range(0, len(encoded), batch_size)):
            if max_batches and i >= max_batches:
                break
            loss, n = token_loss(model, collate(encoded[start:start + batch_size], pad_id), device, projector)
            total += float(loss)
            count += n
    return total / max(count, 1)


def adapter_folder(root: str | Path, kind: AdapterKind, name: str) -> Path:
    """Where the runtime's registry expects an adapter: ``<root>/<kind>-<name>``."""
    return Path(root) / f"{kind.value}-{name}"


def save_to_registry(accelerator, peft_model, adapter_name: str, root: str | Path, manifest: AdapterManifest,
                     extra: dict[str, dict] | None = None) -> Path:
    """Save the trained adapter in the registry format (main process only); returns its folder."""
    folder = adapter_folder(root, manifest.kind, manifest.name)
    if accelerator.is_main_process:
        save_adapter(accelerator.unwrap_model(peft_model), adapter_name, folder, manifest, extra)
    accelerator.wait_for_everyone()
    return folder
