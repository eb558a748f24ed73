"""export: merge a composition of adapters into the base and save it as a model folder or a ``.gguf`` file.

    python -m pushkin.training.export model.base=google/gemma-3-4b-pt \\
        adapters=[adapters/persona-me,adapters/task-continue] output=runs/merged dtype=bfloat16
    python -m pushkin.training.export model.base=gemma-3-270m.gguf \\
        adapters=[adapters/task-rephrase] output=runs/rephrase.gguf dtype=q8_0

An ``output`` ending in ``.gguf`` is written as one GGUF file (``pushkin.model.gguf_export``: F32, F16,
BF16 or Q8_0 matrices) that llama.cpp, Ollama and transformers' GGUF loader read. Any other ``output`` is a
standard ``Gemma3ForCausalLM`` folder — ``config.json``, ``model.safetensors`` (sharded when large),
``generation_config.json`` and the tokenizer files. Either way the LoRA deltas are folded into the weights
and no adapter keys are left.

The runtime itself keeps adapters separate (it switches compositions by mode); the export is for
deployments that run one composition, e.g. under llama.cpp.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from .config import ExportConfig, load_config

log = logging.getLogger(__name__)


def merge_and_save(base: str, adapters: Sequence[str | Path], output: str | Path, dtype: str = "bfloat16") -> Path:
    """Merge ``adapters`` (registry folders, in order) into ``base``; save the plain model to ``output``."""
    import torch
    from peft import PeftModel

    from pushkin.model.gguf_export import source_gguf_of, write_gguf
    from pushkin.model.loading import LoadOptions, load_base, resolve_model_folder
    from pushkin.model.registry import read_adapter

    entries = [read_adapter(a) for a in adapters]  # clear errors before the base loads
    loaded = load_base(LoadOptions(model=base, device="cpu", dtype="float32"))
    model = loaded.model
    for entry in entries:
        model = PeftModel.from_pretrained(model, str(entry.folder), adapter_name=entry.manifest.peft_name)
        model = model.merge_and_unload()
    leftover = [k for k in model.state_dict() if "lora_" in k or "base_layer" in k]
    if leftover:
        raise RuntimeError(f"merging left adapter weights behind (e.g. {leftover[0]})")
    record = {"base": base, "adapters": [e.manifest.to_json() for e in entries], "dtype": dtype}
    output = Path(output)
    if output.suffix == ".gguf":
        output.parent.mkdir(parents=True, exist_ok=True)
        write_gguf(model, loaded.tokenizer, output, dtype=dtype, source=source_gguf_of(resolve_model_folder(base)),
                   name="lil-pushkin " + " + ".join(e.manifest.peft_name for e in entries))
        output.with_name(output.name + ".json").write_text(json.dumps(record, indent=1))
        log.info("merged %d adapters into %s -> %s", len(entries), base, output)
        return output
    model = model.to(getattr(torch, dtype))
    output.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output, safe_serialization=True)
    loaded.tokenizer.save_pretrained(output)
    (output / "pushkin_export.json").write_text(json.dumps(record, indent=1))
    log.info("merged %d adapters into %s -> %s", len(entries), base, output)
    return output


def main(argv: Sequence[str] | None = None) -> Path:
    config = load_config(ExportConfig, argv)
    return merge_and_save(config.model.base, config.adapters, config.output, config.dtype)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    print(main(sys.argv[1:]))
