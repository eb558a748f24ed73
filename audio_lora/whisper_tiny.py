"""Random-weight Whisper models built locally, converted to CTranslate2 the way real checkpoints are.

Tests, benchmarks and (later) the speech-LLM path need a Whisper without a download. This module builds
one from a :class:`WhisperShape` (tiny for tests, "base"- or "small"-shaped for benchmarks: weight values
do not change compute), with a byte-level BPE tokenizer trained on the spot and OpenAI's special-token
layout (end of text, start of transcript, one token per language, task tokens, ``<|notimestamps|>`` and
then the 1501 timestamp tokens). It saves the transformers checkpoint, converts it with CTranslate2's
``TransformersConverter`` (the same converter ``ct2-transformers-converter`` runs for a real model, with
``--copy_files tokenizer.json preprocessor_config.json``) and returns the folder that
``faster_whisper.WhisperModel`` loads.

The model layer never imports grpc; heavy imports (torch, transformers, ctranslate2) happen inside
:func:`build_whisper`.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

# OpenAI's language order (the order of the language tokens in every multilingual Whisper vocabulary).
WHISPER_LANGUAGES = (
    "en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta no th ur hr bg "
    "lt la mi ml cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk sq sw gl mr pa si km sn yo so "
    "af oc ka be tg sd gu am yi lo uz fo ht ps tk nn mt sa lb my bo tl mg as tt haw ln ha ba jw su"
).split()
TASK_TOKENS = ("<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nocaptions|>", "<|notimestamps|>")
TIMESTAMP_COUNT = 1501  # <|0.00|> ... <|30.00|> in 20 ms steps

# A small bilingual corpus for the throwaway tokenizer: the tokens only need to cover both scripts.
_CORPUS = [
    "The quick brown fox jumps over the lazy dog while the writer drinks coffee.",
    "Scratch that. Delete the last sentence and rephrase the paragraph, please.",
    "She opened the window, and the evening air carried the smell of rain and lilacs.",
    "Numbers like 1, 2, 3, 42 and 2024 appear in prose; so do commas, dashes and quotes.",
    "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "Удали последнее предложение и перепиши абзац более официально.",
    "Вечером пошёл дождь, и в саду запахло сиренью и мокрой землёй.",
    "Мороз и солнце; день чудесный! Ещё ты дремлешь, друг прелестный.",
]


@dataclass(frozen=True)
class WhisperShape:
    """The architecture of a Whisper model; the named shapes match OpenAI's checkpoints."""

    d_model: int = 64
    encoder_layers: int = 2
    decoder_layers: int = 2
    attention_heads: int = 4
    ffn_dim: int = 128
    num_mel_bins: int = 80
    text_vocab_size: int = 50257  # as in the real models; the output layer's cost depends on it
    max_source_positions: int = 1500
    max_target_positions: int = 448


SHAPES = {
    "tiny-test": WhisperShape(),
    "base": WhisperShape(d_model=512, encoder_layers=6, decoder_layers=6, attention_heads=8, ffn_dim=2048, text_vocab_size=50257),
    "small": WhisperShape(d_model=768, encoder_layers=12, decoder_layers=12, attention_heads=12, ffn_dim=3072, text_vocab_size=50257),
}


def special_tokens() -> list[str]:
    """The special tokens in Whisper's order, timestamps included."""
    tokens = ["<|endoftext|>", "<|startoftranscript|>"]
    tokens += [f"<|{code}|>" for code in WHISPER_LANGUAGES]
    tokens += list(TASK_TOKENS)
    tokens += ["<|%.2f|>" % (i * 0.02) for i in range(TIMESTAMP_COUNT)]
    return tokens


def _train_tokenizer(text_vocab_size: int):
    """A byte-level BPE whose ids are the text tokens, then Whisper's specials (OpenAI's layout)."""
    from tokenizers import AddedToken, Tokenizer, processors

    from pushkin.text.bpe import train_byte_level_bpe

    tokenizer = train_byte_level_bpe(_CORPUS, min(text_vocab_size, 600))
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    # Real-shaped models need Whisper's 50257 text tokens so the output layer costs what it really costs.
    # The last text token is the empty string, as in OpenAI's multilingual vocabulary: CTranslate2 treats
    # a Whisper as multilingual (language detection, language tokens) only when that token exists.
    state = json.loads(tokenizer.to_str())
    vocab = state["model"]["vocab"]
    for i in range(max(text_vocab_size - 1 - len(vocab), 0)):
        vocab[f"<|text{i}|>"] = len(vocab)
    vocab[""] = len(vocab)
    tokenizer = Tokenizer.from_str(json.dumps(state))
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in special_tokens()])
    return tokenizer


