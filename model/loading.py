"""Loading Gemma 3 for lil Pushkin: one function for the daemon, training, benchmarks and tests.

The default is ``google/gemma-3-4b-pt``, the pretrained base model without instruction tuning. For laptops
without a GPU, ``google/gemma-3-1b-pt`` is the documented smaller option (about 7 tokens/s in bf16 on two
cores). Either a hub id (resolved from the local Hugging Face cache; ``HF_HUB_OFFLINE=1`` is respected) or
a local folder.

Gemma 3 4B (and 12B, 27B) is an image-text checkpoint (``Gemma3ForConditionalGeneration``, model type
``gemma3``). Only its text stack is used here: :func:`load_base` loads ``Gemma3ForCausalLM`` from the
checkpoint's ``text_config`` and maps the weight names of the language model onto it
(``language_model.model.*`` or ``model.language_model.*`` → ``model.*``, the LM head tied to the
embeddings), so the SigLIP vision tower is never loaded. Gemma 3 1B is text-only (``gemma3_text``) and
loads directly.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import tokens
from .gguf import GgufError, check_gguf, convert_gguf, is_gguf_path
from .hub import hub_offline

log = logging.getLogger(__name__)

DEFAULT_MODEL = "google/gemma-3-4b-pt"
SMALL_CPU_MODEL = "google/gemma-3-1b-pt"

# Weight names of the language model inside the image-text checkpoint, for both layouts in the wild.
_TEXT_STACK_KEY_MAPPING = {
    r"^language_model\.model\.": "model.",
    r"^model\.language_model\.": "model.",
    r"^language_model\.lm_head\.": "lm_head.",
}


class ModelNotFoundError(FileNotFoundError):
    """The weights are not on this machine; the message names them and says how to get them."""


class ModelLoadError(RuntimeError):
    """The weights are here but cannot be loaded as asked (bad folder, quantization unavailable, ...)."""


@dataclass(frozen=True)
class LoadOptions:
    """How to load the base model.

    ``model``: a hub id or a local folder. ``device``: "auto" (CUDA, then Apple MPS, then CPU), "cuda",
    "cuda:1", "mps" or "cpu". ``dtype``: "auto" (bf16 on CUDA and MPS, fp32 on CPU — bf16 decodes about
    twice as fast on a CPU with AVX512-BF16, so set it there), "bfloat16", "float16" or "float32".
    ``quantization``: None, "8bit" or "4bit" (bitsandbytes on CUDA only).
    """

    model: str = DEFAULT_MODEL
    device: str = "auto"
    dtype: str = "auto"
    quantization: str | None = None
    revision: str | None = None


@dataclass(frozen=True)
class LoadProgress:
    """One step of loading, for status lines: ``fraction`` runs from 0 to 1."""

    stage: str
    fraction: float
    message: str


ProgressCallback = Callable[[LoadProgress], None]


@dataclass
class LoadedModel:
    """A loaded base model (a ``Gemma3ForCausalLM``) and its tokenizer; owned by one worker thread."""

    # transformers' classes, typed loosely: torch and transformers are imported only when a model loads.
    model: Any
    tokenizer: Any
    source: str
    device: str
    dtype: str
    quantization: str | None

    @property
    def hidden_size(self) -> int:
        return int(self.model.config.hidden_size)


def pick_device(requested: str = "auto") -> str:
    """CUDA when present, then Apple MPS, else CPU; an explicit request is checked and kept."""
    import torch

    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
        return "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ModelLoadError(f"device {requested!r} was asked for, but torch sees no CUDA GPU (torch {torch.__version__})")
    if requested == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ModelLoadError("device 'mps' was asked for, but Apple MPS is not available in this torch build")
    if requested != "cpu" and not requested.startswith(("cuda", "mps")):
        raise ModelLoadError(f"unknown device {requested!r}; use auto, cpu, cuda, cuda:N or mps")
    return requested


def pick_dtype(device: str, requested: str = "auto"):
    """The torch dtype for ``device``: bf16 on CUDA and MPS, fp32 on CPU, unless one is asked for."""
    import torch

    names = {"bfloat16": torch.bfloat16, "bf16": torch.bfloat16, "float16": torch.float16, "fp16": torch.float16,
             "float32": torch.float32, "fp32": torch.float32}
    if requested == "auto":
        return torch.float32 if device == "cpu" else torch.bfloat16
    if requested not in names:
        raise ModelLoadError(f"unknown dtype {requested!r}; use auto, bfloat16, float16 or float32")
    return names[requested]


def resolve_model_folder(model: str, revision: str | None = None,
                         progress: Callable[[float, str], None] | None = None) -> Path:
    """The local folder holding ``model`` (a folder path, a hub id in the Hugging Face cache, or a ``.gguf``
    file, converted once into a verified safetensors folder: see :mod:`pushkin.model.gguf`).

    Downloads only when the hub is allowed (``HF_HUB_OFFLINE`` unset) and the id is not cached; raises
    ModelNotFoundError with the way to get the weights otherwise.
    """
    path = Path(model).expanduser()
    if is_gguf_path(model):
        try:
            return convert_gguf(path, progress).folder
        except GgufError as exc:
            raise ModelLoadError(str(exc)) from exc
    if path.exists():
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(f"{path} has no config.json: it is not a model folder (expected the files of a "
                                     f"Gemma 3 checkpoint: config.json, *.safetensors, tokenizer.json, or a .gguf "
                                     f"file)")
        return path
    if model.startswith((".", "/", "~")) or os.sep in model.strip("/").split("/", 1)[-1]:
        raise ModelNotFoundError(f"model folder {model} does not exist")
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError
    except ImportError as exc:  # pragma: no cover - huggingface_hub comes with transformers
        raise ModelNotFoundError(f"{model} is not a local folder and huggingface_hub is not installed") from exc
    offline = hub_offline()
    patterns = ["*.json", "*.safetensors", "tokenizer.model", "*.txt"]
    try:
        return Path(snapshot_download(model, revision=revision, local_files_only=True, allow_patterns=patterns))
    except LocalEntryNotFoundError:
        pass
    except Exception as exc:  # a malformed id, a broken cache entry
        raise ModelNotFoundError(_how_to_get(model, f"looking it up in the local cache failed: {exc}")) from exc
    if offline:
        raise ModelNotFoundError(_how_to_get(model, "it is not in the local Hugging Face cache and HF_HUB_OFFLINE is set"))
    try:
        return Path(snapshot_download(model, revision=revision, allow_patterns=patterns))
    except Exception as exc:
        raise ModelNotFoundError(_how_to_get(model, f"downloading it failed: {exc}")) from exc


def _how_to_get(model: str, why: str) -> str:
    gated = model.startswith("google/gemma")
    steps = []
    if gated:
        steps.append(f"accept the Gemma licence on https://huggingface.co/{model} while logged in")
        steps.append("run `huggingface-cli login` (or set HF_TOKEN)")
    steps.append(f"run `huggingface-cli download {model}`")
    steps.append("or pass a local folder holding the checkpoint (config.json, *.safetensors, tokenizer.json)")
    return (f"the model weights {model!r} are not available: {why}. To get them: " + "; ".join(steps) +
            f". On a laptop without a GPU, {SMALL_CPU_MODEL!r} is the smaller option.")


def _read_config(folder: Path) -> dict:
    try:
        return json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"cannot read {folder / 'config.json'}: {exc}") from exc


def _refuse_pickles(folder: Path) -> None:
    """Weights come only from safetensors: a folder with nothing else but pickled weights is refused."""
    if any(folder.glob("*.safetensors")):
        return
    pickled = sorted(p.name for p in folder.iterdir() if p.suffix in (".bin", ".pt", ".pth", ".ckpt", ".pkl"))
    if pickled:
        raise ModelLoadError(f"{folder} holds only pickled weights ({', '.join(pickled)}); lil Pushkin loads "
                             f"safetensors only and never unpickles. Convert them to safetensors first.")
    raise ModelNotFoundError(f"{folder} has a config.json but no *.safetensors weights")


def _quantization_config(quantization: str | None, device: str, dtype):
    if quantization is None:
        return None
    if quantization not in ("8bit", "4bit"):
        raise ModelLoadError(f"unknown quantization {quantization!r}; use 8bit or 4bit")
    if not device.startswith("cuda"):
        raise ModelLoadError(f"{quantization} quantization needs bitsandbytes on a CUDA GPU; this device is "
                             f"{device!r}. Load without quantization (or with dtype bfloat16) instead.")
    try:
        import bitsandbytes  # noqa: F401
    except ImportError as exc:
        raise ModelLoadError(f"{quantization} quantization needs the bitsandbytes package: "
                             f"pip install bitsandbytes") from exc
    from transformers import BitsAndBytesConfig

    if quantization == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=dtype)


def load_base(options: LoadOptions = LoadOptions(), progress: ProgressCallback | None = None) -> LoadedModel:
    """Load the Gemma 3 text model and tokenizer named by ``options``.

    Returns a ``Gemma3ForCausalLM`` in eval mode on the chosen device, whatever the checkpoint's layout
    (text-only, or the image-text one whose text stack is taken). The tokenizer gets the audio and silence
    tokens it lacks (the embeddings are resized to match).
    """
    report = progress or (lambda p: None)
    report(LoadProgress("resolve", 0.0, f"looking for {options.model}"))
    folder = resolve_model_folder(options.model, options.revision,
                                  lambda fraction, message: report(LoadProgress("convert", 0.1 * fraction, message)))
    _refuse_pickles(folder)
    device = pick_device(options.device)
    dtype = pick_dtype(device, options.dtype)
    quantization = _quantization_config(options.quantization, device, dtype)
    config_json = _read_config(folder)
    model_type = config_json.get("model_type", "")
    if model_type not in ("gemma3", "gemma3_text"):
        raise ModelLoadError(f"{folder} holds a {model_type or 'unknown'!s} model; lil Pushkin needs Gemma 3 "
                             f"(model type gemma3 or gemma3_text)")

    import torch  # noqa: F401  (imported here: loading torch is the slow part of starting up)
    import transformers
    from transformers import AutoConfig, AutoTokenizer, Gemma3ForCausalLM

    report(LoadProgress("tokenizer", 0.1, "loading the tokenizer"))
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder)
    except Exception as exc:
        raise ModelLoadError(f"cannot load the tokenizer from {folder}: {exc}") from exc

    report(LoadProgress("weights", 0.2, f"loading {options.model} weights ({dtype}, {device})"))
    config = AutoConfig.from_pretrained(folder)
    kwargs = dict(dtype=dtype, quantization_config=quantization)
    if device != "cpu":
        kwargs["device_map"] = device
    if model_type == "gemma3":
        # The image-text checkpoint: take its language model only.
        kwargs.update(config=config.text_config, key_mapping=_TEXT_STACK_KEY_MAPPING)
    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()  # the vision tower's weights are reported as unexpected
    try:
        model = Gemma3ForCausalLM.from_pretrained(folder, **kwargs)
    except Exception as exc:
        raise ModelLoadError(f"cannot load the weights in {folder}: {exc}") from exc
    finally:
        transformers.logging.set_verbosity(verbosity)
    model.eval()

    report(LoadProgress("tokens", 0.9, "checking the special tokens"))
    added = tokens.ensure_special_tokens(tokenizer)
    if added:
        add_token_rows(model, len(tokenizer))
    dtype_name = str(dtype).removeprefix("torch.")
    report(LoadProgress("ready", 1.0, f"{options.model} is loaded on {device} ({dtype_name})"))
    return LoadedModel(model=model, tokenizer=tokenizer, source=str(options.model), device=device,
                       dtype=dtype_name, quantization=options.quantization)


def add_token_rows(model, vocab_size: int) -> None:
    """Grow the embeddings to ``vocab_size`` rows, each new row the mean of the existing ones.

    The rows are for tokens that are only ever inputs (the audio placeholder, the silence markers). With
    Gemma's output layer tied to the embeddings, a new row is also an output row: the mean row scores the
    mean of all real tokens' logits, so it never out-scores the best one (random rows did, and took over
    generation). Being deterministic, the rows need not be saved with an adapter: every load makes the same.
    """
    import torch

    embedding = model.get_input_embeddings()
    old = embedding.weight.shape[0]
    if vocab_size <= old:
        return
    with torch.no_grad():
        mean = embedding.weight.float().mean(dim=0)
    model.resize_token_embeddings(vocab_size, mean_resizing=False)
    with torch.no_grad():
        weight = model.get_input_embeddings().weight
        weight[old:] = mean.to(weight.dtype)
        head = model.get_output_embeddings()
        if head is not None and head.weight.data_ptr() != weight.data_ptr():
            head.weight[old:] = 0.0  # an untied head: new tokens score 0, still never chosen (and suppressed)


def check_model_source(model: str) -> None:
    """What the daemon checks at start, before loading anything: a ``.gguf`` file is there, is a GGUF and can
    be read; a path names an existing folder. Raises ModelNotFoundError or ModelLoadError saying what is wrong.
    (A hub id is checked when it loads: the cache lookup needs huggingface_hub.)"""
    if is_gguf_path(model):
        try:
            check_gguf(model)
        except GgufError as exc:
            raise ModelLoadError(str(exc)) from exc
        return
    path = Path(model).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(f"{path} has no config.json: it is not a model folder (give a Gemma 3 "
                                     f"checkpoint folder, a .gguf file or a hub id)")
    elif model.startswith((".", "/", "~")):
        raise ModelNotFoundError(f"model {model} does not exist")


def embed_scale(model) -> float:
    """The factor Gemma's input embedding multiplies rows by (sqrt(hidden_size)), as that module applies it.

    Gemma casts the factor to the weight dtype (in bf16 sqrt(2560) becomes 50.5, not 50.596); vectors
    spliced into ``inputs_embeds`` are scaled the same way so they live on the same scale as token rows.
    """
    embedding = model.get_input_embeddings()
    scale = getattr(embedding, "embed_scale", None)
    if scale is None:
        return 1.0
    import torch

    if isinstance(scale, torch.Tensor):
        return float(scale.to(embedding.weight.dtype))
    return float(scale)
