"""The compression projector and the learned silence tokens of the speech-LLM path.

The Whisper encoder gives 50 frames a second (``B, T, C``, C = 384 for tiny ... 1280 for large). Gemma
reads ``D``-wide embeddings (2560 for Gemma 3 4B). The projector stacks ``K`` consecutive frames (default
4: 12.5 audio embeddings a second), normalizes, and maps them through a two-layer MLP to ``D``::

    B, T, C  --pad T to a multiple of K with zero frames-->  B, T', C        (T' = ceil(T / K) * K)
             --stack K frames-->                             B, T'/K, K*C
             --LayerNorm, Linear, SiLU, Linear-->            B, ceil(T / K), D

The output lives on the scale of Gemma's *embedding table rows*; the splice multiplies it by Gemma's
embedding scale (sqrt(D)) exactly as Gemma's own embedding module does for text tokens, so audio and text
vectors enter the first layer on the same scale.

The VAD's pauses become silence tokens: a pause of ``d`` seconds falls into a duration bucket (see
:data:`pushkin.model.tokens.SILENCE_BUCKETS_S`), and each bucket has a learned ``D``-vector
(:class:`SilenceEmbedding`), trained with the audio adapter.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import torch
from torch import nn

DEFAULT_STACK_FACTOR = 4
PROJECTOR_FILE = "projector.safetensors"
SILENCE_FILE = "silence.safetensors"


@dataclass(frozen=True)
class ProjectorConfig:
    """Sizes of the projector: ``input_dim`` C (Whisper width), ``output_dim`` D (Gemma's hidden size)."""

    input_dim: int
    output_dim: int
    hidden_dim: int = 0  # 0: the same as output_dim
    stack_factor: int = DEFAULT_STACK_FACTOR

    def __post_init__(self) -> None:
        if self.stack_factor < 1:
            raise ValueError(f"stack_factor must be at least 1, not {self.stack_factor}")
        if self.input_dim < 1 or self.output_dim < 1 or self.hidden_dim < 0:
            raise ValueError(f"bad projector sizes: {self}")

    @property
    def hidden(self) -> int:
        return self.hidden_dim or self.output_dim


def projected_length(frames: int, stack_factor: int) -> int:
    """How many audio embeddings ``frames`` encoder frames become: ``ceil(frames / K)``."""
    return math.ceil(frames / stack_factor) if frames > 0 else 0


class AudioProjector(nn.Module):
    """Stack K frames → LayerNorm → Linear → SiLU → Linear. ``B, T, C`` → ``B, ceil(T/K), D``."""

    def __init__(self, config: ProjectorConfig) -> None:
        super().__init__()
        self.config = config
        stacked = config.input_dim * config.stack_factor
        self.norm = nn.LayerNorm(stacked)
        self.linear_in = nn.Linear(stacked, config.hidden)
        self.activation = nn.SiLU()
        self.linear_out = nn.Linear(config.hidden, config.output_dim)

    def stack(self, frames: torch.Tensor) -> torch.Tensor:
        """``B, T, C`` → ``B, ceil(T/K), K*C``: zero frames are appended to fill the last group."""
        if frames.dim() != 3 or frames.shape[-1] != self.config.input_dim:
            raise ValueError(f"expected frames of shape (B, T, {self.config.input_dim}), got {tuple(frames.shape)}")
        batch, length, width = frames.shape
        k = self.config.stack_factor
        padding = (-length) % k
        if padding:
            frames = torch.cat([frames, frames.new_zeros(batch, padding, width)], dim=1)
        return frames.reshape(batch, (length + padding) // k, k * width)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """``B, T, C`` encoder frames → ``B, ceil(T/K), D`` embeddings (unscaled: table-row scale)."""
        x = self.norm(self.stack(frames))
        return self.linear_out(self.activation(self.linear_in(x)))


class SilenceEmbedding(nn.Module):
    """One learned ``D``-vector per silence-duration bucket. ``bounds_s``: the lower bound of each bucket."""

    def __init__(self, bounds_s: tuple[float, ...], dim: int) -> None:
        super().__init__()
        if not bounds_s or list(bounds_s) != sorted(bounds_s) or bounds_s[0] <= 0:
            raise ValueError(f"silence bucket bounds must be positive and increasing, not {bounds_s}")
        self.bounds_s = tuple(float(b) for b in bounds_s)
        self.table = nn.Embedding(len(bounds_s), dim)

    def bucket(self, duration_s: float) -> int | None:
        """The bucket of a pause of ``duration_s`` seconds; None when it is shorter than the first bound."""
        if duration_s < self.bounds_s[0]:
            return None
        return bisect.bisect_right(self.bounds_s, duration_s) - 1

    def forward(self, buckets: torch.Tensor) -> torch.Tensor:
        """``(N,)`` bucket indices → ``(N, D)`` vectors (table-row scale)."""
        return self.table(buckets)
