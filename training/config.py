"""Typed recipe configs: a frozen dataclass per recipe, a YAML file, and ``key=value`` overrides.

Every recipe calls ``load_config(ConfigClass, argv)``; tests call it directly. ``argv`` holds at most one
YAML path (``--config PATH`` or a bare ``*.yaml``) and any number of overrides such as ``lora.r=8`` or
``max_steps=2``. The one config loader (:mod:`pushkin.config`, as for the daemon) reads the YAML, applies
the overrides on top and runs every section's ``check()``; an unknown key, a wrong type or an
out-of-range value raises :class:`ConfigError` naming the key.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pushkin.config import ConfigError, load, read_config_file

__all__ = ["AudioConfig", "ConfigError", "DpoConfig", "EvaluateConfig", "ExportConfig", "PersonaConfig",
           "RewardConfig", "TaskConfig", "load_config", "to_dict"]


# ----------------------------------------------------------------------------------------------------------
# Shared sections


@dataclass(frozen=True)
class LoraSettings:
    """LoRA on the language model (PEFT). Defaults follow the design: r=64, alpha=128, dropout 0.05."""

    r: int = 64  # the LoRA rank
    alpha: int = 128  # the LoRA scale is alpha / r
    dropout: float = 0.05  # dropout on the LoRA input
    # Gemma 3's attention and MLP projections.
    target_modules: tuple[str, ...] = (
        "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj",
    )

    def check(self) -> None:
        _check(self.r >= 1, f"lora.r must be >= 1, got {self.r}")
        _check(self.alpha >= 1, f"lora.alpha must be >= 1, got {self.alpha}")
        _check(0.0 <= self.dropout < 1.0, f"lora.dropout must be in [0, 1), got {self.dropout}")
        _check(len(self.target_modules) > 0, "lora.target_modules must name at least one module")


@dataclass(frozen=True)
class OptimSettings:
    """AdamW with a cosine schedule after a linear warmup, and gradient clipping."""

    lr: float = 2e-4  # the peak learning rate
    betas: tuple[float, float] = (0.9, 0.95)  # AdamW's beta1, beta2
    weight_decay: float = 0.0  # AdamW's decoupled weight decay
    warmup_ratio: float = 0.03  # the share of max_steps spent warming up linearly
    min_lr_ratio: float = 0.0  # the cosine ends at lr * min_lr_ratio
    grad_clip: float = 1.0  # the gradient norm is clipped to this

    def check(self) -> None:
        _check(self.lr > 0, f"optim.lr must be > 0, got {self.lr}")
        _check(len(self.betas) == 2 and all(0.0 <= b < 1.0 for b in self.betas),
               f"optim.betas must be two numbers in [0, 1), got {self.betas}")
        _check(self.weight_decay >= 0, f"optim.weight_decay must be >= 0, got {self.weight_decay}")
        _check(0.0 <= self.warmup_ratio < 1.0, f"optim.warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        _check(0.0 <= self.min_lr_ratio <= 1.0, f"optim.min_lr_ratio must be in [0, 1], got {self.min_lr_ratio}")
        _check(self.grad_clip > 0, f"optim.grad_clip must be > 0, got {self.grad_clip}")


@dataclass(frozen=True)
class RunSettings:
    """How long to train, how to log and checkpoint. Shared by every recipe."""

    output_dir: str = "runs/out"  # checkpoints, TensorBoard logs, curves
    max_steps: int = 1000  # optimizer steps
    batch_size: int = 8  # examples per forward pass
    grad_accum: int = 1  # forward passes per optimizer step
    eval_every: int = 100  # evaluate every N steps and at the end (0: never)
    eval_batches: int = 0  # 0: the whole eval split
    save_every: int = 200  # a resumable checkpoint every N steps (0: only at the end)
    keep_checkpoints: int = 2
    resume: bool = True  # continue from the newest checkpoint in output_dir when there is one
    seed: int = 0  # seeds the data split, shuffling and initialisation
    precision: str = "auto"  # auto: bf16 on a GPU that supports it, else fp32 | bf16 | fp16 | fp32
    gradient_checkpointing: str = "auto"  # auto: on with a GPU | on | off
    progress: bool = True  # a progress bar on the terminal
    tensorboard: bool = True  # TensorBoard logs in output_dir

    def check(self) -> None:
        _check(self.max_steps >= 1, f"run.max_steps must be >= 1, got {self.max_steps}")
        _check(self.batch_size >= 1, f"run.batch_size must be >= 1, got {self.batch_size}")
        _check(self.grad_accum >= 1, f"run.grad_accum must be >= 1, got {self.grad_accum}")
        _check(self.eval_every >= 0, f"run.eval_every must be >= 0, got {self.eval_every}")
        _check(self.save_every >= 0, f"run.save_every must be >= 0, got {self.save_every}")
        _check(self.keep_checkpoints >= 1, "run.keep_checkpoints must be >= 1")
        _check(self.precision in ("auto", "bf16", "fp16", "fp32"),
               f"run.precision must be auto, bf16, fp16 or fp32, got {self.precision!r}")
        _check(self.gradient_checkpointing in ("auto", "on", "off"),
               f"run.gradient_checkpointing must be auto, on or off, got {self.gradient_checkpointing!r}")
        _check(bool(self.output_dir), "run.output_dir must not be empty")


@dataclass(frozen=True)
class ModelSettings:
    """The base model: a hub id or a local folder (tests point at a tiny Gemma built on the spot)."""

    base: str = "google/gemma-3-4b-pt"  # a hub id or a local folder
    max_length: int = 512  # tokens per training example (prompt + completion)

    def check(self) -> None:
        _check(bool(self.base), "model.base must name a model (hub id or folder)")
        _check(self.max_length >= 8, f"model.max_length must be >= 8, got {self.max_length}")


@dataclass(frozen=True)
class RegistrySettings:
    """Where the trained adapter goes: the adapter registry folder the runtime loads, and its name there."""

    root: str = "adapters"  # the adapter registry folder the runtime loads
    name: str = ""  # default: the recipe's choice (e.g. the task name)

    def check(self) -> None:
        _check(bool(self.root), "registry.root must not be empty")


# ----------------------------------------------------------------------------------------------------------
# Recipes


@dataclass(frozen=True)
class TextDataSettings:
    """Prompt/completion JSONL files (see pushkin.training.data), or inputs to build them from."""

    train: str = ""  # JSONL with {"prompt", "completion", "source"}
    eval: str = ""  # JSONL; empty: split off eval_fraction of the sources in train
    eval_fraction: float = 0.1  # share of the sources split off for eval when eval is empty
    near_duplicate_threshold: float = 0.8  # Jaccard of word 3-gram shingles across the split

    def check(self) -> None:
        _check(bool(self.train), "data.train must name a JSONL file")
        _check(0.0 < self.eval_fraction < 1.0, f"data.eval_fraction must be in (0, 1), got {self.eval_fraction}")
        _check(0.0 < self.near_duplicate_threshold <= 1.0,
               f"data.near_duplicate_threshold must be in (0, 1], got {self.near_duplicate_threshold}")


@dataclass(frozen=True)
class TaskConfig:
    """train_task: a task LoRA (continue, rephrase, ...) on prompt/completion pairs, loss on the completion."""

    task: str = "continue"  # the task name the adapter serves (its manifest's task)
    model: ModelSettings = field(default_factory=ModelSettings)
    data: TextDataSettings = field(default_factory=TextDataSettings)
    lora: LoraSettings = field(default_factory=LoraSettings)
    optim: OptimSettings = field(default_factory=OptimSettings)
    run: RunSettings = field(default_factory=RunSettings)
    registry: RegistrySettings = field(default_factory=RegistrySettings)

    def check(self) -> None:
        _check(bool(self.task) and self.task.replace("_", "").isalnum(),
               f"task must be a plain name (letters, digits, _), got {self.task!r}")


@dataclass(frozen=True)
class PersonaCorpusSettings:
    """The author's writing: folders of plain text (.txt/.md), English and Russian."""

    folders: tuple[str, ...] = ()  # folders of the author's writing
    jsonl: str = ""  # or a prepared prompt/completion JSONL (from `prepare persona`)
    context_chars: int = 600  # prompt: up to this much preceding text
    completion_chars: int = 400  # completion: up to this much following text
    eval_fraction: float = 0.1  # share of the documents held out for eval
    near_duplicate_threshold: float = 0.8  # Jaccard of word 3-gram shingles across the split

    def check(self) -> None:
        _check(bool(self.folders) or bool(self.jsonl), "corpus: give folders or a jsonl file")
        _check(self.context_chars >= 0 and self.completion_chars >= 16,
               "corpus.completion_chars must be >= 16 and context_chars >= 0")
        _check(0.0 < self.eval_fraction < 1.0, "corpus.eval_fraction must be in (0, 1)")


