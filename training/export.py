"""export: merge a composition of adapters into the base and save a plain Hugging Face model folder.

    python -m pushkin.training.export model.base=google/gemma-3-4b-pt \\
        adapters=[adapters/persona-me,adapters/task-continue] output=runs/merged dtype=bfloat16

The result is a standard ``Gemma3ForCausalLM`` folder — ``config.json``, ``model.safetensors`` (sharded
when large), ``generation_config.json`` and the tokenizer files — with the LoRA deltas folded into the
weights and no adapter keys left, which is what llama.cpp's ``convert_hf_to_gguf.py`` reads::

    python convert_hf_to_gguf.py runs/merged --outfile pushkin.gguf --outtype q8_0

The runtime itself keeps adapters separate (it switches compositions by mode); the merged folder is for
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

    from pushkin.model.loading import LoadOptions, load_base
    from pushkin.model.registry import read_adapter

    entries = [read_adapter(a) for a in adapters]  # clear errors before the base loads
    loaded = load_base(LoadOptions(model=base, device="cpu", dtype="float32"))
    model = loaded.model
    for entry in entries:
        model = PeftModel.from_pretrained(model, str(entry.folder), adapter_name=entry.manifest.peft_name)
        model = model.merge_and_unload()
    model = model.to(getattr(torch, dtype))
    leftover = [k for k in model.state_dict() if "lora_" in k or "base_layer" in k]
    if leftover:
        raise RuntimeError(f"merging left adapter weights behind (e.g. {leftover[0]})")
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output, safe_serialization=True)
    loaded.tokenizer.save_pretrained(output)
    (output / "pushkin_export.json").write_text(json.dumps({
        "base": base, "adapters": [e.manifest.to_json() for e in entries], "dtype": dtype,
    }, indent=1))
    log.info("merged %d adapters into %s -> %s", len(entries), base, output)
    return output


def main(argv: Sequence[str] | None = None) -> Path:
    config = load_config(ExportConfig, argv)
    return merge_and_save(config.model.base, config.adapters, config.output, config.dtype)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    print(main(sys.argv[1:]))
