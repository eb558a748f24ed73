"""Writing a Gemma 3 model (a merged composition) as a ``.gguf`` file that llama.cpp and transformers read.

The file holds what llama.cpp's converter writes for Gemma 3: the architecture's keys (the ones transformers
maps to the config), the SentencePiece vocabulary as ``tokenizer.ggml.*`` arrays, and the tensors under
gguf's standard names. Two conventions of the format matter here: the tied output head is not stored (the
token embedding serves both), and RMSNorm weights are stored as ``1 + w`` (Gemma computes ``x * (1 + w)``;
readers subtract the one again).

When the base came from a GGUF (a ``.gguf`` path, or the safetensors folder converted from one), its
vocabulary — the token spellings, scores and types exactly as the original file had them — is reused, and
tokens the project added are appended; otherwise the vocabulary is read from the Hugging Face tokenizer.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .gguf import SOURCE_FILE, GgufError, is_gguf_path

# Storage types by the dtype name the export recipe takes; norms and other vectors are always float32.
_MATRIX_TYPES = {"float32": "F32", "float16": "F16", "bfloat16": "BF16", "q8_0": "Q8_0"}


def source_gguf_of(base: str | Path) -> Path | None:
    """The GGUF a base came from: the path itself, or the file a converted folder records; None otherwise."""
    if is_gguf_path(str(base)):
        return Path(base)
    record = Path(base) / SOURCE_FILE
    if record.is_file():
        source = Path(json.loads(record.read_text(encoding="utf-8"))["path"])
        if source.is_file():
            return source
    return None


def _source_vocabulary(path: Path) -> tuple[list[str], list[float], list[int]]:
    from gguf import GGUFReader

    reader = GGUFReader(str(path))
    fields = reader.fields
    try:
        return (list(fields["tokenizer.ggml.tokens"].contents()), list(fields["tokenizer.ggml.scores"].contents()),
                list(fields["tokenizer.ggml.token_type"].contents()))
    except KeyError as exc:
        raise GgufError(f"{path} has no SentencePiece vocabulary ({exc.args[0]} missing)") from None


def vocabulary(tokenizer: Any, size: int, source: Path | None) -> tuple[list[str], list[float], list[int]]:
    """``size`` token spellings, scores and types (gguf's TokenType values), in id order."""
    from gguf import TokenType

    tokens, scores, types = _source_vocabulary(source) if source is not None else ([], [], [])
    special = set(tokenizer.all_special_ids)
    added = set(tokenizer.added_tokens_decoder) if source is not None else set()
    for index in range(len(tokens), size):
        spelling = tokenizer.convert_ids_to_tokens(index)
        if spelling is None:
            spelling = f"<unused_export_{index}>"  # rows past the tokenizer (embeddings padded to a multiple)
            kind = TokenType.UNUSED
        elif index in special:
            kind = TokenType.CONTROL
        elif index in added:
            kind = TokenType.USER_DEFINED
        elif len(spelling) == 6 and spelling.startswith("<0x") and spelling.endswith(">"):
            kind = TokenType.BYTE
        else:
            kind = TokenType.NORMAL
        tokens.append(spelling)
        scores.append(0.0 if source is not None else -float(index))  # SentencePiece order: earlier is better
        types.append(int(kind))
    return tokens[:size], scores[:size], types[:size]


def _tensor_names(model: Any) -> dict[str, str]:
    """Hugging Face parameter name -> gguf tensor name, for every tensor the file stores."""
    from transformers.modeling_gguf_pytorch_utils import TensorProcessor, get_gguf_hf_weights_map

    to_hf = get_gguf_hf_weights_map(model, TensorProcessor(), model_type="gemma3",
                                    num_layers=model.config.num_hidden_layers)
    return {hf: gguf_name for gguf_name, hf in to_hf.items()}


def write_gguf(model: Any, tokenizer: Any, path: str | Path, dtype: str = "bfloat16",
               source: Path | None = None, name: str = "lil-pushkin") -> Path:
    """Write ``model`` (a ``Gemma3ForCausalLM``) and its vocabulary to ``path``; whole or not at all."""
    import gguf
    import numpy as np
    import torch

    if dtype not in _MATRIX_TYPES:
        raise ValueError(f"dtype {dtype!r}: a GGUF export takes one of {', '.join(_MATRIX_TYPES)}")
    config = model.config
    if getattr(config, "model_type", "") not in ("gemma3_text", "gemma3"):
        raise GgufError(f"a {getattr(config, 'model_type', 'unknown')} model: the GGUF export writes Gemma 3")
    names = _tensor_names(model)
    state = {k: v for k, v in model.state_dict().items() if k != "lm_head.weight"}  # tied to the embedding
    missing = sorted(set(state) - set(names))
    if missing:
        raise GgufError(f"no gguf name for {missing[0]} (and {len(missing) - 1} more)")
    size = state["model.embed_tokens.weight"].shape[0]
    tokens, scores, types = vocabulary(tokenizer, size, source)

    path = Path(path)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        writer = gguf.GGUFWriter(temp, "gemma3")
        writer.add_name(name)
        writer.add_file_type(getattr(gguf.LlamaFileType, f"MOSTLY_{_MATRIX_TYPES[dtype]}", gguf.LlamaFileType.ALL_F32))
        writer.add_context_length(config.max_position_embeddings)
        writer.add_embedding_length(config.hidden_size)
        writer.add_block_count(config.num_hidden_layers)
        writer.add_feed_forward_length(config.intermediate_size)
        writer.add_head_count(config.num_attention_heads)
        writer.add_head_count_kv(config.num_key_value_heads)
        writer.add_key_length(config.head_dim)
        writer.add_value_length(config.head_dim)
        writer.add_layer_norm_rms_eps(config.rms_norm_eps)
        writer.add_rope_freq_base(float(config.rope_theta if hasattr(config, "rope_theta")
                                        else config.rope_parameters["full_attention"]["rope_theta"]))
        if config.sliding_window:
            writer.add_sliding_window(config.sliding_window)
        writer.add_tokenizer_model("llama")
        writer.add_token_list(tokens)
        writer.add_token_scores(scores)
        writer.add_token_types(types)
        for role in ("bos", "eos", "unk", "pad"):
            token_id = getattr(tokenizer, f"{role}_token_id", None)
            if token_id is not None:
                getattr(writer, {"bos": "add_bos_token_id", "eos": "add_eos_token_id", "unk": "add_unk_token_id",
                                 "pad": "add_pad_token_id"}[role])(int(token_id))
        writer.add_add_bos_token(True)
        writer.add_add_eos_token(False)
        if isinstance(getattr(tokenizer, "chat_template", None), str):
            writer.add_chat_template(tokenizer.chat_template)

        matrix_type = getattr(gguf.GGMLQuantizationType, _MATRIX_TYPES[dtype])
        for hf_name, tensor in state.items():
            data = tensor.detach().to(torch.float32).cpu().numpy()
            if hf_name.endswith("norm.weight"):
                data = data + 1.0
            if data.ndim < 2:
                writer.add_tensor(names[hf_name], data.astype(np.float32))
            elif matrix_type == gguf.GGMLQuantizationType.F32:
                writer.add_tensor(names[hf_name], data)
            elif matrix_type == gguf.GGMLQuantizationType.F16:
                writer.add_tensor(names[hf_name], data.astype(np.float16))
            else:
                packed = gguf.quants.quantize(data, matrix_type)
                writer.add_tensor(names[hf_name], packed, raw_shape=packed.shape, raw_dtype=matrix_type)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    return path