@dataclass(frozen=True)
class PersonaProjectorSettings:
    """The PersonaPlug projector trained with the persona LoRA: each passage's persona vector (attention of
    its preceding text over the author's other passages, as at run time) becomes ``tokens`` soft-prompt
    embeddings in front of the passage."""

    enabled: bool = True  # train the projector beside the LoRA
    tokens: int = 4  # m, soft-prompt tokens
    top_k: int = 32  # passages the attention keeps (the runtime's persona top_k)
    temperature: float = 0.1  # the attention's softmax temperature (the runtime's)
    embedder: str = "all-MiniLM-L6-v2"  # the sentence embedder: the one the daemon indexes with
    lr: float = 1e-3  # the projector's own learning rate (it starts from scratch; the LoRA uses optim.lr)

    def check(self) -> None:
        _check(self.tokens >= 1, f"projector.tokens must be >= 1, got {self.tokens}")
        _check(self.top_k >= 1, f"projector.top_k must be >= 1, got {self.top_k}")
        _check(self.temperature > 0, f"projector.temperature must be > 0, got {self.temperature}")
        _check(bool(self.embedder), "projector.embedder must name a sentence-transformers model")
        _check(self.lr > 0, f"projector.lr must be > 0, got {self.lr}")


@dataclass(frozen=True)
class PersonaConfig:
    """train_persona: the persona LoRA on the author's own text (continuation of their paragraphs)."""

    model: ModelSettings = field(default_factory=ModelSettings)
    corpus: PersonaCorpusSettings = field(default_factory=PersonaCorpusSettings)
    projector: PersonaProjectorSettings = field(default_factory=PersonaProjectorSettings)
    lora: LoraSettings = field(default_factory=LoraSettings)
    optim: OptimSettings = field(default_factory=OptimSettings)
    run: RunSettings = field(default_factory=RunSettings)
    registry: RegistrySettings = field(default_factory=RegistrySettings)


