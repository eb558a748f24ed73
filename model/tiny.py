"""A tiny Gemma 3 with a tokenizer trained on the spot, for tests, benchmarks and training smoke runs.

:func:`build_tiny_gemma` writes a folder that looks exactly like a real checkpoint (``config.json``,
``model.safetensors``, ``tokenizer.json``, ...), so it is loaded through the same code as real weights
(:func:`pushkin.model.loading.load_base`). Nothing is downloaded: the weights are random and the
byte-level BPE tokenizer is trained here on a few English and Russian sentences (byte-level BPE round-trips
any UTF-8 text, so unseen words still encode). ``multimodal=True`` writes a tiny Gemma 3
image-text checkpoint instead, shaped like ``google/gemma-3-4b-pt``, to test loading its text stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import tokens

# Training text for the tokenizer: enough to learn common English and Russian pieces.
_CORPUS = (
    "The quick brown fox jumps over the lazy dog. Please rephrase that sentence.",
    "Make that more formal. Make it more casual. Shorten that. Expand that. Fix the grammar.",
    "Turn that into a list. Summarize that. Translate that to Russian. Translate that to English.",
    "Continue writing from the cursor. Keep going. Scratch that. Undo. Accept. Reject. Stop.",
    "dictate: command: rewrite task= formal casual shorten expand summarize translate continue",
    "The writer opened the document and started to dictate a new chapter about the sea.",
    "She wrote letters every morning, and in the evening she read them aloud to her brother.",
    "Быстрая коричневая лиса прыгает через ленивую собаку. Перефразируй это.",
    "Сделай это более формальным. Сократи это. Исправь грамматику. Продолжай писать.",
    "Писатель открыл документ и начал диктовать новую главу о море и о городе.",
    "Она писала письма каждое утро, а вечером читала их вслух своему брату.",
    "Переведи это на английский. Переведи это на русский. Отмени. Прими. Отклони.",
)


@dataclass(frozen=True)
class TinyGemmaOptions:
    """Shapes of the tiny model; the defaults build in about a second and run a forward pass in milliseconds."""

    hidden_size: int = 64
    intermediate_size: int = 128
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    head_dim: int = 16
    vocab_size: int = 640
    max_position_embeddings: int = 2048
    sliding_window: int = 64
    seed: int = 0
    # False: the tokenizer lacks the audio and silence tokens, like a real Gemma 3 tokenizer, so load_base
    # adds them and grows the (tied) embeddings, as it does for the real weights.
    input_only_tokens: bool = True


def train_tiny_tokenizer(vocab_size: int = 640, silence_buckets: tuple[float, ...] = tokens.SILENCE_BUCKETS_S,
                         input_only_tokens: bool = True):
    """A byte-level BPE tokenizer trained on a few English and Russian lines, wrapped for transformers.

    Carries the Gemma names for bos/eos/pad/unk and the turn markers, plus (``input_only_tokens``) the audio
    placeholder and one silence token per bucket.
    """
    from transformers import PreTrainedTokenizerFast

    from pushkin.text.bpe import train_byte_level_bpe

    input_only = [tokens.AUDIO, *tokens.silence_tokens(silence_buckets)] if input_only_tokens else []
    specials = [tokens.PAD, tokens.EOS, tokens.BOS, tokens.UNK, tokens.START_OF_TURN, tokens.END_OF_TURN, *input_only]
    bpe = train_byte_level_bpe(_CORPUS * 4, vocab_size, specials)
    from tokenizers.processors import TemplateProcessing

    bos_id = bpe.token_to_id(tokens.BOS)
    # Gemma prepends <bos> to every encoded text; so does this tokenizer.
    bpe.post_processor = TemplateProcessing(single=f"{tokens.BOS} $A", pair=f"{tokens.BOS} $A $B",
                                            special_tokens=[(tokens.BOS, bos_id)])
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        bos_token=tokens.BOS,
        eos_token=tokens.EOS,
        pad_token=tokens.PAD,
        unk_token=tokens.UNK,
        additional_special_tokens=[tokens.START_OF_TURN, tokens.END_OF_TURN, *input_only],
    )
    return wrapped


def tiny_text_config(options: TinyGemmaOptions, tokenizer):
    from transformers import Gemma3TextConfig

    vocab = tokenizer.get_vocab()
    return Gemma3TextConfig(
        vocab_size=len(tokenizer),
        hidden_size=options.hidden_size,
        intermediate_size=options.intermediate_size,
        num_hidden_layers=options.num_hidden_layers,
        num_attention_heads=options.num_attention_heads,
        num_key_value_heads=options.num_key_value_heads,
        head_dim=options.head_dim,
        max_position_embeddings=options.max_position_embeddings,
        sliding_window=options.sliding_window,
        layer_types=(["sliding_attention", "full_attention"] * options.num_hidden_layers)[: options.num_hidden_layers],
        bos_token_id=vocab[tokens.BOS],
        eos_token_id=[vocab[tokens.EOS], vocab[tokens.END_OF_TURN]],
        pad_token_id=vocab[tokens.PAD],
    )


def build_tiny_gemma(folder: str | Path, options: TinyGemmaOptions = TinyGemmaOptions(), *, multimodal: bool = False) -> Path:
    """Write a tiny random Gemma 3 checkpoint with its tokenizer into ``folder``; returns the folder.

    ``multimodal`` writes a ``Gemma3ForConditionalGeneration`` (tiny SigLIP tower included), the layout of
    ``google/gemma-3-4b-pt``; otherwise a text-only ``Gemma3ForCausalLM``, the layout of ``gemma-3-1b-pt``.
    """
    import torch
    from transformers import Gemma3Config, Gemma3ForCausalLM, Gemma3ForConditionalGeneration, SiglipVisionConfig

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tiny_tokenizer(options.vocab_size, input_only_tokens=options.input_only_tokens)
    text_config = tiny_text_config(options, tokenizer)
    torch.manual_seed(options.seed)
    if multimodal:
        vision = SiglipVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                    num_attention_heads=2, image_size=28, patch_size=14)
        config = Gemma3Config(text_config=text_config.to_dict(), vision_config=vision.to_dict(),
                              mm_tokens_per_image=4, image_token_index=tokenizer.unk_token_id,
                              boi_token_index=tokenizer.unk_token_id, eoi_token_index=tokenizer.unk_token_id)
        model: Any = Gemma3ForConditionalGeneration(config)
    else:
        model = Gemma3ForCausalLM(text_config)
    # Random init gives tiny embeddings and near-uniform logits; a wider spread (but not so wide that the
    # tied head only repeats the last token) makes outputs depend visibly on the input and the adapters.
    with torch.no_grad():
        model.get_input_embeddings().weight.normal_(0.0, 0.25)
    model.generation_config.bos_token_id = text_config.bos_token_id
    model.generation_config.eos_token_id = text_config.eos_token_id
    model.generation_config.pad_token_id = text_config.pad_token_id
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class TinyAdapterSpec:
    """One random adapter for the tiny registry."""

    name: str
    kind: str  # "persona" | "audio" | "task"
    rank: int
    task: str = ""


TINY_ADAPTERS = (
    TinyAdapterSpec("writer", "persona", 4),
    TinyAdapterSpec("speech", "audio", 8),
    TinyAdapterSpec("rewrite", "task", 4, task="rewrite"),
    TinyAdapterSpec("continue", "task", 2, task="continue"),
)


def build_tiny_registry(base_folder: str | Path, root: str | Path, specs: tuple[TinyAdapterSpec, ...] = TINY_ADAPTERS,
                        *, whisper_width: int = 32, seed: int = 1) -> Path:
    """Save random LoRA adapters for the tiny base in the registry format under ``root``; returns ``root``.

    The LoRA ``B`` matrices are random (PEFT's default makes them zero, which would change nothing), so
    every adapter visibly changes the outputs. The audio adapter also gets a random projector (from
    ``whisper_width``-wide frames) and silence vectors. The base is loaded through :func:`load_base`.
    """
    import torch
    from peft import LoraConfig, get_peft_model

    from pushkin.audio_lora.projector import AudioProjector, ProjectorConfig, SilenceEmbedding

    from .loading import LoadOptions, load_base
    from .registry import AdapterKind, AdapterManifest, save_adapter
    from .speech import AudioParts, save_audio_parts

    root = Path(root)
    loaded = load_base(LoadOptions(model=str(base_folder), device="cpu", dtype="float32"))
    torch.manual_seed(seed)
    peft = None
    for spec in specs:
        manifest = AdapterManifest(spec.name, AdapterKind(spec.kind), base_model=str(base_folder), rank=spec.rank,
                                   task=spec.task, description="random weights, for tests")
        config = LoraConfig(r=spec.rank, lora_alpha=spec.rank, target_modules=list(LORA_TARGETS),
                            init_lora_weights=False)
        if peft is None:
            peft = get_peft_model(loaded.model, config, adapter_name=manifest.peft_name)
        else:
            peft.add_adapter(manifest.peft_name, config)
        folder = root / f"{spec.kind}-{spec.name}"
        save_adapter(peft, manifest.peft_name, folder, manifest)
        if manifest.kind is AdapterKind.AUDIO:
            hidden = loaded.hidden_size
            parts = AudioParts(AudioProjector(ProjectorConfig(input_dim=whisper_width, output_dim=hidden)),
                               SilenceEmbedding(tokens.SILENCE_BUCKETS_S, hidden))
            save_audio_parts(folder, parts)
    return root


@dataclass(frozen=True)
class TinySetup:
    """Folders of a tiny text checkpoint, a tiny image-text checkpoint and a registry of tiny adapters."""

    base: Path
    multimodal: Path
    adapters: Path
    whisper_width: int = 32


_CACHED: dict[str, TinySetup] = {}


def cached_tiny_setup(root: str | Path | None = None) -> TinySetup:
    """Build the tiny checkpoints and adapters once per process (tests share them across folders)."""
    import tempfile

    key = str(root)
    if key not in _CACHED:
        folder = Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="pushkin-tiny-lm-"))
        base = build_tiny_gemma(folder / "base")
        multimodal = build_tiny_gemma(folder / "multimodal", multimodal=True)
        adapters = build_tiny_registry(base, folder / "adapters")
        _CACHED[key] = TinySetup(base, multimodal, adapters)
    return _CACHED[key]
