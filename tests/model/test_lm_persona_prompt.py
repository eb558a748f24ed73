"""PersonaPlug at run time on the tiny Gemma: the soft prompt in persona modes, never in autocomplete."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest
import torch

from pushkin.model.composed import ComposedModel
from pushkin.model.generation import SamplingOptions
from pushkin.model.loading import LoadOptions, load_base
from pushkin.model.persona_prompt import persona_context
from pushkin.model.registry import AdapterKind, AdapterRegistry, Mode
from pushkin.model.rewrite import RewriteOptions, RewriteRequest, classify_utterance, stream_rewrite
from pushkin.persona.projector import PersonaPlugProjector, ProjectorConfig, load_projector, save_projector

PERSONA_DIM = 16
SOFT_TOKENS = 3
TEXT = "The harbour was grey that morning. Гавань была серой."


class TablePersonas:
    """A persona source over fixed unit vectors: one per known context, the mean for any other; records
    what it was asked (the daemon's PersonaService plays this part with the real store)."""

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors = {k: (v / np.linalg.norm(v)).astype(np.float32) for k, v in vectors.items()}
        mean = np.mean(list(self.vectors.values()), axis=0)
        self.mean = (mean / np.linalg.norm(mean)).astype(np.float32)
        self.asked: list[str] = []

    def persona_vector(self, context: str):
        self.asked.append(context)
        return self.vectors.get(context, self.mean)


class NoPersona:
    """Nothing indexed yet."""

    def persona_vector(self, context: str):
        return None


@pytest.fixture(scope="module")
def persona_registry(tiny, tmp_path_factory):
    """A copy of the tiny registry whose persona adapter carries a PersonaPlug projector."""
    root = tmp_path_factory.mktemp("persona-registry")
    shutil.copytree(tiny.adapters, root, dirs_exist_ok=True)
    folder = AdapterRegistry(root).of_kind(AdapterKind.PERSONA)[0].folder
    torch.manual_seed(7)
    save_projector(PersonaPlugProjector(ProjectorConfig(persona_dim=PERSONA_DIM, hidden_size=64,
                                                        num_tokens=SOFT_TOKENS, embed_scale=math.sqrt(64))), folder)
    return root


@pytest.fixture(scope="module")
def source():
    rng = np.random.default_rng(3)
    return TablePersonas({"sea": rng.normal(size=PERSONA_DIM), "city": rng.normal(size=PERSONA_DIM)})


@pytest.fixture(scope="module")
def plugged(tiny, persona_registry, source):
    return ComposedModel(load_base(LoadOptions(model=str(tiny.base))), AdapterRegistry(persona_registry),
                         persona_source=source)


class FedInputs:
    """What the decoder stack (Gemma3TextModel) receives on each call: the prefill is the first one."""

    def __init__(self, lm: ComposedModel) -> None:
        self.calls: list[dict] = []
        self._handle = lm.loaded.model.model.register_forward_pre_hook(self._record, with_kwargs=True)

    def _record(self, module, args, kwargs):
        self.calls.append({k: kwargs.get(k) for k in ("input_ids", "inputs_embeds", "attention_mask")})

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._handle.remove()


def _expected_soft_prompt(folder, vector) -> torch.Tensor:
    projector = load_projector(folder)
    with torch.no_grad():
        return projector(torch.from_numpy(vector)[None])[0]  # (m, D)


def test_the_soft_prompt_leads_every_persona_mode_and_never_autocomplete(plugged, persona_registry, source):
    assert plugged.persona_prompt_status.available, plugged.persona_prompt_status.message
    folder = AdapterRegistry(persona_registry).of_kind(AdapterKind.PERSONA)[0].folder
    ids = plugged.encode(TEXT)
    prompt_embeds = plugged.embed(ids)[0]  # (L, D)
    options = SamplingOptions(max_new_tokens=2, temperature=0.0, min_p=0.0)
    for mode in (Mode.DICTATION, Mode.COMMAND, Mode.REWRITE):
        status = plugged.compose(mode)
        assert status.soft_prompt and "persona soft prompt" in status.message
        plugged.set_persona_context("sea")
        with FedInputs(plugged) as fed:
            list(plugged.stream(TEXT, options))
        prefill = fed.calls[0]
        assert prefill["input_ids"] is None
        embeds = prefill["inputs_embeds"][0]
        assert embeds.shape == (SOFT_TOKENS + ids.shape[1], 64), mode
        torch.testing.assert_close(embeds[:SOFT_TOKENS], _expected_soft_prompt(folder, source.vectors["sea"]))
        torch.testing.assert_close(embeds[SOFT_TOKENS:], prompt_embeds)
        assert source.asked[-1] == "sea"

    status = plugged.compose(Mode.AUTOCOMPLETE)
    assert not status.soft_prompt and "persona soft prompt" not in status.message
    plugged.set_persona_context("sea")
    with FedInputs(plugged) as fed:
        list(plugged.stream(TEXT, options))
    assert fed.calls[0]["inputs_embeds"] is None
    assert torch.equal(fed.calls[0]["input_ids"], ids)

    # The speech path's spliced embeddings get the soft prompt too; without a context, the mean persona.
    plugged.compose(Mode.DICTATION)
    with FedInputs(plugged) as fed:
        list(plugged.stream_embeds(plugged.embed(ids), options))
    embeds = fed.calls[0]["inputs_embeds"][0]
    assert embeds.shape[0] == SOFT_TOKENS + ids.shape[1]
    torch.testing.assert_close(embeds[:SOFT_TOKENS], _expected_soft_prompt(folder, source.mean))
    assert source.asked[-1] == ""


def test_the_persona_vector_changes_the_logits_and_modes_switch_back_exactly(plugged):
    ids = plugged.encode(TEXT)
    plugged.compose(Mode.REWRITE)
    plugged.set_persona_context("sea")
    sea = plugged.logits(ids)
    assert sea.shape == (1, ids.shape[1], plugged.loaded.model.config.vocab_size)
    plugged.set_persona_context("city")
    city = plugged.logits(ids)
    assert not torch.allclose(sea, city, atol=1e-4)

    plugged.compose(Mode.AUTOCOMPLETE)
    plugged.set_persona_context("sea")
    autocomplete = plugged.logits(ids)
    plugged.set_persona_context("city")
    assert torch.equal(plugged.logits(ids), autocomplete)  # no persona in autocomplete: the vector is ignored

    plugged.compose(Mode.REWRITE)
    plugged.set_persona_context("sea")
    assert torch.equal(plugged.logits(ids), sea)
    plugged.compose(Mode.AUTOCOMPLETE)
    assert torch.equal(plugged.logits(ids), autocomplete)


def test_rewrites_and_classification_ask_for_the_persona_of_their_context(plugged, source):
    request = RewriteRequest("rephrase", text="The boat came back late.", context_before="Winter. The sea was calm.")
    list(stream_rewrite(plugged, request, RewriteOptions(max_new_tokens=2)))
    assert source.asked[-1] == persona_context(request.context_before, request.text)
    assert source.asked[-1] == "Winter. The sea was calm.\nThe boat came back late."
    classify_utterance(plugged, "make it sound warmer", max_new_tokens=2)
    assert source.asked[-1] == "make it sound warmer"


def test_persona_context_keeps_the_nearest_text():
    assert persona_context("", "", "") == ""
    assert persona_context("before", "", "") == "before"
    assert persona_context("a" * 50 + "END", "the text", "the utterance", max_chars=30) == \
        "aaaaEND\nthe text\nthe utterance"
    assert persona_context("x" * 50, "y" * 40, "", max_chars=30) == "y" * 30
    assert len(persona_context("", "y" * 5000, "")) == 1000


def test_without_a_projector_or_a_persona_the_model_degrades_and_says_why(tiny, persona_registry, tmp_path):
    # No projector in the persona adapter (the plain tiny registry).
    lm = ComposedModel(load_base(LoadOptions(model=str(tiny.base))), AdapterRegistry(tiny.adapters),
                       persona_source=TablePersonas({"sea": np.ones(PERSONA_DIM)}))
    assert lm.persona_prompt is None
    assert "has no PersonaPlug projector" in lm.persona_prompt_status.message
    assert not lm.compose(Mode.REWRITE).soft_prompt
    assert len(list(lm.stream(TEXT, SamplingOptions(max_new_tokens=2, temperature=0.0, min_p=0.0)))) <= 2

    # A projector but nothing indexed: persona modes run on the plain prompt.
    lm = ComposedModel(load_base(LoadOptions(model=str(tiny.base))), AdapterRegistry(persona_registry),
                       persona_source=NoPersona())
    assert lm.persona_prompt_status.available
    lm.compose(Mode.REWRITE)
    ids = lm.encode(TEXT)
    with FedInputs(lm) as fed:
        logits = lm.logits(ids)
    assert fed.calls[0]["inputs_embeds"] is None and logits.shape[1] == ids.shape[1]

    # A projector for another model size is refused with the reason; so is a missing source.
    registry = tmp_path / "registry"
    shutil.copytree(persona_registry, registry)
    folder = AdapterRegistry(registry).of_kind(AdapterKind.PERSONA)[0].folder
    save_projector(PersonaPlugProjector(ProjectorConfig(persona_dim=PERSONA_DIM, hidden_size=32, num_tokens=2)), folder)
    lm = ComposedModel(load_base(LoadOptions(model=str(tiny.base))), AdapterRegistry(registry),
                       persona_source=NoPersona())
    assert lm.persona_prompt is None and "hidden size is 64" in lm.persona_prompt_status.message
    lm = ComposedModel(load_base(LoadOptions(model=str(tiny.base))), AdapterRegistry(persona_registry))
    assert lm.persona_prompt is None and "pushkin index PATH" in lm.persona_prompt_status.message