@dataclass(frozen=True)
class AudioDataSettings:
    """Audio manifests (JSONL: audio, transcript or target, optional alignment); see pushkin.training.audio_data."""

    train: str = ""  # the training manifest
    eval: str = ""  # the held-out manifest (other speakers/speeds)
    cache_dir: str = ""  # encoder features are cached here (the encoder is frozen); empty: output_dir/features

    def check(self) -> None:
        _check(bool(self.train), "data.train must name a manifest")
        _check(bool(self.eval), "data.eval must name a manifest (held-out speakers/speeds)")


@dataclass(frozen=True)
class AudioConfig:
    """train_audio: Whisper encoder (frozen) -> projector (+ silence tokens) -> Gemma (+ LoRA).

    Stage 1 trains the projector and the silence embeddings with the language model frozen
    (``projector_steps``); stage 2 adds a LoRA on the language model when ``train_lora`` is on. The loss
    covers only the target line (``dictate: ...`` / ``command: ...``).
    """

    encoder: str = "openai/whisper-small"  # a CTranslate2 folder or a transformers Whisper id/folder
    model: ModelSettings = field(default_factory=ModelSettings)
    data: AudioDataSettings = field(default_factory=AudioDataSettings)
    stack_factor: int = 4  # the projector's K
    projector_steps: int = 500  # stage 1 steps (projector and silence vectors only; the rest also train the LoRA)
    train_lora: bool = True  # stage 2 adds a LoRA on the language model
    projector_lr: float = 1e-3  # the projector's learning rate
    # Distillation from the text path (as Ultravox trains): the frozen base, reading the spoken words as
    # text, is the teacher of the target line's next-token distributions; the loss is
    # (1 - distill_weight) * cross-entropy + distill_weight * KL(teacher || student). 0 turns it off.
    distill_weight: float = 0.0
    distill_temperature: float = 1.0  # the softmax temperature of teacher and student in the KL
    lora: LoraSettings = field(default_factory=LoraSettings)
    optim: OptimSettings = field(default_factory=OptimSettings)
    run: RunSettings = field(default_factory=RunSettings)
    registry: RegistrySettings = field(default_factory=RegistrySettings)

    def check(self) -> None:
        _check(0.0 <= self.distill_weight <= 1.0, f"distill_weight must be in [0, 1], got {self.distill_weight}")
        _check(self.distill_temperature > 0, f"distill_temperature must be > 0, got {self.distill_temperature}")
        _check(self.stack_factor >= 1, f"stack_factor must be >= 1, got {self.stack_factor}")
        _check(self.projector_steps >= 0, f"projector_steps must be >= 0, got {self.projector_steps}")
        _check(self.projector_lr > 0, f"projector_lr must be > 0, got {self.projector_lr}")
        _check(self.projector_steps <= self.run.max_steps,
               f"projector_steps ({self.projector_steps}) must not exceed run.max_steps ({self.run.max_steps})")
        _check(self.train_lora or self.projector_steps == self.run.max_steps or self.projector_steps == 0,
               "with train_lora off, every step trains the projector: set projector_steps = run.max_steps")


