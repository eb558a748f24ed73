"""The ``[model]`` section of the daemon's settings: the language model that runs rewrite commands.

Kept apart from :mod:`pushkin.daemon.rewrite` so that loading settings imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSettings:
    """The language model that runs rewrite commands ("rephrase that" and co.)."""

    enabled: bool = False  # load a model (lazily, on the first rewrite) and execute "rephrase that" and co.
    # A hub id, a local folder or a .gguf file (google/gemma-3-1b-pt suits a CPU-only laptop).
    model: str = "google/gemma-3-4b-pt"
    adapters: str = ""  # the adapter registry folder ("" = none: the bare base)
    device: str = "auto"  # "auto" or explicit ("cpu", "cuda")
    dtype: str = "auto"  # "auto" or explicit ("bfloat16", "float32", ...)
    quantization: str = ""  # "", "8bit" or "4bit" (CUDA + bitsandbytes)
    # How a composition's adapters run: "none" (stacked), "cat" (combined once into one adapter; true means this)
    # or "weights" (added into the base's weights; a switch between compositions subtracts and adds them again).
    merge: bool | str = False
    proposals: bool = True  # preview rewrites in editors that can show them
    # Candidates per rewrite, scored by a writing-quality scorer (1 = off). Without a scorer passed to
    # pushkin.daemon.rewrite.build_rewriter, the persona composite scores (pushkin.daemon.rewrite.style_scorer).
    best_of: int = 1
    min_p: float = -1.0  # when not negative, overrides every task's own min_p
    temperature: float = -1.0  # when not negative, overrides every task's own temperature
    persona: str = ""  # the persona adapter's name ("" = the first)
    # Once the model is loaded, short imperative-looking utterances the grammar does not match are
    # classified by the model (pushkin.daemon.open_commands).
    open_commands: bool = True
    # "cascade" (faster-whisper text -> the grammar) or "speech-llm" (Whisper encoder -> projector -> composed
    # Gemma -> the output language; needs a trained audio adapter, else the daemon says so and uses the cascade).
    front_end: str = "cascade"
    # Load (and, for a .gguf model, convert once) while the daemon starts, so the first rewrite does not
    # wait; false: load on the first rewrite. Either way the path is checked at start.
    load_at_start: bool = True

    def check(self) -> None:
        """Run by the config loader after reading and overrides (its errors become SettingsError)."""
        if not isinstance(self.merge, bool) and self.merge not in ("none", "cat", "weights"):
            raise ValueError(f"[model] merge must be 'none', 'cat' or 'weights' (true means 'cat'), not {self.merge!r}")
        if self.front_end not in ("cascade", "speech-llm"):
            raise ValueError(f"[model] front_end must be 'cascade' or 'speech-llm', not {self.front_end!r}")
