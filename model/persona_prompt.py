"""PersonaPlug at run time: the persona soft prompt in front of every persona-mode prompt.

The persona adapter's folder may carry a trained PersonaPlug projector (``persona_projector.safetensors``
+ ``.json``, see :mod:`pushkin.persona.projector`). When it does, every generation in a mode whose
composition has the persona (dictation, command, rewrite; never autocomplete) runs on

    inputs_embeds = [ projector(p) ; embed(prompt) ]          (1, m + L, D)

where ``p`` (E,) is the persona vector for the current context: attention of the context's embedding over
the user's indexed paragraphs, or the mean persona when there is no context. The attention mask grows by m
ones. The vector comes from a :class:`PersonaVectorSource` (the daemon's persona service, which owns the
store and the sentence embedder); the model only asks it on the model worker thread.

:class:`pushkin.model.composed.ComposedModel` is the one place that applies this. Callers say what the
next generations are about with :func:`set_persona_context` after composing (a composition resets it to
"no context").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from pushkin.persona.projector import (
    PROJECTOR_CONFIG,
    PROJECTOR_WEIGHTS,
    PersonaPlugProjector,
    ProjectorError,
    has_projector,
    load_projector,
    prepend_soft_prompt,
)

from .registry import AdapterEntry

log = logging.getLogger(__name__)

# The persona attends with at most this much context: the nearest text to the cursor, then the utterance.
CONTEXT_CHARS = 1000


class PersonaVectorSource(Protocol):
    """Persona vectors for contexts; called on the model worker thread."""

    def persona_vector(self, context: str) -> np.ndarray | None:
        """``(E,)`` float32 of norm 1: the persona for ``context`` (the mean persona for an empty one), or
        None when there is no persona (nothing indexed; the source's own status says why)."""


def persona_context(text_before: str = "", text: str = "", utterance: str = "",
                    max_chars: int = CONTEXT_CHARS) -> str:
    """The context text: the end of the text before the cursor, the text in question, the utterance.

    At most ``max_chars``: the utterance and the text in question are kept first, then as much of the text
    right before them as fits.
    """
    parts = [part.strip() for part in (text, utterance) if part and part.strip()]
    kept = "\n".join(parts)[-max_chars:]
    room = max_chars - len(kept) - (1 if kept else 0)
    before = text_before.strip()[-room:] if room > 0 else ""
    return "\n".join(p for p in (before, kept) if p)


def set_persona_context(lm, context: str) -> None:
    """Tell ``lm`` what its next generations are about; nothing for a model without a persona prompt."""
    setter = getattr(lm, "set_persona_context", None)
    if setter is not None:
        setter(context)


@dataclass(frozen=True)
class PersonaPromptStatus:
    """Whether persona modes get the soft prompt. ``available``: a projector is loaded; ``message`` says
    what is used, or what is missing and how to get it."""

    available: bool
    message: str


class PersonaPrompt:
    """A loaded projector plus a persona source: soft prompts ``(1, m, D)`` for contexts."""

    def __init__(self, projector: PersonaPlugProjector, source: PersonaVectorSource, adapter_name: str) -> None:
        self.projector = projector.eval()
        self.source = source
        self.adapter_name = adapter_name
        self._cached: tuple[str, object] | None = None  # (context, soft prompt or None)
        self.last_problem = ""

    @property
    def num_tokens(self) -> int:
        return self.projector.config.num_tokens

    def soft_prompt(self, context: str):
        """``(1, m, D)`` on the projector's device and dtype, or None when the source has no persona.

        The last context's prompt is reused (best-of-n asks several times with one context). A failing
        source is logged and answered with None: the generation goes on without the persona.
        """
        import torch

        if self._cached is not None and self._cached[0] == context:
            return self._cached[1]
        try:
            vector = self.source.persona_vector(context)
        except Exception as exc:  # the store or the embedder failed: generate without the persona
            log.warning("no persona vector: %s", exc)
            self.last_problem = f"no persona vector: {exc}"
            vector = None
        soft = None
        if vector is not None:
            vector = np.asarray(vector, dtype=np.float32).reshape(-1)
            if vector.shape[0] != self.projector.config.persona_dim:
                self.last_problem = (f"the persona vectors have {vector.shape[0]} values but the projector of "
                                     f"{self.adapter_name!r} takes {self.projector.config.persona_dim} "
                                     f"(trained on {self.projector.config.embedding_model})")
                log.warning("%s", self.last_problem)
            else:
                parameter = next(self.projector.parameters())
                with torch.inference_mode():
                    soft = self.projector(torch.from_numpy(vector).to(parameter.device, parameter.dtype)[None])
                self.last_problem = ""
        self._cached = (context, soft)
        return soft

    def prepend(self, inputs_embeds, context: str):
        """``(1, L, D)`` → ``((1, m+L, D), (1, m+L) mask)`` with the persona in front; ``(embeds, None)``
        unchanged when there is no persona."""
        soft = self.soft_prompt(context)
        if soft is None:
            return inputs_embeds, None
        embeds, mask, _ = prepend_soft_prompt(inputs_embeds, soft)
        return embeds, mask


def load_persona_prompt(entry: AdapterEntry | None, source: PersonaVectorSource | None, *, hidden_size: int,
                        device, dtype) -> tuple[PersonaPrompt | None, PersonaPromptStatus]:
    """The persona adapter's projector with ``source``; None and the reason when either is missing."""
    if entry is None:
        return None, PersonaPromptStatus(False, "persona soft prompt off: no persona adapter is loaded")
    name = entry.manifest.name
    if not has_projector(entry.folder):
        return None, PersonaPromptStatus(
            False, f"persona soft prompt off: the persona adapter {name!r} has no PersonaPlug projector "
                   f"({PROJECTOR_WEIGHTS} and {PROJECTOR_CONFIG} in {entry.folder})")
    try:
        projector = load_projector(entry.folder, device=device, dtype=dtype)
    except ProjectorError as exc:
        return None, PersonaPromptStatus(False, f"persona soft prompt off: {exc}")
    if projector.config.hidden_size != hidden_size:
        return None, PersonaPromptStatus(
            False, f"persona soft prompt off: the projector of {name!r} makes embeddings of size "
                   f"{projector.config.hidden_size}, the model's hidden size is {hidden_size}")
    if source is None:
        return None, PersonaPromptStatus(
            False, f"persona soft prompt off: the projector of {name!r} is there but no persona source is "
                   "configured (index your writing: `pushkin index PATH`)")
    return PersonaPrompt(projector, source, name), PersonaPromptStatus(
        True, f"persona soft prompt on: {projector.config.num_tokens} tokens from the projector of {name!r}")
