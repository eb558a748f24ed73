"""The PersonaPlug projector: a persona vector becomes m soft-prompt embeddings for a frozen LLM.

Shapes: ``B, E -> B, m, D`` (E: the sentence embedder's size, 384 for MiniLM; m: soft tokens; D: the
language model's hidden size). Architecture: Linear(E→I) → GELU → Linear(I→m·D) → reshape → LayerNorm(D)
→ × ``embed_scale``. The final norm fixes the scale of every soft token; ``embed_scale`` then puts it on
the scale of what the model's input-embedding module returns (Gemma multiplies its embeddings by
sqrt(D) inside that module, so the model layer passes that normalizer, or the observed embedding RMS).

On disk, alongside the persona adapter (the folder whose registry manifest says ``kind = persona``):

* ``persona_projector.safetensors`` — the projector's weights (float32);
* ``persona_projector.json`` — ``{"format": "pushkin.persona_projector", "version": 1, "persona_dim",
  "hidden_size", "num_tokens", "intermediate_size", "embed_scale", "embedding_model"}``.

:func:`prepend_soft_prompt` puts the soft prompt in front of ``inputs_embeds`` and extends the attention
mask (and labels, for training) to match.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from .settings import DEFAULT_EMBEDDING_MODEL

PROJECTOR_WEIGHTS = "persona_projector.safetensors"
PROJECTOR_CONFIG = "persona_projector.json"
_FORMAT = "pushkin.persona_projector"
_VERSION = 1


class ProjectorError(RuntimeError):
    """A projector folder is missing files or holds an incompatible projector."""


@dataclass(frozen=True)
class ProjectorConfig:
    """Sizes of a PersonaPlug projector.

    Attributes:
        persona_dim: E, the persona vector's length (the embedder's dimension).
        hidden_size: D, the language model's hidden size.
        num_tokens: m, soft-prompt tokens prepended to the input.
        intermediate_size: I, the hidden layer's width (0 means max(E, D)).
        embed_scale: multiplies the normalized output (sqrt(D) for Gemma's scaled embeddings).
        embedding_model: the embedder whose vectors this projector was trained on.
    """

    persona_dim: int = 384
    hidden_size: int = 1152
    num_tokens: int = 4
    intermediate_size: int = 0
    embed_scale: float = 1.0
    embedding_model: str = DEFAULT_EMBEDDING_MODEL

    def __post_init__(self) -> None:
        for name in ("persona_dim", "hidden_size", "num_tokens"):
            if getattr(self, name) < 1:
                raise ValueError(f"ProjectorConfig.{name} must be at least 1, got {getattr(self, name)}")
        if self.intermediate_size < 0:
            raise ValueError(f"ProjectorConfig.intermediate_size must not be negative, got {self.intermediate_size}")
        if not self.embed_scale > 0:
            raise ValueError(f"ProjectorConfig.embed_scale must be positive, got {self.embed_scale}")

    @property
    def width(self) -> int:
        return self.intermediate_size or max(self.persona_dim, self.hidden_size)


class PersonaPlugProjector(nn.Module):
    """``(B, E) -> (B, m, D)``: persona vectors to soft-prompt embeddings."""

    def __init__(self, config: ProjectorConfig) -> None:
        super().__init__()
        self.config = config
        self.up = nn.Linear(config.persona_dim, config.width)
        self.activation = nn.GELU()
        self.out = nn.Linear(config.width, config.num_tokens * config.hidden_size)
        self.norm = nn.LayerNorm(config.hidden_size)

    def forward(self, persona: torch.Tensor) -> torch.Tensor:
        """``persona``: ``(B, E)`` (or ``(E,)``, treated as B=1) → ``(B, m, D)``."""
        if persona.dim() == 1:
            persona = persona.unsqueeze(0)
        if persona.dim() != 2 or persona.shape[-1] != self.config.persona_dim:
            raise ValueError(
                f"expected persona vectors of shape (B, {self.config.persona_dim}), got {tuple(persona.shape)}"
            )
        persona = persona.to(self.up.weight.dtype)
        hidden = self.activation(self.up(persona))  # (B, I)
        tokens = self.out(hidden).view(persona.shape[0], self.config.num_tokens, self.config.hidden_size)  # (B, m, D)
        return self.norm(tokens) * self.config.embed_scale


def prepend_soft_prompt(
    inputs_embeds: torch.Tensor,
    soft_prompt: torch.Tensor,
    attention_mask: torch.Tensor | None = None,
    labels: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Put the soft prompt in front of the token embeddings.

    Shapes: ``inputs_embeds (B, T, D)``, ``soft_prompt (B, m, D)`` or ``(1, m, D)`` (broadcast over the
    batch), ``attention_mask (B, T)`` (None: all ones), ``labels (B, T)`` →
    ``(B, m+T, D)``, ``(B, m+T)`` mask with ones over the soft tokens, and ``(B, m+T)`` labels with -100
    over the soft tokens (None when no labels were given). The soft prompt is cast to the embeddings'
    dtype and device.
    """
    if inputs_embeds.dim() != 3 or soft_prompt.dim() != 3:
        raise ValueError(
            f"expected inputs_embeds (B, T, D) and soft_prompt (B, m, D), got {tuple(inputs_embeds.shape)} "
            f"and {tuple(soft_prompt.shape)}"
        )
    batch, length, hidden = inputs_embeds.shape
    if soft_prompt.shape[-1] != hidden:
        raise ValueError(f"soft prompt of hidden size {soft_prompt.shape[-1]} for embeddings of size {hidden}")
    if soft_prompt.shape[0] == 1 and batch != 1:
        soft_prompt = soft_prompt.expand(batch, -1, -1)
    if soft_prompt.shape[0] != batch:
        raise ValueError(f"soft prompt batch {soft_prompt.shape[0]} for inputs batch {batch}")
    num_tokens = soft_prompt.shape[1]
    soft_prompt = soft_prompt.to(dtype=inputs_embeds.dtype, device=inputs_embeds.device)
    embeds = torch.cat([soft_prompt, inputs_embeds], dim=1)
    if attention_mask is None:
        attention_mask = torch.ones(batch, length, dtype=torch.long, device=inputs_embeds.device)
    if attention_mask.shape != (batch, length):
        raise ValueError(f"attention_mask of shape {tuple(attention_mask.shape)} for inputs of shape {(batch, length)}")
    mask = torch.cat([attention_mask.new_ones(batch, num_tokens), attention_mask], dim=1)
    if labels is not None:
        if labels.shape != (batch, length):
            raise ValueError(f"labels of shape {tuple(labels.shape)} for inputs of shape {(batch, length)}")
        labels = torch.cat([labels.new_full((batch, num_tokens), -100), labels], dim=1)
    return embeds, mask, labels


def save_projector(projector: PersonaPlugProjector, folder: str | Path) -> Path:
    """Write ``persona_projector.safetensors`` and ``persona_projector.json`` into ``folder``."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {name: tensor.detach().to("cpu", torch.float32).contiguous() for name, tensor in projector.state_dict().items()}
    # Write beside, then rename: a crash never leaves half a weights file under the real name.
    weights_tmp = folder / (PROJECTOR_WEIGHTS + ".tmp")
    save_file(state, str(weights_tmp), metadata={"format": _FORMAT, "version": str(_VERSION)})
    weights_tmp.replace(folder / PROJECTOR_WEIGHTS)
    config_tmp = folder / (PROJECTOR_CONFIG + ".tmp")
    config_tmp.write_text(
        json.dumps({"format": _FORMAT, "version": _VERSION, **asdict(projector.config)}, indent=2) + "\n",
        encoding="utf-8",
    )
    config_tmp.replace(folder / PROJECTOR_CONFIG)
    return folder


def has_projector(folder: str | Path) -> bool:
    folder = Path(folder)
    return (folder / PROJECTOR_WEIGHTS).is_file() and (folder / PROJECTOR_CONFIG).is_file()


def load_projector(
    folder: str | Path, *, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32
) -> PersonaPlugProjector:
    """Read a projector written by :func:`save_projector`; raises ProjectorError with the reason."""
    from safetensors.torch import load_file

    folder = Path(folder)
    if not has_projector(folder):
        raise ProjectorError(f"{folder} holds no persona projector ({PROJECTOR_WEIGHTS} and {PROJECTOR_CONFIG})")
    try:
        raw = json.loads((folder / PROJECTOR_CONFIG).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ProjectorError(f"cannot read {folder / PROJECTOR_CONFIG}: {error}") from error
    if raw.get("format") != _FORMAT or raw.get("version") != _VERSION:
        raise ProjectorError(f"{folder / PROJECTOR_CONFIG} is not a version-{_VERSION} persona projector config")
    fields = {k: v for k, v in raw.items() if k not in ("format", "version")}
    try:
        config = ProjectorConfig(**fields)
    except (TypeError, ValueError) as error:
        raise ProjectorError(f"{folder / PROJECTOR_CONFIG}: {error}") from error
    projector = PersonaPlugProjector(config)
    try:
        state = load_file(str(folder / PROJECTOR_WEIGHTS))
        projector.load_state_dict(state, strict=True)
    except Exception as error:  # safetensors and torch raise several types for a bad file
        raise ProjectorError(f"cannot load {folder / PROJECTOR_WEIGHTS}: {error}") from error
    return projector.to(device=device, dtype=dtype)
