"""Whether the Hugging Face hub may be used: the one reading of ``HF_HUB_OFFLINE`` for the recognizer, the
language model and ``pushkin models``. Read as huggingface_hub reads it (which the downloads themselves
obey): ``HF_HUB_OFFLINE``, else ``TRANSFORMERS_OFFLINE``, true when 1, true, yes or on."""

from __future__ import annotations

import os

TRUE_VALUES = frozenset({"1", "TRUE", "YES", "ON"})


def hub_offline() -> bool:
    """True when the environment forbids the hub (read on every call: tests and users set it late)."""
    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return value.upper() in TRUE_VALUES
