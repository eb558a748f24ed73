"""Test-wide environment: nothing downloads, nothing writes into the user's home."""

from __future__ import annotations

import os
import tempfile

# Set before any test module imports huggingface_hub, transformers or onnxruntime.
_SANDBOX = tempfile.mkdtemp(prefix="pushkin-tests-")
for _name in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR"):
    os.environ[_name] = os.path.join(_SANDBOX, _name.lower())
    os.makedirs(os.environ[_name], mode=0o700, exist_ok=True)
os.environ["HF_HOME"] = os.path.join(_SANDBOX, "hf")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