@dataclass(frozen=True)
class RewardDataSettings:
    train: str = ""  # JSONL of {"original", "edited"} (the edit is better) or {"original", "chosen", "rejected"}
    eval: str = ""  # held-out pairs (optional)
    corpus_folders: tuple[str, ...] = ()  # the author's writing, for the style metrics

    def check(self) -> None:
        _check(bool(self.train), "data.train must name a JSONL of preference pairs")


@dataclass(frozen=True)
class RewardConfig:
    """train_reward: a classifier on (original, edited) pairs + learned weights over the rigid metrics."""

    encoder: str = ""  # a sentence-transformers model name or folder; empty: the packaged all-MiniLM-L6-v2
    hidden: int = 256  # the classifier's hidden width
    data: RewardDataSettings = field(default_factory=RewardDataSettings)
    optim: OptimSettings = field(default_factory=lambda: OptimSettings(lr=1e-3, warmup_ratio=0.05))
    run: RunSettings = field(default_factory=lambda: RunSettings(max_steps=300, batch_size=32, eval_every=50))
    weight_steps: int = 200  # steps fitting the mixture weights after the classifier
    output: str = "adapters/reward"  # a folder: classifier safetensors + weights JSON

    def check(self) -> None:
        _check(self.hidden >= 1, f"hidden must be >= 1, got {self.hidden}")
        _check(self.weight_steps >= 1, f"weight_steps must be >= 1, got {self.weight_steps}")
        _check(bool(self.output), "output must name a folder")


@dataclass(frozen=True)
class DpoDataSettings:
    prompts: str = ""  # JSONL with {"prompt", "original"?, "source"?}; candidates are generated per prompt
    pairs: str = ""  # or ready pairs: JSONL with {"prompt", "chosen", "rejected"}
    eval_fraction: float = 0.2  # share held out for eval (split by source)

    def check(self) -> None:
        _check(bool(self.prompts) or bool(self.pairs), "data: give prompts or pairs")
        _check(0.0 < self.eval_fraction < 1.0, "data.eval_fraction must be in (0, 1)")


