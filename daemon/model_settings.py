"""The ``[model]`` section of the daemon's settings: the language model that runs rewrite commands.

Kept apart from :mod:`pushkin.daemon.rewrite` so that loading settings imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSettings:
    """``enabled``: load a model (lazily, on the first rewrite) and execute "rephrase that" and co.

    ``model``: a hub id, a local folder or a ``.gguf`` file (default google/gemma-3-4b-pt; google/gemma-3-1b-pt on a CPU-only
    laptop). ``adapters``: the adapter registry folder ("" = none: the bare base). ``device``/``dtype``:
    "auto" or explicit. ``quantization``: "", "8bit" or "4bit" (CUDA + bitsandbytes). ``merge``: pre-merge
    each composition (cat) for speed. ``proposals``: preview rewrites in editors that can show them.
    ``best_of``: candidates per rewrite, scored by a writing-quality scorer (1 = off; more needs a scorer
    passed to :func:`pushkin.daemon.rewrite.build_rewriter`). ``min_p``/``temperature``: override every task's own setting
    when not negative. ``persona``: the persona adapter's name ("" = the first). ``best_of`` > 1 without a
    scorer scores with the persona composite (:func:`pushkin.daemon.rewrite.style_scorer`).
    ``open_commands``: once the model is loaded, short imperative-looking utterances the grammar does not
    match are classified by the model (:mod:`pushkin.daemon.open_commands`). ``front_end``: "cascade"
    (faster-whisper text → the grammar) or "speech-llm" (Whisper encoder → projector → composed Gemma →
    the output language; needs a trained audio adapter, else the daemon says so and uses the cascade).
    ``load_at_start``: load (and, for a ``.gguf`` model, convert once) while the daemon starts, so the first
    rewrite does not wait; false: load on the first rewrite. Either way the path is checked at start.
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
    open_commands: bool = True
    front_end: str = "cascade"
    load_at_start: bool = True

    def check(self) -> None:
        """Called by the settings loader (its errors become SettingsError)."""
        if self.front_end not in ("cascade", "speech-llm"):
            raise ValueError(f"[model] front_end must be 'cascade' or 'speech-llm', not {self.front_end!r}")
