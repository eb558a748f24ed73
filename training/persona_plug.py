"""PersonaPlug pieces for train_persona: each passage's persona vector, and a fresh projector.

A passage's persona is what the runtime would give it (see :mod:`pushkin.persona.vector`): the embedding
of its preceding text attends over the author's paragraph embeddings. In training the "indexed
paragraphs" are the training passages (the completions), and a training passage never attends to itself
(``exclude``), or the projector would learn to copy the passage it is asked to predict. Eval passages are
not in the index, so they see only the training passages, as new writing would at run time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import torch

from pushkin.persona.embedding import Embedder
from pushkin.persona.projector import PersonaPlugProjector, ProjectorConfig
from pushkin.persona.vector import PersonaIndex

from .config import PersonaProjectorSettings
from .data import TextExample
from .text import EncodedExample


def passage_personas(train: Sequence[TextExample], eval: Sequence[TextExample], embedder: Embedder, *,
                     top_k: int, temperature: float) -> tuple[np.ndarray, np.ndarray]:
    """``(N_train, E)`` and ``(N_eval, E)`` float32 unit persona vectors, one per passage."""
    if len(train) < 2:
        raise ValueError(f"persona vectors need at least 2 training passages, got {len(train)}")
    index = PersonaIndex.from_vectors(embedder.encode([e.completion for e in train]))
    queries = embedder.encode([e.prompt for e in train] + [e.prompt for e in eval])  # (N_train + N_eval, E)
    train_vectors = [index.persona(queries[i], top_k=top_k, temperature=temperature, exclude=i).vector
                     for i in range(len(train))]
    eval_vectors = [index.persona(q, top_k=top_k, temperature=temperature).vector for q in queries[len(train):]]
    dimension = index.dimension
    return (np.asarray(train_vectors, np.float32).reshape(-1, dimension),
            np.asarray(eval_vectors, np.float32).reshape(-1, dimension))


def with_personas(encoded: Sequence[EncodedExample], vectors: np.ndarray) -> list[EncodedExample]:
    """Each encoded example with its row of ``vectors`` ``(N, E)`` as its persona."""
    if len(encoded) != len(vectors):
        raise ValueError(f"{len(vectors)} persona vectors for {len(encoded)} examples")
    return [replace(e, persona=tuple(float(x) for x in v)) for e, v in zip(encoded, vectors)]


def embedding_scale(model, sample: int = 4096) -> float:
    """The RMS of what the model's input-embedding module returns (Gemma scales by sqrt(D) inside it), so
    the projector's normalized soft tokens land on the scale of real token embeddings."""
    embed = model.get_input_embeddings()
    ids = torch.arange(min(sample, embed.num_embeddings), device=embed.weight.device)
    with torch.no_grad():
        rms = embed(ids).float().pow(2).mean().sqrt()
    return float(rms) if float(rms) > 0 else 1.0


def new_projector(settings: PersonaProjectorSettings, *, persona_dim: int, hidden_size: int, embed_scale: float,
                  embedding_model: str, seed: int) -> PersonaPlugProjector:
    """A freshly initialized float32 projector (seeded, so a resumed run starts from the same weights)."""
    torch.manual_seed(seed)
    return PersonaPlugProjector(ProjectorConfig(persona_dim=persona_dim, hidden_size=hidden_size,
                                                num_tokens=settings.tokens, embed_scale=embed_scale,
                                                embedding_model=embedding_model))