@dataclass(frozen=True)
class DpoConfig:
    """train_dpo: candidates from the composed model, ranked by the reward, DPO through TRL."""

    task: str = "continue"  # the task the refined adapter serves (its manifest's task)
    model: ModelSettings = field(default_factory=ModelSettings)
    adapters: tuple[str, ...] = ()  # registry folders merged under the policy (the composition it refines)
    data: DpoDataSettings = field(default_factory=DpoDataSettings)
    reward: str = "adapters/reward"  # a folder written by train_reward; empty: the rigid metrics alone
    corpus_folders: tuple[str, ...] = ()  # the author's writing: the rigid metrics' profile when reward is empty
    candidates: int = 4  # candidates generated per prompt
    max_new_tokens: int = 48  # tokens per candidate
    temperature: float = 1.0  # sampling temperature of the candidates
    min_p: float = 0.1  # min-p sampling of the candidates
    beta: float = 0.1  # DPO's beta (strength of the pull to the reference)
    deviation_weighting: bool = False  # diversified DPO: weight each pair by the chosen candidate's deviation
    lora: LoraSettings = field(default_factory=LoraSettings)
    optim: OptimSettings = field(default_factory=lambda: OptimSettings(lr=5e-5))
    run: RunSettings = field(default_factory=RunSettings)
    registry: RegistrySettings = field(default_factory=RegistrySettings)

    def check(self) -> None:
        _check(self.candidates >= 2, f"candidates must be >= 2, got {self.candidates}")
        _check(self.max_new_tokens >= 1, f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        _check(self.temperature > 0, f"temperature must be > 0, got {self.temperature}")
        _check(0.0 <= self.min_p < 1.0, f"min_p must be in [0, 1), got {self.min_p}")
        _check(self.beta > 0, f"beta must be > 0, got {self.beta}")


@dataclass(frozen=True)
class EvaluateConfig:
    """evaluate: text tasks vs the base model, audio WER/CER, persona style metrics; JSON + plot."""

    kind: str = "task"  # task | persona | audio
    model: ModelSettings = field(default_factory=ModelSettings)
    adapter: str = ""  # a registry folder
    data: str = ""  # eval JSONL (text) or manifest (audio)
    encoder: str = ""  # audio only
    corpus_folders: tuple[str, ...] = ()  # persona only: the author's writing for the style metrics
    max_examples: int = 200  # examples evaluated at most
    max_new_tokens: int = 64  # tokens generated per example
    output_dir: str = "runs/eval"  # the JSON report and plot go here

    def check(self) -> None:
        _check(self.kind in ("task", "persona", "audio"), f"kind must be task, persona or audio, got {self.kind!r}")
        _check(bool(self.adapter), "adapter must name a registry folder")
        _check(bool(self.data), "data must name an eval file")
        _check(self.max_examples >= 1 and self.max_new_tokens >= 1, "max_examples and max_new_tokens must be >= 1")
        _check(self.kind != "audio" or bool(self.encoder), "an audio evaluation needs encoder=...")


@dataclass(frozen=True)
class ExportConfig:
    """export: merge adapters into the base and save a plain HF folder, or a .gguf file (output ending .gguf)."""

    model: ModelSettings = field(default_factory=ModelSettings)
    adapters: tuple[str, ...] = ()  # registry folders merged in order
    output: str = "runs/merged"
    dtype: str = "bfloat16"  # bfloat16 | float16 | float32, and q8_0 for a .gguf output

    def check(self) -> None:
        _check(len(self.adapters) >= 1, "adapters must name at least one registry folder")
        gguf = self.output.endswith(".gguf")
        _check(self.dtype in ("bfloat16", "float16", "float32") + (("q8_0",) if gguf else ()),
               "dtype must be bfloat16, float16 or float32" + (" or q8_0" if gguf else ""))
        _check(bool(self.output), "output must name a folder")


# ----------------------------------------------------------------------------------------------------------
# Loading

C = TypeVar("C")


def load_config(cls: type[C], argv: Sequence[str] | None = None) -> C:
    """The config for ``cls`` from ``argv`` (default ``sys.argv[1:]``): an optional YAML, then overrides.

    >>> load_config(TaskConfig, ["task=rephrase", "lora.r=8"]).lora.r
    8
    """
    args = list(sys.argv[1:] if argv is None else argv)
    path: str | None = None
    overrides: dict[str, str] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("--config", "-c"):
            if i + 1 >= len(args):
                raise ConfigError("--config needs a path")
            path = args[i + 1]
            i += 2
            continue
        if arg.startswith("--config="):
            path = arg.split("=", 1)[1]
        elif "=" in arg:
            key, value = arg.split("=", 1)
            overrides[key.strip().lstrip("-")] = value
        elif arg.endswith((".yaml", ".yml")):
            path = arg
        else:
            raise ConfigError(f"unexpected argument {arg!r}: give a YAML path, --config PATH or key=value overrides")
        i += 1
    if path is not None:
        from pathlib import Path

        from .recipes import resolve_config_path

        path = str(resolve_config_path(Path(path)))  # a bare recipe name: the YAML shipped with the package
    table = read_config_file(path) if path is not None else {}
    return load(cls, table, overrides, source=path or "")


def to_dict(config: Any) -> dict[str, Any]:
    """A plain dict (tuples as lists) for YAML/JSON dumps next to the outputs."""

    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value

    return plain(config)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)