def build_whisper(output_dir: str | Path, shape: WhisperShape = WhisperShape(), *, seed: int = 0, quantization: str | None = None) -> Path:
    """Build, save and convert a random-weight Whisper; return the CTranslate2 folder.

    ``output_dir`` receives ``hf/`` (the transformers checkpoint and tokenizer) and ``ct2/`` (model.bin,
    config.json, vocabulary, tokenizer.json, preprocessor_config.json). An existing complete build of the
    same shape is reused.
    """
    output_dir = Path(output_dir)
    ct2_dir = output_dir / "ct2"
    stamp = output_dir / "shape.json"
    wanted = json.dumps({"shape": asdict(shape), "seed": seed, "quantization": quantization}, sort_keys=True)
    if (ct2_dir / "model.bin").is_file() and stamp.is_file() and stamp.read_text() == wanted:
        return ct2_dir

    import torch
    from ctranslate2.converters import TransformersConverter
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperTokenizer,
    )

    if output_dir.exists():
        shutil.rmtree(output_dir)
    hf_dir = output_dir / "hf"
    hf_dir.mkdir(parents=True)

    raw = _train_tokenizer(shape.text_vocab_size)
    eot = raw.token_to_id("<|endoftext|>")
    tokenizer = WhisperTokenizer(
        tokenizer_object=raw,
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        pad_token="<|endoftext|>",
    )
    tokenizer.save_pretrained(hf_dir)

    ids = {token: raw.token_to_id(token) for token in ("<|startoftranscript|>", "<|notimestamps|>", "<|translate|>", "<|transcribe|>", "<|startofprev|>", "<|startoflm|>", "<|nocaptions|>")}
    config = WhisperConfig(
        vocab_size=raw.get_vocab_size(),
        num_mel_bins=shape.num_mel_bins,
        d_model=shape.d_model,
        encoder_layers=shape.encoder_layers,
        decoder_layers=shape.decoder_layers,
        encoder_attention_heads=shape.attention_heads,
        decoder_attention_heads=shape.attention_heads,
        encoder_ffn_dim=shape.ffn_dim,
        decoder_ffn_dim=shape.ffn_dim,
        max_source_positions=shape.max_source_positions,
        max_target_positions=shape.max_target_positions,
        pad_token_id=eot,
        bos_token_id=eot,
        eos_token_id=eot,
        decoder_start_token_id=ids["<|startoftranscript|>"],
        suppress_tokens=[],
        begin_suppress_tokens=[raw.token_to_id("Ġ") or 0, eot],
    )
    torch.manual_seed(seed)
    model = WhisperForConditionalGeneration(config).eval()
    generation = GenerationConfig(
        decoder_start_token_id=ids["<|startoftranscript|>"],
        eos_token_id=eot,
        pad_token_id=eot,
        bos_token_id=eot,
        suppress_tokens=[],
        begin_suppress_tokens=config.begin_suppress_tokens,
        no_timestamps_token_id=ids["<|notimestamps|>"],
        lang_to_id={f"<|{code}|>": raw.token_to_id(f"<|{code}|>") for code in WHISPER_LANGUAGES},
        task_to_id={"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]},
        is_multilingual=True,
        max_length=shape.max_target_positions,
    )
    model.generation_config = generation
    model.save_pretrained(hf_dir)
    # transformers 5 writes only processor_config.json through a processor: save the extractor itself.
    WhisperFeatureExtractor(feature_size=shape.num_mel_bins).save_pretrained(hf_dir)

    converter = TransformersConverter(str(hf_dir), copy_files=["tokenizer.json", "preprocessor_config.json"], load_as_float16=False)
    converter.convert(str(ct2_dir), quantization=quantization, force=True)
    stamp.write_text(wanted)
    return ct2_dir
