"""The ``[model]`` section of the daemon's settings: the language model that runs rewrite commands.

Kept apart from :mod:`pushkin.daemon.rewrite` so that loading settings imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSettings:
    """``enabled``: load a model (lazily, on the first rewrite) and execute "rephrase that" and co.

    ``model``: a hub id or a local folder (default google/gemma-3-4b-pt; google/gemma-3-1b-pt on a CPU-only
    laptop). ``adapters``: the adapter registry folder ("" = none: the bare base). ``device``/``dtype``:
    "auto" or explicit. ``quantization``: "", "8bit" or "4bit" (CUDA + bitsandbytes). ``merge``: pre-merge
    each composition (cat) for speed. ``proposals``: preview rewrites in editors that can show them.
    ``best_of``: candidates per rewrite, scored by a writing-quality scorer (1 = off; more needs a scorer
    passed to :func:`pushkin.daemon.rewrite.build_rewriter`). ``min_p``/``temperature``: override every task's own setting
    when not negative. ``persona``: the persona adapter's name ("" = the first).
    """

    enabled: bool = False
    model: str = "google/gemma-3-4b-pt"
    adapters: str = ""
    device: str = "auto"
    dtype: str = "auto"
    quantization: str = ""
    merge: bool = False
    proposals: bool = True
    best_of: int = 1
    min_p: float = -1.0
    temperature: float = -1.0
    persona: str = ""
