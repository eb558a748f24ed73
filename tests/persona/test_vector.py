"""Persona attention: the formula on hand-made vectors, and the real MiniLM on two authors."""

from __future__ import annotations

import numpy as np
import pytest
from persona_samples import AUTHOR_A, AUTHOR_A_GARDEN, AUTHOR_A_UNSEEN, GENERIC, UNRELATED

from pushkin.persona.indexer import index_paths
from pushkin.persona.metrics import cosine
from pushkin.persona.settings import PersonaSettings
from pushkin.persona.store import PersonaStore
from pushkin.persona.vector import EmptyPersonaError, PersonaIndex


def test_attention_weights_follow_the_softmax_formula():
    vectors = np.array([[1, 0, 0], [0.8, 0.6, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32)
    index = PersonaIndex.from_vectors(vectors)
    context = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    result = index.persona(context, top_k=3, temperature=0.5)
    # Similarities 1, 0.8, 0, 0: the top 3 hold rows 0 and 1 and one of the zero rows.
    assert list(result.paragraph_ids[:2]) == [0, 1]
    np.testing.assert_allclose(result.similarities[:2], [1.0, 0.8], atol=1e-6)
    logits = np.array([1.0, 0.8, 0.0]) / 0.5
    expected = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(result.weights, expected, atol=1e-6)
    third = vectors[result.paragraph_ids[2]]
    mixed = expected[0] * vectors[0] + expected[1] * vectors[1] + expected[2] * third
    np.testing.assert_allclose(result.vector, mixed / np.linalg.norm(mixed), atol=1e-6)
    assert abs(np.linalg.norm(result.vector) - 1.0) < 1e-6


def test_low_temperature_picks_the_nearest_and_top_k_bounds_the_support():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(500, 16)).astype(np.float32)
    index = PersonaIndex.from_vectors(vectors)
    context = vectors[123] + 0.01 * rng.normal(size=16).astype(np.float32)
    sharp = index.persona(context, top_k=10, temperature=1e-4)
    assert sharp.paragraph_ids[0] == 123 and sharp.weights[0] > 0.999
    assert cosine(sharp.vector, vectors[123]) > 0.999
    broad = index.persona(context, top_k=10, temperature=10.0)
    assert len(broad.paragraph_ids) == 10 and np.all(broad.weights > 0.05)
    # The top 10 are exactly the 10 most similar rows.
    similarities = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)) @ (context / np.linalg.norm(context))
    assert set(broad.paragraph_ids.tolist()) == set(np.argsort(-similarities)[:10].tolist())


def test_mean_persona_is_the_normalized_mean_and_an_empty_context_gets_it():
    vectors = np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float32)
    index = PersonaIndex.from_vectors(vectors)
    units = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    mean = units.mean(axis=0)
    np.testing.assert_allclose(index.mean_persona(), mean / np.linalg.norm(mean), atol=1e-6)
    np.testing.assert_allclose(index.persona(np.zeros(2)).vector, index.mean_persona())


def test_bad_inputs_are_refused():
    empty = PersonaIndex.from_vectors(np.zeros((0, 4), dtype=np.float32))
    with pytest.raises(EmptyPersonaError, match="pushkin index"):
        empty.mean_persona()
    index = PersonaIndex.from_vectors(np.eye(4, dtype=np.float32))
    with pytest.raises(ValueError, match="length 3"):
        index.persona(np.ones(3))
    with pytest.raises(ValueError, match="top_k"):
        index.persona(np.ones(4), top_k=0)
    with pytest.raises(ValueError, match="temperature"):
        index.persona(np.ones(4), temperature=0)


@pytest.fixture(scope="module")
def author_store(tmp_path_factory, minilm):
    """The user's corpus (author A only, on the sea and on the garden), indexed for real."""
    folder = tmp_path_factory.mktemp("author")
    for i, text in enumerate(AUTHOR_A + AUTHOR_A_GARDEN):
        (folder / f"{i:02d}.txt").write_text(text, encoding="utf-8")
    store = PersonaStore(folder / "store.sqlite3")
    index_paths([folder], store=store, embedder=minilm, progress=False)
    yield folder, store
    store.close()


def test_an_unseen_paragraph_by_the_user_ranks_above_unrelated_text(author_store, minilm):
    _, store = author_store
    index = PersonaIndex.from_store(store)
    unseen, unrelated, generic = minilm.encode([AUTHOR_A_UNSEEN, UNRELATED, GENERIC])
    persona = index.mean_persona()
    assert cosine(unseen, persona) > cosine(unrelated, persona) + 0.2
    assert cosine(unseen, persona) > cosine(generic, persona) + 0.2
    # The unseen paragraph's attention lands on the user's sea paragraphs, not on the garden ones.
    attended = index.persona(unseen, top_k=4, temperature=0.05)
    texts = store.paragraph_texts(attended.paragraph_ids.tolist())
    top = texts[int(attended.paragraph_ids[0])]
    assert "father" in top or "grey water" in top or "серая вода" in top
    assert AUTHOR_A[9] != top  # the garden paragraph is not the best match


def test_the_context_persona_moves_toward_the_context(author_store, minilm):
    _, store = author_store
    index = PersonaIndex.from_store(store)
    unseen = minilm.encode([AUTHOR_A_UNSEEN])[0]
    # With the default top-k and temperature, over a corpus with two subjects.
    defaults = PersonaSettings()
    contextual = index.persona_for_text(AUTHOR_A_UNSEEN, minilm, top_k=defaults.top_k, temperature=defaults.temperature)
    assert cosine(contextual.vector, unseen) > cosine(index.mean_persona(), unseen) + 0.05
    # A garden context pulls the persona the other way.
    garden = index.persona_for_text("Rhubarb and potatoes in my mother's garden, kneeling in the earth.", minilm, top_k=2)
    assert cosine(garden.vector, unseen) < cosine(contextual.vector, unseen)


def test_indexing_the_new_paragraph_moves_the_mean_persona_toward_it(author_store, minilm):
    folder, store = author_store
    unseen = minilm.encode([AUTHOR_A_UNSEEN])[0]
    before = PersonaIndex.from_store(store).mean_persona()
    (folder / "new.txt").write_text(AUTHOR_A_UNSEEN, encoding="utf-8")
    report = index_paths([folder], store=store, embedder=minilm, progress=False)
    assert [p.rsplit("/", 1)[1] for p in report.indexed] == ["new.txt"]
    after = PersonaIndex.from_store(store).mean_persona()
    assert cosine(after, unseen) > cosine(before, unseen)
