"""The composed model: one frozen Gemma 3 base with every registry adapter loaded, activated by mode.

All adapters are loaded once into a single PeftModel; a mode switch only changes which are active
(``model.base_model.set_adapter([...])``, stacked), so the base is never reloaded. How a composition runs is
:class:`Merge`: stacked (one LoRA product per adapter per layer), ``CAT`` (combined once into one adapter of
the summed rank, ``add_weighted_adapter(..., combination_type="cat")``, exact: one product per layer), or
``WEIGHTS`` (the active adapters added into the base's weights, ``merge_adapter``: no LoRA product at all;
a switch to another composition first subtracts them again, ``unmerge_adapter``, which costs a pass over
the adapted weights). A wanted adapter that is not in the registry is left out and named in
:class:`CompositionStatus`, which the daemon shows.

:class:`ComposedModel` is the :class:`LanguageModel` the daemon uses through its model worker thread.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from .generation import GREEDY, SamplingOptions, stream_text
from .loading import LoadedModel, embed_scale
from .persona_prompt import PersonaPrompt, PersonaVectorSource, load_persona_prompt
from .registry import AdapterEntry, AdapterKind, AdapterRegistry, Composition, Mode, RegistryProblem, composition_for

log = logging.getLogger(__name__)


class Merge(enum.Enum):
    """How the active adapters of a composition run (see the module docstring)."""

    NONE = "none"
    CAT = "cat"
    WEIGHTS = "weights"

    @classmethod
    def of(cls, value: bool | str | Merge) -> Merge:
        """``True`` is the earlier meaning of ``merge = true`` (cat); ``False`` is stacked."""
        if isinstance(value, Merge):
            return value
        if isinstance(value, bool):
            return cls.CAT if value else cls.NONE
        return cls(value)


@dataclass(frozen=True)
class CompositionStatus:
    """Which adapters serve the current mode, and which it wanted but could not get."""

    mode: Mode
    task: str
    active: tuple[str, ...]  # "kind:name" of each active adapter
    missing: tuple[str, ...]  # what the mode wanted and the registry lacks, in words
    merged: bool
    problems: tuple[RegistryProblem, ...] = ()
    soft_prompt: bool = False  # the PersonaPlug soft prompt is prepended in this mode


    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def message(self) -> str:
        used = ", ".join(self.active) if self.active else "no adapters"
        text = f"{self.mode.value}: base + {used}" + (" (merged)" if self.merged else "")
        if self.soft_prompt:
            text += " + persona soft prompt"
        if self.missing:
            text += "; missing: " + "; ".join(self.missing)
        return text


class LanguageModel(Protocol):
    """What the daemon and the rewrite and speech paths need from a model; called on one worker thread."""

    def compose(self, mode: Mode, task: str = "") -> CompositionStatus:
        """Activate the adapters of ``mode`` (and ``task``)."""

    def stream(self, prompt: str, options: SamplingOptions = GREEDY,
               cancel: threading.Event | None = None) -> Iterator[str]:
        """Generated text for ``prompt``, in pieces; stops early when ``cancel`` is set."""


class ComposedModel:
    """A loaded base with the registry's adapters; see the module docstring.

    ``persona`` picks the persona adapter by name (the first one when None). ``persona_source`` gives
    persona vectors for the PersonaPlug soft prompt, used when the persona adapter carries a projector
    (see :mod:`pushkin.model.persona_prompt`; :attr:`persona_prompt_status` says whether it is on).
    """

    def __init__(self, loaded: LoadedModel, registry: AdapterRegistry, *, persona: str | None = None,
                 merge: bool | str | Merge = False, persona_source: PersonaVectorSource | None = None) -> None:
        self.loaded = loaded
        self.registry = registry
        self.persona_name = persona
        self.merge = Merge.of(merge)
        self.load_problems: list[RegistryProblem] = []
        self._merged_names: dict[tuple[str, ...], str] = {}
        self._in_weights: tuple[str, ...] = ()  # the adapters added into the base's weights now (WEIGHTS)
        self.peft = self._load_adapters(registry.entries)
        parameter = next(loaded.model.parameters())
        self.persona_prompt: PersonaPrompt | None
        self.persona_prompt, self.persona_prompt_status = load_persona_prompt(
            self._persona_entry(), persona_source, hidden_size=loaded.model.config.hidden_size,
            device=parameter.device, dtype=parameter.dtype)
        self._persona_context = ""
        self._status = self.compose(Mode.DICTATION)

    # -- loading --------------------------------------------------------------------------------------

    def _load_adapters(self, entries: tuple[AdapterEntry, ...]):
        """Wrap the base in a PeftModel holding every adapter that loads; None when there is none."""
        from peft import PeftModel

        peft = None
        for entry in entries:
            name = entry.manifest.peft_name
            try:
                if peft is None:
                    peft = PeftModel.from_pretrained(self.loaded.model, str(entry.folder), adapter_name=name,
                                                     is_trainable=False)
                else:
                    peft.load_adapter(str(entry.folder), adapter_name=name, is_trainable=False)
            except Exception as exc:  # a rank/shape mismatch with this base, a broken file
                self.load_problems.append(RegistryProblem(str(entry.folder), f"cannot load onto {self.loaded.source}: {exc}"))
                log.warning("adapter %s not loaded: %s", entry.folder, exc)
        if peft is not None:
            peft.eval()
        return peft

    def loaded_entries(self) -> tuple[AdapterEntry, ...]:
        if self.peft is None:
            return ()
        return tuple(e for e in self.registry.entries if e.manifest.peft_name in self.peft.peft_config)

    def _persona_entry(self) -> AdapterEntry | None:
        for entry in self.loaded_entries():
            if entry.manifest.kind is AdapterKind.PERSONA and self.persona_name in (None, entry.manifest.name):
                return entry
        return None

    # -- composition ----------------------------------------------------------------------------------

    def _pick(self, composition: Composition) -> tuple[list[AdapterEntry], list[str]]:
        loaded = {e.manifest.peft_name: e for e in self.loaded_entries()}
        available = [e for e in loaded.values()]
        chosen, missing = [], []

        def first(kind: AdapterKind, **match) -> AdapterEntry | None:
            for entry in available:
                if entry.manifest.kind is not kind:
                    continue
                if all(getattr(entry.manifest, k) == v for k, v in match.items() if v is not None):
                    return entry
            return None

        if composition.wants_persona:
            entry = first(AdapterKind.PERSONA, name=self.persona_name)
            (chosen.append(entry) if entry else missing.append(
                f"persona adapter{' ' + repr(self.persona_name) if self.persona_name else ''} (none in the registry)"))
        if composition.wants_audio:
            entry = first(AdapterKind.AUDIO)
            (chosen.append(entry) if entry else missing.append("audio adapter (none in the registry)"))
        task = first(AdapterKind.TASK, task=composition.task)
        if task is None and composition.mode is Mode.REWRITE:
            task = first(AdapterKind.TASK, task="rewrite")
        (chosen.append(task) if task else missing.append(f"task adapter for {composition.task!r} (none in the registry)"))
        return chosen, missing

    def compose(self, mode: Mode, task: str = "") -> CompositionStatus:
        composition = composition_for(mode, task)
        chosen, missing = self._pick(composition)
        names = tuple(e.manifest.peft_name for e in chosen)
        soft_prompt = self.persona_prompt is not None and any(e.manifest.kind is AdapterKind.PERSONA for e in chosen)
        self._persona_context = ""  # a new composition starts without context: the mean persona
        merged = False
        if self.peft is not None:
            if self.merge is Merge.WEIGHTS:
                self._into_weights(names)
                merged = bool(names)
            elif self.merge is Merge.CAT and len(names) > 1:
                self.peft.base_model.set_adapter(self._merged_adapter(names))
                merged = True
            else:
                self.peft.base_model.set_adapter(list(names))
        self._status = CompositionStatus(
            mode=mode, task=composition.task,
            active=tuple(f"{e.manifest.kind.value}:{e.manifest.name}" for e in chosen),
            missing=tuple(missing), merged=merged,
            problems=tuple(self.registry.problems) + tuple(self.load_problems), soft_prompt=soft_prompt)
        return self._status

    def set_persona_context(self, context: str) -> None:
        """What the next generations of this composition are about (the text around the cursor and the
        utterance; see :func:`pushkin.model.persona_prompt.persona_context`); reset by :meth:`compose`."""
        self._persona_context = context

    def _into_weights(self, names: tuple[str, ...]) -> None:
        """The base's weights carry exactly ``names`` (nothing for an empty composition)."""
        if names == self._in_weights:
            return
        if self._in_weights:
            self.peft.base_model.unmerge_adapter()
            self._in_weights = ()
        self.peft.base_model.set_adapter(list(names))
        if names:
            self.peft.base_model.merge_adapter(list(names))
            self._in_weights = names

    def _merged_adapter(self, names: tuple[str, ...]) -> str:
        """The cat-combined adapter for ``names`` (built once, then reused)."""
        if names not in self._merged_names:
            merged_name = "merged__" + "__".join(n.replace("__", "_") for n in names)
            self.peft.add_weighted_adapter(list(names), [1.0] * len(names), merged_name, combination_type="cat")
            self._merged_names[names] = merged_name
        return self._merged_names[names]

    @property
    def status(self) -> CompositionStatus:
        return self._status

    # -- running --------------------------------------------------------------------------------------

    @property
    def model(self):
        """The module to call: the PeftModel with the active composition, or the bare base."""
        return self.peft if self.peft is not None else self.loaded.model

    @property
    def tokenizer(self):
        return self.loaded.tokenizer

    @property
    def device(self):
        return next(self.loaded.model.parameters()).device

    @property
    def embed_scale(self) -> float:
        return embed_scale(self.loaded.model)

    def encode(self, text: str):
        """Token ids of ``text`` (with <bos>): ``(1, L)`` on the model's device."""
        return self.tokenizer(text, return_tensors="pt").input_ids.to(self.device)

    def embed(self, input_ids):
        """Gemma's scaled input embeddings: ``(B, L)`` → ``(B, L, D)``."""
        return self.loaded.model.get_input_embeddings()(input_ids)

    def model_inputs(self, input_ids=None, inputs_embeds=None) -> dict:
        """What the model is fed for a prompt in the current composition: the keyword arguments
        ``input_ids`` ``(1, L)``, or ``inputs_embeds`` ``(1, m+L, D)`` with the persona soft prompt in front
        and ``attention_mask`` ``(1, m+L)`` when the composition has it (and the source a persona)."""
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of input_ids and inputs_embeds")
        if self._status.soft_prompt and self.persona_prompt is not None:
            embeds = inputs_embeds if inputs_embeds is not None else self.embed(input_ids)
            embeds, mask = self.persona_prompt.prepend(embeds, self._persona_context)
            if mask is not None:
                return {"inputs_embeds": embeds, "attention_mask": mask}
        return {"input_ids": input_ids} if input_ids is not None else {"inputs_embeds": inputs_embeds}

    def logits(self, input_ids=None, inputs_embeds=None):
        """Full logits of one forward pass: ``(B, L)`` ids or ``(B, L, D)`` embeds → ``(B, L, V)`` (the
        positions of a persona soft prompt are dropped, so row i is always prompt position i)."""
        import torch

        with torch.inference_mode():
            fed = self.model_inputs(input_ids=input_ids, inputs_embeds=inputs_embeds)
            logits = self.model(**fed).logits
        length = (input_ids if input_ids is not None else inputs_embeds).shape[1]
        return logits[:, logits.shape[1] - length:]

    def stream(self, prompt: str, options: SamplingOptions = GREEDY, cancel: threading.Event | None = None,
               stop_ids: tuple[int, ...] | None = None) -> Iterator[str]:
        """Text pieces (about one per token) for ``prompt``; ``stop_ids`` default to eos and end-of-turn."""
        fed = self.model_inputs(input_ids=self.encode(prompt))
        # Streaming is one sequence without padding, so the soft prompt's all-ones mask needs no passing on.
        fed.pop("attention_mask", None)
        return stream_text(self.model, self.tokenizer, **fed, options=options, cancel=cancel, stop_ids=stop_ids)

    def stream_embeds(self, inputs_embeds, options: SamplingOptions = GREEDY,
                      cancel: threading.Event | None = None) -> Iterator[str]:
        """Like :meth:`stream`, from spliced embeddings ``(1, L, D)``."""
        fed = self.model_inputs(inputs_embeds=inputs_embeds)
        fed.pop("attention_mask", None)
        return stream_text(self.model, self.tokenizer, **fed, options=options, cancel=cancel)
